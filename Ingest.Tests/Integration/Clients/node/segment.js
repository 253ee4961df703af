// Sends the planned events with Segment's Node library as its README shows: `new Analytics({ writeKey, host })`, every
// other setting left at its default (batches of 15 to /v1/batch, flushInterval 10 s, no compression, 10 retries),
// then `closeAndFlush()`.
'use strict';
const { Analytics } = require('@segment/analytics-node');
const { plan, settings, versionOf, watchHttp, writeReport } = require('./events');

const { url, writeKey, run, report } = settings();
const requests = watchHttp();

const analytics = new Analytics({ writeKey, host: url });
const events = plan(run);
// Each call's callback is the library's word on that event, once its batch was answered or given up on.
events.forEach((sent, i) => {
  sent.outcome = 'no callback';
  analytics[sent.type](sent.message, (error) => { events[i].outcome = error ? `error: ${error.message ?? error.reason ?? error}` : 'sent'; });
});

analytics.closeAndFlush().finally(() => writeReport(report, {
  library: '@segment/analytics-node',
  version: versionOf('@segment/analytics-node'),
  defaults: {},
  events,
  requests: requests(),
  unhandled: {},
}));
