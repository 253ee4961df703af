// Live: the live tail (/v1/events/stream) as a table, newest first. The stream is read while the view is shown; left
// and come back to, it resumes from the last event id, so the API sends what was stored meanwhile (within its replay
// window). Paused, arriving events wait in memory and are shown, all of them, on resume.
import { $, fill, formatDuration, formatTime, h } from './dom.js';
import { ApiError, describe, serverSentEvents } from './api.js';
import { opensEvent } from './ui.js';

const keep = 1000;
let controller = null;
let lastEventId = null;
let paused = false;
let waiting = [];
let received = 0;
let connected = false;

function status(text) { $('#live-status').textContent = text; }

function matches(event, filter = $('#live-filter').value.trim().toLowerCase()) {
  return !filter || (event.event ?? event.name ?? event.type).toLowerCase().includes(filter);
}

function row(event) {
  const lag = Date.parse(event.storedAt) - Date.parse(event.receivedAt);
  const tr = h('tr', { ...opensEvent(event), dataset: { messageId: event.messageId } },
    h('td', {}, formatTime(event.storedAt)),
    h('td', {}, event.type),
    h('td', { class: 'event-name' }, event.event ?? event.name ?? ''),
    h('td', {}, event.userId ?? event.anonymousId ?? ''),
    h('td', { class: 'num lag' }, formatDuration(lag)),
    h('td', { class: 'mono' }, event.messageId));
  tr.hidden = !matches(event);
  tr.event = event;
  return tr;
}

function show(events) {
  const body = $('#live-table tbody');
  // Newest first: the batch reversed, in front of what is there.
  body.prepend(...events.slice().reverse().map(row));
  while (body.rows.length > keep) body.lastElementChild.remove();
}

function counters() {
  status(`${connected ? 'Connected' : 'Connecting…'} · ${received} received${paused ? ` · paused, ${waiting.length} waiting` : ''}`);
}

async function read() {
  controller = new AbortController();
  const { signal } = controller;
  while (!signal.aborted) {
    try {
      connected = false;
      counters();
      let batch = [];
      let flush = null;
      const onOpen = () => { connected = true; counters(); };
      for await (const message of serverSentEvents('/v1/events/stream', { lastEventId, signal, onOpen })) {
        lastEventId = message.id ?? lastEventId;
        received++;
        batch.push(JSON.parse(message.data));
        // One DOM update per burst, not per event.
        flush ??= setTimeout(() => {
          if (paused) waiting.push(...batch); else show(batch);
          batch = [];
          flush = null;
          counters();
        }, 50);
      }
    } catch (error) {
      connected = false;
      if (signal.aborted) return;
      const retryAfter = error instanceof ApiError && error.status === 429 ? 5 : 2;
      status(`Reconnecting in ${retryAfter} s: ${describe(error)}`);
      await new Promise(resolve => setTimeout(resolve, retryAfter * 1000));
      continue;
    }
    connected = false;
    if (!signal.aborted) status('The stream ended; reconnecting…');
    await new Promise(resolve => setTimeout(resolve, 1000));
  }
}

export default {
  init() {
    $('#live-pause').addEventListener('click', event => {
      paused = !paused;
      event.target.textContent = paused ? 'Resume' : 'Pause';
      event.target.setAttribute('aria-pressed', String(paused));
      if (!paused) { show(waiting); waiting = []; }
      counters();
    });
    $('#live-clear').addEventListener('click', () => { fill($('#live-table tbody')); waiting = []; received = 0; counters(); });
    $('#live-filter').addEventListener('input', () => {
      for (const tr of $('#live-table tbody').rows) tr.hidden = !matches(tr.event);
    });
  },
  start() { read(); },
  reset() {
    lastEventId = null;
    waiting = [];
    received = 0;
    fill($('#live-table tbody'));
  },
  stop() {
    controller?.abort();
    controller = null;
    connected = false;
  },
};
