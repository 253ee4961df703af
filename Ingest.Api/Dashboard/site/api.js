// The read API, called with the read key as a Bearer token. The key lives in this tab's session storage only: never
// in a URL, a cookie or local storage.

const storageKey = 'ingest.readKey';

export const session = {
  get key() { return sessionStorage.getItem(storageKey); },
  set key(value) { sessionStorage.setItem(storageKey, value); },
  clear() { sessionStorage.removeItem(storageKey); },
};

/** A refused request, with the problem details the API answered (title, detail, and errors by parameter). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  /** One line per problem: the title, then each parameter's error, as the API words them. */
  get lines() {
    const errors = Object.values(this.problem.errors || {}).flat();
    return errors.length ? errors : [this.problem.title ? `${this.problem.title}: ${this.problem.detail || ''}` : this.message];
  }

  static async from(response) {
    let problem = {};
    try { problem = await response.json(); } catch { problem = { title: `HTTP ${response.status}` }; }
    return new ApiError(response.status, problem);
  }
}

/** Called when the key stops working (revoked, or the source deleted): app.js signs out. */
let onUnauthorized = () => {};
export const whenUnauthorized = handler => { onUnauthorized = handler; };

/** An error in words for the page: the API's own when it answered. */
export const describe = error => (error instanceof ApiError ? error.lines.join(' ') : `${error.message || error}`);

async function send(path, { method = 'GET', accept = 'application/json', headers = {}, key, signal } = {}) {
  const response = await fetch(path, {
    method, headers: { Authorization: `Bearer ${key ?? session.key}`, Accept: accept, ...headers }, signal, cache: 'no-store',
  });
  if (!response.ok) {
    const error = await ApiError.from(response);
    if (response.status === 401 && key === undefined) onUnauthorized(error);
    throw error;
  }
  return response;
}

export const getJson = async (path, options) => (await send(path, options)).json();
export const postJson = async (path, options) => (await send(path, { ...options, method: 'POST' })).json();
export const getBlob = async (path, accept, options) => (await send(path, { ...options, accept })).blob();

/** "?a=1&b=2" of the parameters that have a value. */
export function query(parameters) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value !== '' && value !== null && value !== undefined) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Server-Sent Events read with fetch, since EventSource cannot send an Authorization header. Yields { id, event, data }
 * until the stream ends; resumes after lastEventId when given. onOpen runs once the API has answered 200, which it
 * does only after the client joined the feed: whatever commits from then on is in the stream.
 */
export async function* serverSentEvents(path, { lastEventId, signal, onOpen = () => {} } = {}) {
  const headers = lastEventId ? { 'Last-Event-ID': lastEventId } : {};
  const response = await send(path, { accept: 'text/event-stream', headers, signal });
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll('\r\n', '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message = { id: null, event: 'message', data: [] };
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? '' : line.slice(colon + 1);
        if (text.startsWith(' ')) text = text.slice(1);
        if (field === 'id') message.id = text;
        else if (field === 'event') message.event = text;
        else if (field === 'data') message.data.push(text);
      }
      if (message.data.length) yield { id: message.id, event: message.event, data: message.data.join('\n') };
    }
  }
}
