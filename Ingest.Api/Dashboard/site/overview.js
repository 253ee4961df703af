// Overview: events per hour or day over a range, stacked by event name or of one name, with the counts by name in a
// table; distinct, new and all-time users per day. The figures are /v1/stats/events and /v1/stats/users, unchanged.
import { $, fill, formatNumber, formatTime, h } from './dom.js';
import { getJson, query } from './api.js';
import { chart, legend, palette } from './charts.js';
import { hideError, showError } from './ui.js';

const spans = { '24h': 24, '7d': 24 * 7, '30d': 24 * 30, '90d': 24 * 90 };
const hourMs = 3600 * 1000;
const shownNames = 7; // past these, the smaller names are drawn together as "other names"
let eventsPlot = null;
let usersPlot = null;
let loading = null;

const dayMs = 24 * hourMs;
const isoDay = ms => new Date(ms).toISOString().slice(0, 10);

/**
 * The range: a preset ends at the end of the current hour (or day), so the bucket now filling is in it; days of the
 * user's choice run from the first day's midnight to the midnight after the last, UTC.
 */
function range() {
  const preset = $('#overview-range').value;
  const custom = preset === 'custom';
  for (const label of document.querySelectorAll('.custom-range')) label.hidden = !custom;
  // Hourly buckets over 90 days would be 2,160 bars: that range is drawn per day.
  if (preset === '90d') $('#overview-interval').value = 'day';
  const interval = $('#overview-interval').value;
  const step = interval === 'day' ? dayMs : hourMs;
  if (custom) {
    if (!$('#overview-to').value) $('#overview-to').value = isoDay(Date.now());
    if (!$('#overview-from').value) $('#overview-from').value = isoDay(Date.now() - 6 * dayMs);
    const from = Date.parse(`${$('#overview-from').value}T00:00:00Z`);
    const to = Date.parse(`${$('#overview-to').value}T00:00:00Z`) + dayMs;
    return { interval, step, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  }
  const to = Math.ceil((Date.now() + 1) / step) * step;
  const from = to - spans[preset] * hourMs;
  return { interval, step, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

async function load() {
  loading?.abort();
  loading = new AbortController();
  const { signal } = loading;
  const { interval, step, from, to } = range();
  const eventName = $('#overview-event').value;
  try {
    const [events, users, all] = await Promise.all([
      getJson(`/v1/stats/events${query({ interval, from, to, event: eventName })}`, { signal }),
      // Users are counted per day: the range widened to whole days.
      getJson(`/v1/stats/users${query({ from: new Date(Math.floor(Date.parse(from) / dayMs) * dayMs).toISOString(), to })}`, { signal }),
      // The names for the picker, from the whole range, whichever name is picked.
      eventName ? getJson(`/v1/stats/events${query({ interval, from, to })}`, { signal }) : null,
    ]);
    hideError();
    $('#overview-range-text').textContent = `${formatTime(events.from, false)} to ${formatTime(events.to, false)} UTC, per ${interval}.`;
    names(all ?? events, eventName);
    drawEvents(events, step);
    drawUsers(users);
  } catch (error) {
    if (error.name !== 'AbortError') showError(error);
  }
}

/** The event picker: every name seen in the range, the picked one kept. */
function names(stats, picked) {
  const seen = [...new Set(stats.counts.map(c => c.event))].sort();
  if (picked && !seen.includes(picked)) seen.push(picked);
  fill($('#overview-event'),
    h('option', { value: '' }, 'All events, stacked'),
    seen.map(name => h('option', { value: name, selected: name === picked }, name)));
}

function drawEvents(stats, step) {
  const totals = new Map();
  for (const c of stats.counts) totals.set(c.event, (totals.get(c.event) ?? 0) + c.count);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const total = ranked.reduce((sum, [, n]) => sum + n, 0);
  $('#total-events').textContent = formatNumber(total);
  $('#total-names').textContent = formatNumber(ranked.length);
  fill($('#event-totals tbody'), ranked.map(([name, count]) =>
    h('tr', { dataset: { event: name } }, h('td', {}, name), h('td', { class: 'num' }, formatNumber(count)),
      h('td', { class: 'num' }, `${((100 * count) / total).toFixed(1)} %`))));

  // One bar per bucket of the range, empty buckets included.
  const first = Date.parse(stats.from) - (Date.parse(stats.from) % step);
  const x = [];
  for (let t = first; t < Date.parse(stats.to); t += step) x.push(t / 1000);
  const index = new Map(x.map((t, i) => [t, i]));
  const shown = ranked.slice(0, ranked.length > shownNames + 1 ? shownNames : ranked.length).map(([name]) => name);
  const series = shown.map((name, i) => ({ label: name, colour: palette[i], values: x.map(() => 0) }));
  if (ranked.length > shown.length) series.push({ label: `${ranked.length - shown.length} other names`, colour: '#999999', values: x.map(() => 0) });
  for (const c of stats.counts) {
    const i = index.get(Date.parse(c.bucket) / 1000);
    if (i === undefined) continue;
    const s = shown.indexOf(c.event);
    series[s < 0 ? series.length - 1 : s].values[i] += c.count;
  }
  eventsPlot = chart($('#events-chart'), eventsPlot, { x: total ? x : [], series, stacked: true });
  legend($('#events-legend'), series);
}

function drawUsers(stats) {
  const days = stats.days;
  $('#peak-users').textContent = formatNumber(Math.max(0, ...days.map(d => d.users)));
  $('#new-users').textContent = formatNumber(days.reduce((sum, d) => sum + d.newUsers, 0));
  $('#cumulative-users').textContent = formatNumber(days.at(-1)?.cumulativeUsers ?? 0);
  fill($('#user-days tbody'), days.map(d => h('tr', {}, h('td', {}, formatTime(d.day).slice(0, 10)),
    h('td', { class: 'num' }, formatNumber(d.users)), h('td', { class: 'num' }, formatNumber(d.newUsers)),
    h('td', { class: 'num' }, formatNumber(d.cumulativeUsers)))));
  const series = [
    { label: 'Users a day', colour: palette[0], kind: 'line', values: days.map(d => d.users) },
    { label: 'New users a day', colour: palette[1], kind: 'line', values: days.map(d => d.newUsers) },
  ];
  usersPlot = chart($('#users-chart'), usersPlot, { x: days.map(d => Date.parse(d.day) / 1000), series, height: 180 });
  legend($('#users-legend'), series);
}

export default {
  init() {
    $('#overview-form').addEventListener('submit', event => { event.preventDefault(); load(); });
    for (const id of ['#overview-range', '#overview-interval', '#overview-event', '#overview-from', '#overview-to']) $(id).addEventListener('change', load);
  },
  start() { load(); },
  stop() { loading?.abort(); },
};
