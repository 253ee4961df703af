// Pipeline: the health of API, broker, worker and database (/v1/pipeline); the transaction log as a chart of the last
// hour (/v1/transactions/per-minute) and a table (/v1/transactions), failed attempts highlighted with their errors; the quarantine
// (/v1/quarantine) with a replay button per event, which then follows the event until it is stored; the privacy
// requests an admin key made (/v1/privacy/summary), failed ones highlighted with their reason. Refreshed every 10 s
// while shown.
import { $, fill, formatDuration, formatNumber, formatTime, h } from './dom.js';
import { ApiError, getJson, postJson, query } from './api.js';
import { chart, failureColour, legend, palette } from './charts.js';
import { showError } from './ui.js';

const refreshEvery = 10_000;
const minuteMs = 60_000;
let timer = null;
let txPlot = null;
let txPage = null;
let txPaged = false; // older pages loaded: the periodic refresh leaves the table alone
let committedIds = new Set(); // of the pages shown: a failed attempt's later commit is newer, so on this page or one before
let quarantinePage = null;

async function health() {
  const state = await getJson('/v1/pipeline');
  const parts = {
    api: [state.api.status, state.api.detail],
    broker: [state.broker.status, state.broker.status === 'up'
      ? `${formatNumber(state.broker.messages)} waiting in ${state.broker.queue}; ${formatNumber(state.broker.deadLetters)} dead-lettered. ${state.broker.detail}`
      : state.broker.detail],
    worker: [state.worker.status, state.worker.detail],
    database: [state.database.status, state.database.status === 'up'
      ? `${state.database.detail}; ${formatNumber(state.database.failedLastHour)} failed attempts in the last hour`
      : state.database.detail],
  };
  for (const [part, [status, detail]] of Object.entries(parts)) {
    const card = $(`#health-${part}`);
    card.dataset.status = status;
    $('.state', card).textContent = status;
    $('.detail', card).textContent = detail;
  }
  $('#health-checked').textContent = `Checked ${formatTime(state.checkedAt)} UTC.`;
}

/** The last hour per minute (/v1/transactions/per-minute): events stored, and failed attempts. */
async function lastHour() {
  const end = Math.ceil((Date.now() + 1) / minuteMs) * minuteMs;
  const from = end - 60 * minuteMs;
  const counts = await getJson(`/v1/transactions/per-minute${query({ from: new Date(from).toISOString(), to: new Date(end).toISOString() })}`);
  const x = Array.from({ length: 60 }, (_, i) => (from + i * minuteMs) / 1000);
  const events = x.map(() => 0);
  const failed = x.map(() => 0);
  for (const minute of counts.minutes) {
    const i = (Date.parse(minute.minute) - from) / minuteMs;
    if (i < 0 || i >= 60) continue;
    events[i] = minute.inserted;
    failed[i] = minute.failed;
  }
  const series = [
    { label: 'Events stored', colour: palette[0], values: events, scale: 'events' },
    { label: 'Failed attempts', colour: failureColour, kind: 'line', values: failed, scale: 'failed' },
  ];
  txPlot = chart($('#tx-chart'), txPlot, { x, series, height: 180 });
  legend($('#tx-legend'), series);
}

/**
 * A failed attempt of a transaction that later committed was retried. One with no commit yet is being retried: by the
 * worker, for as long as the failure lasts, or, once the worker released the batch, by RabbitMQ's next delivery.
 */
function statusText(row, committed) {
  if (row.status === 'committed') return row.attempt > 1 ? `committed at attempt ${row.attempt}` : 'committed';
  return committed.has(row.id) ? 'failed, then retried' : 'failed, retrying';
}

async function transactions(cursor) {
  const status = $('#tx-form').elements.status.value;
  txPage = await getJson(`/v1/transactions${query({ status, limit: 50, cursor })}`);
  if (!cursor) committedIds = new Set();
  for (const row of txPage.transactions) if (row.status === 'committed') committedIds.add(row.id);
  const rows = txPage.transactions.map(row => h('tr', { class: row.status === 'failed' ? 'failed' : '', dataset: { id: row.id, status: row.status } },
    h('td', {}, formatTime(row.startedAt)),
    h('td', {}, statusText(row, committedIds)),
    h('td', { class: 'num' }, row.attempt),
    h('td', { class: 'num' }, formatNumber(row.events)),
    h('td', { class: 'num' }, formatNumber(row.inserted)),
    h('td', { class: 'num' }, formatNumber(row.duplicates)),
    h('td', { class: 'num' }, formatNumber(row.quarantined)),
    h('td', { class: 'num' }, row.finishedAt ? formatDuration(Date.parse(row.finishedAt) - Date.parse(row.startedAt)) : ''),
    h('td', { class: 'mono' }, row.workerHost),
    h('td', { class: 'error-text' }, row.error ?? '')));
  if (cursor) $('#tx-table tbody').append(...rows); else fill($('#tx-table tbody'), rows);
  $('#tx-next').disabled = !txPage.nextCursor;
}

