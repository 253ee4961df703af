// The events each client script sends, and the report it leaves for the test (Ingest.Tests/Integration/Clients).
// Every event carries the run's id and its own sequence number, so the test finds each one among the stored rows.
'use strict';
const diagnostics = require('node:diagnostics_channel');
const fs = require('node:fs');
const path = require('node:path');

const TRACKS = 200;
const IDENTIFIES = 3;
const PAGES = 3;

/** 200 track, 3 identify and 3 page calls, in that order, as an application would make them. */
exports.plan = (run) => {
  const events = [];
  for (let i = 0; i < TRACKS; i++)
    events.push({ type: 'track', message: { userId: `user-${i % 7}`, event: 'Client Event', properties: { run, seq: events.length, plan: 'pro' } } });
  for (let i = 0; i < IDENTIFIES; i++)
    events.push({ type: 'identify', message: { userId: `user-${i}`, traits: { run, seq: events.length, email: `user-${i}@example.com` } } });
  for (let i = 0; i < PAGES; i++)
    events.push({ type: 'page', message: { userId: `user-${i}`, name: 'Pricing', properties: { run, seq: events.length, path: '/pricing' } } });
  return events;
};

/** The settings every script takes from its environment: where the API is, the write key, the run id, where to report. */
exports.settings = () => {
  const read = (name) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  return { url: read('INGEST_URL'), writeKey: read('INGEST_WRITE_KEY'), run: read('INGEST_RUN'), report: read('INGEST_REPORT') };
};

/** The installed version of a package, from its package.json (which its "exports" may not let require() reach). */
exports.versionOf = (name) =>
  JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', ...name.split('/'), 'package.json'), 'utf8')).version;

/** The report the test reads: the library, what was sent, each HTTP request and its answer, each callback's error. */
exports.writeReport = (file, report) => fs.writeFileSync(file, JSON.stringify(report, null, 2));

/**
 * Each HTTP request the process makes, as Node's clients publish it on their diagnostics channels (node:http for
 * axios, undici for fetch): method, path, content type and encoding, and the answer's status and first bytes.
 * Watching changes nothing in the request.
 */
exports.watchHttp = () => {
  const requests = new Map();
  const answered = (record, status, body) => {
    record.status = status;
    body?.on('data', (chunk) => { if (record.answer.length < 2000) record.answer += chunk.toString('utf8'); });
  };
  diagnostics.subscribe('http.client.request.start', ({ request }) => requests.set(request, {
    method: request.method,
    path: request.path,
    contentType: request.getHeader('content-type') ?? null,
    contentEncoding: request.getHeader('content-encoding') ?? null,
    status: null,
    answer: '',
  }));
  diagnostics.subscribe('http.client.response.finish', ({ request, response }) => {
    const record = requests.get(request);
    if (record) answered(record, response.statusCode, response);
  });
  diagnostics.subscribe('undici:request:create', ({ request }) => {
    const header = (name) => {
      const h = request.headers;
      if (Array.isArray(h)) {
        for (let i = 0; i + 1 < h.length; i += 2) if (String(h[i]).toLowerCase() === name) return String(h[i + 1]);
        return null;
      }
      const line = String(h ?? '').split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`));
      return line ? line.slice(name.length + 1).trim() : null;
    };
    requests.set(request, {
      method: request.method,
      path: request.path,
      contentType: header('content-type'),
      contentEncoding: header('content-encoding'),
      status: null,
      answer: '(not read: fetch)',
    });
  });
  diagnostics.subscribe('undici:request:headers', ({ request, response }) => {
    const record = requests.get(request);
    if (record) record.status = response.statusCode;
  });
  return () => [...requests.values()];
};
