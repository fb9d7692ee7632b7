// Interaction events, batched to POST /api/v1/events (schema: etalage.events.schemas). Flushed every few
// seconds, when the batch grows, and when the page is hidden or left (keepalive fetch, else sendBeacon).
import { csrfToken } from './api.js';

const ENDPOINT = '/api/v1/events';
const FLUSH_MS = 4000;
const MAX_BATCH = 50;
const queue = [];
let timer = null;
let seq = 0;
const sessionId = (() => {
  try {
    let id = sessionStorage.getItem('etalage.sid');
    if (!id) { id = 'w' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8); sessionStorage.setItem('etalage.sid', id); }
    return id;
  } catch (e) { return 'w' + Date.now().toString(36); }
})();
const enabled = Boolean(csrfToken);  // visitors are not tracked: the event log knows signed-in users only

export function track(type, fields = {}) {
  if (!enabled) return;
  seq += 1;
  queue.push({ type, event_id: `${sessionId}.${seq}`, occurred_at: new Date().toISOString(), session_id: sessionId, ...fields });
  if (queue.length >= MAX_BATCH) flush();
  else if (!timer) timer = setTimeout(flush, FLUSH_MS);
}

function body(events) {
  return JSON.stringify({ sent_at: new Date().toISOString(), platform: 'web', events });
}

export function flush(leaving = false) {
  if (timer) { clearTimeout(timer); timer = null; }
  if (!queue.length) return;
  const events = queue.splice(0, 500);
  const payload = body(events);
  const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken };
  try {
    const sent = fetch(ENDPOINT, { method: 'POST', headers, body: payload, credentials: 'same-origin', keepalive: leaving });
    sent.then((resp) => {
      if (resp.status >= 500 || resp.status === 429) queue.unshift(...events);  // retried: event ids dedupe
    }).catch(() => { if (!leaving) queue.unshift(...events); });
  } catch (e) {
    // keepalive refused (too large): the beacon carries the token in its body instead of a header
    navigator.sendBeacon(`${ENDPOINT}?csrf_token=${encodeURIComponent(csrfToken)}`, new Blob([payload], { type: 'application/json' }));
  }
}

addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flush(true); });
addEventListener('pagehide', () => flush(true));
export const eventsSession = sessionId;
