// Elements built from text only. No HTML string from anywhere reaches the DOM (no innerHTML), so every value of an
// event, which is user input, shows as text whatever it holds.

/** An element with attributes (on* as listeners, class, dataset) and children (nodes, or text for anything else). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...nodes(children));
  return element;
}

/** Replaces an element's children. */
export function fill(element, ...children) {
  element.replaceChildren(...nodes(children));
  return element;
}

/** Children as nodes: nodes as they are, anything else as text; undefined, null and false left out. */
const nodes = children => children.flat()
  .filter(child => child !== undefined && child !== null && child !== false)
  .map(child => (child instanceof Node ? child : String(child)));

export const $ = (selector, root = document) => root.querySelector(selector);

const number = new Intl.NumberFormat('en');
export const formatNumber = n => (n === null || n === undefined ? '–' : number.format(n));

/** An ISO instant as "2026-11-23 10:04:05" in UTC (the API's buckets are UTC). */
export function formatTime(iso, withSeconds = true) {
  if (!iso) return '';
  const text = new Date(iso).toISOString().replace('T', ' ');
  return withSeconds ? text.slice(0, 19) : text.slice(0, 16);
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

/** A datetime-local input's value, read as UTC, to ISO 8601; empty stays empty. */
export const utcInput = value => (value ? `${value.length === 16 ? `${value}:00` : value}Z` : '');
