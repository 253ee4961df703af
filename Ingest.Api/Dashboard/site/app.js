// The dashboard's shell: sign-in with a read key, the source's name, and the four views, one shown at a time by the
// URL's hash (#overview, #live, #explore, #pipeline). A view is { start(), stop() }: started when shown, stopped when
// left, so only the view on screen asks the API anything.
import { $ } from './dom.js';
import { ApiError, describe, getJson, session, whenUnauthorized } from './api.js';
import { hideError } from './ui.js';
import overview from './overview.js';
import live from './live.js';
import explore from './explore.js';
import pipeline from './pipeline.js';

const views = { overview, live, explore, pipeline };
let current = null;

/** What a refused key means, in words a user can act on. */
function refusal(error) {
  if (!(error instanceof ApiError)) return `The API cannot be reached: ${error.message}`;
  switch (error.status) {
    case 403: return 'This is a write key. The dashboard needs a read key of the same source (Ingest.Worker key create <source> read).';
    case 401: return 'This read key is not known, or was revoked.';
    case 503: return 'The API has not loaded its keys yet, or the database is down: try again in a few seconds.';
    default: return describe(error);
  }
}

async function signIn(key) {
  const source = await getJson('/v1/source', { key });
  session.key = key;
  $('#source-name').textContent = source.name;
  $('#source-id').textContent = source.name === source.id ? '' : `(${source.id})`;
  $('#sign-in').hidden = true;
  $('#app').hidden = false;
  route();
}

function signOut(message = '') {
  current?.stop();
  current = null;
  for (const module of Object.values(views)) module.reset?.();
  session.clear();
  $('#app').hidden = true;
  $('#sign-in').hidden = false;
  $('#sign-in-error').textContent = message;
  $('#read-key').value = '';
  $('#read-key').focus();
}

function route() {
  if ($('#app').hidden) return;
  const name = views[location.hash.slice(1)] ? location.hash.slice(1) : 'overview';
  current?.stop();
  hideError();
  for (const [view, module] of Object.entries(views)) {
    $(`#view-${view}`).hidden = view !== name;
    const link = $(`nav a[data-view="${view}"]`);
    if (view === name) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
    if (view === name) current = module;
  }
  current.start();
}

$('#sign-in-form').addEventListener('submit', async event => {
  event.preventDefault();
  const key = $('#read-key').value.trim();
  $('#sign-in-error').textContent = '';
  try {
    await signIn(key);
  } catch (error) {
    $('#sign-in-error').textContent = refusal(error);
  }
});
$('#sign-out').addEventListener('click', () => signOut());
$('#event-dialog-close').addEventListener('click', () => $('#event-dialog').close());
window.addEventListener('hashchange', route);
whenUnauthorized(error => signOut(`Signed out: ${refusal(error)}`));

for (const module of Object.values(views)) module.init?.();

if (session.key) {
  signIn(session.key).catch(error => signOut(refusal(error)));
} else {
  signOut();
}

