// Sends the planned events with RudderStack's Node SDK as its README shows: `new Analytics(writeKey, { dataPlaneUrl })`,
// every other setting left at its default (gzip, flushAt 20, flushInterval 10 s, path /v1/batch, 3 retries), then
// `flush()`.
'use strict';
const Analytics = require('@rudderstack/rudder-sdk-node');
const { plan, settings, versionOf, watchHttp, writeReport } = require('./events');

const { url, writeKey, run, report } = settings();
const requests = watchHttp();

// The flushes the SDK starts itself (the first event, then every flushAt) leave a refused request's rejection
// unhandled, which by default ends the process; the callbacks below still say what became of each event.
const unhandled = {};
const count = (message) => { unhandled[message] = (unhandled[message] ?? 0) + 1; };
process.on('unhandledRejection', (error) => count(String(error?.message ?? error)));

const client = new Analytics(writeKey, { dataPlaneUrl: url });
const events = plan(run);
// Each call's callback is the SDK's word on that event, once its batch was answered or given up on.
events.forEach((sent, i) => {
  sent.outcome = 'no callback';
  client[sent.type](sent.message, (error) => { events[i].outcome = error ? `error: ${error.message}` : 'sent'; });
});
client.flush().catch((error) => count(`flush: ${error.message}`));

// The process ends when the SDK has nothing left to send or retry, as an application's would.
process.on('exit', () => writeReport(report, {
  library: '@rudderstack/rudder-sdk-node',
  version: versionOf('@rudderstack/rudder-sdk-node'),
  defaults: { gzip: client.gzip, flushAt: client.flushAt, flushInterval: client.flushInterval, path: client.path },
  events,
  requests: requests(),
  unhandled,
}));
