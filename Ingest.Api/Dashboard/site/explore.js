// Explore: /v1/events with every filter it has, a page at a time (keyset: each "Next page" passes the nextCursor the
// API gave), one event's whole JSON, a lookup by messageId, and the current filter exported as CSV.
import { $, fill, formatTime, h, utcInput } from './dom.js';
import { ApiError, describe, getBlob, getJson, query } from './api.js';
import { opensEvent, showEvent } from './ui.js';

let filter = null;  // the filter of the pages shown
let cursors = [];   // the cursor of each page shown after the first
let page = null;

function readFilter() {
  const form = $('#explore-form');
  const value = name => form.elements[name].value.trim();
  return {
    type: value('type'), event: value('event'), userId: value('userId'), anonymousId: value('anonymousId'),
    from: utcInput(value('from')), to: utcInput(value('to')), limit: value('limit'),
  };
}

function problem(error) {
  fill($('#explore-error'), describe(error));
}

async function load(cursor) {
  fill($('#explore-error'));
  try {
    page = await getJson(`/v1/events${query({ ...filter, cursor })}`);
  } catch (error) {
    problem(error);
    return;
  }
  fill($('#explore-table tbody'), page.events.map(event =>
    h('tr', { ...opensEvent(event), dataset: { messageId: event.messageId } },
      h('td', {}, formatTime(event.timestamp)),
      h('td', {}, event.type),
      h('td', { class: 'event-name' }, event.event ?? event.name ?? ''),
      h('td', {}, event.userId ?? ''),
      h('td', {}, event.anonymousId ?? ''),
      h('td', { class: 'mono' }, event.messageId))));
  const number = cursors.length + 1;
  $('#explore-page').textContent = page.events.length
    ? `Page ${number}: ${page.events.length} events, newest first${page.nextCursor ? '' : '; the last page'}.`
    : (number === 1 ? 'No events match.' : 'No more events.');
  $('#explore-next').disabled = !page.nextCursor;
  $('#explore-first').disabled = cursors.length === 0;
}

async function exportCsv() {
  fill($('#explore-error'));
  const current = filter ?? readFilter();
  try {
    // The whole filter, not the page: the API streams every matching row as CSV.
    const blob = await getBlob(`/v1/events${query({ ...current, limit: '' })}`, 'text/csv');
    const link = h('a', { href: URL.createObjectURL(blob), download: 'events.csv' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (error) {
    problem(error);
  }
}

async function lookUp(messageId) {
  fill($('#explore-error'));
  try {
    showEvent(await getJson(`/v1/events/${encodeURIComponent(messageId)}`));
  } catch (error) {
    problem(error instanceof ApiError && error.status === 404 ? new Error(`No stored event has messageId ${messageId}.`) : error);
  }
}

export default {
  init() {
    $('#explore-form').addEventListener('submit', event => {
      event.preventDefault();
      filter = readFilter();
      cursors = [];
      load();
    });
    $('#explore-next').addEventListener('click', () => { cursors.push(page.nextCursor); load(page.nextCursor); });
    $('#explore-first').addEventListener('click', () => { cursors = []; load(); });
    $('#explore-csv').addEventListener('click', exportCsv);
    $('#lookup-form').addEventListener('submit', event => {
      event.preventDefault();
      lookUp(event.target.elements.messageId.value.trim());
    });
  },
  start() {
    if (!filter) { filter = readFilter(); load(); }
  },
  stop() {},
  reset() {
    filter = null;
    cursors = [];
    fill($('#explore-table tbody'));
  },
};
