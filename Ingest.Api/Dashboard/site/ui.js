// What every view shows the same way: one event's JSON in the dialog, and a problem in the banner.
import { $, fill } from './dom.js';
import { describe } from './api.js';

/** One event's whole JSON in the dialog, as text. */
export function showEvent(event) {
  $('#event-dialog-title').textContent = `Event ${event.messageId}`;
  $('#event-json').textContent = JSON.stringify(event, null, 2);
  $('#event-dialog').showModal();
}

/** The attributes of a table row that opens its event's JSON, by click or by Enter (rows take the focus). */
export const opensEvent = event => ({
  tabindex: 0,
  onclick: () => showEvent(event),
  onkeydown: e => { if (e.key === 'Enter') showEvent(event); },
});

/** A problem over the current view, until the next navigation: the API's own words when it answered. */
export function showError(error) {
  const banner = $('#app-error');
  fill(banner, describe(error));
  banner.hidden = false;
}

export const hideError = () => { $('#app-error').hidden = true; };