function quarantineState(row, status) {
  if (status === 'stored') return h('span', { class: 'badge ok' }, 'stored');
  if (row.replayedAt) return `replayed ${formatTime(row.replayedAt)}, not stored yet`;
  return 'waiting for replay';
}

/** Asks for the event until it is stored (a replay goes through the broker and the worker), once a second. */
async function follow(row, cell, tries = 60) {
  for (let i = 0; i < tries; i++) {
    try {
      const status = await getJson(`/v1/events/${encodeURIComponent(row.messageId)}`);
      if (status.status === 'stored') { fill(cell, quarantineState(row, 'stored')); cell.dataset.state = 'stored'; return; }
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
    if (i + 1 < tries) await new Promise(resolve => setTimeout(resolve, 1000));
  }
}

async function replay(row, button, cell) {
  button.disabled = true;
  try {
    const result = await postJson(`/v1/quarantine/${row.id}/replay`);
    row.replayedAt = result.replayedAt;
    fill(cell, quarantineState(row));
    $('#quarantine-status').textContent = `${row.messageId}: ${result.detail}`;
    await follow(row, cell);
  } catch (error) {
    button.disabled = false;
    showError(error);
  }
}

async function quarantine(cursor) {
  quarantinePage = await getJson(`/v1/quarantine${query({ limit: 25, cursor })}`);
  const rows = quarantinePage.quarantined.map(row => {
    const cell = h('td', { class: 'state', dataset: { state: row.replayedAt ? 'replayed' : 'waiting' } }, quarantineState(row));
    const button = h('button', { type: 'button', class: 'replay', disabled: !!row.replayedAt }, 'Replay');
    button.addEventListener('click', () => replay(row, button, cell));
    if (row.replayedAt) follow(row, cell, 1).catch(() => {});
    return h('tr', { dataset: { id: row.id, messageId: row.messageId } },
      h('td', {}, formatTime(row.quarantinedAt)),
      h('td', { class: 'mono' }, row.messageId),
      h('td', { class: 'error-text' }, row.reason),
      cell,
      h('td', {}, button));
  });
  if (cursor) $('#quarantine-table tbody').append(...rows); else fill($('#quarantine-table tbody'), rows);
  $('#quarantine-next').disabled = !quarantinePage.nextCursor;
  if (!cursor && rows.length === 0) $('#quarantine-status').textContent = 'Nothing is quarantined.';
}

/** A request's status; a failed one says so in the failure colour, a done one in the success colour. */
function privacyState(status) {
  if (status === 'done') return h('span', { class: 'badge ok' }, status);
  if (status === 'failed') return h('span', { class: 'badge failed' }, status);
  return status;
}

/**
 * Suppressed events and subjects, and the recent requests with their receipts (/v1/privacy/summary). The reason is
 * shown whatever the status: a pending or running request that has one is being retried after a failing step.
 */
async function privacy() {
  const summary = await getJson('/v1/privacy/summary');
  $('#privacy-suppressed-events').textContent = formatNumber(summary.suppressedEvents);
  $('#privacy-suppressed-subjects').textContent = formatNumber(summary.suppressedSubjects);
  fill($('#privacy-table tbody'), summary.requests.map(row => h('tr', { class: row.status === 'failed' ? 'failed' : '', dataset: { id: row.id, status: row.status } },
    h('td', {}, formatTime(row.requestedAt)),
    h('td', {}, row.type),
    h('td', { class: 'state' }, privacyState(row.status)),
    h('td', { class: 'num' }, formatNumber(row.subjects)),
    h('td', {}, formatTime(row.startedAt)),
    h('td', {}, formatTime(row.finishedAt)),
    h('td', { class: 'num' }, formatNumber(row.removed.events)),
    h('td', { class: 'num' }, formatNumber(row.removed.quarantinedEvents)),
    h('td', { class: 'num' }, formatNumber(row.removed.deadLetters)),
    h('td', { class: 'mono' }, row.key),
    h('td', { class: 'error-text' }, row.reason ?? ''))));
  $('#privacy-status').textContent = summary.requests.length ? '' : 'No privacy request in this source.';
}

async function refresh() {
  try {
    await Promise.all([health(), lastHour(), txPaged ? null : transactions(), privacy()]);
  } catch (error) {
    showError(error);
  }
}

export default {
  init() {
    const first = () => { txPaged = false; transactions().catch(showError); };
    $('#tx-form').addEventListener('submit', event => { event.preventDefault(); first(); });
    $('#tx-form').elements.status.addEventListener('change', first);
    $('#tx-next').addEventListener('click', () => { txPaged = true; transactions(txPage.nextCursor).catch(showError); });
    $('#quarantine-next').addEventListener('click', () => quarantine(quarantinePage.nextCursor).catch(showError));
  },
  start() {
    txPaged = false;
    refresh();
    quarantine().catch(showError);
    timer = setInterval(refresh, refreshEvery);
  },
  stop() {
    clearInterval(timer);
    timer = null;
  },
};
