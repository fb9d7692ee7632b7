// Interaction events, batched to POST /api/v1/events (schema: etalage.events.schemas). Flushed every few
// seconds, when the batch grows, and with navigator.sendBeacon when the page is hidden or left.
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
const pageId = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);  // event ids: unique per load
const enabled = Boolean(csrfToken);  // visitors are not tracked: the event log knows signed-in users only

export function track(type, fields = {}) {
  if (!enabled) return;
  seq += 1;
  queue.push({ type, event_id: `${sessionId}.${pageId}.${seq}`, occurred_at: new Date().toISOString(), session_id: sessionId, ...fields });
  if (queue.length >= MAX_BATCH) flush();
  else if (!timer) timer = setTimeout(flush, FLUSH_MS);
}

function body(events) {
  return JSON.stringify({ sent_at: new Date().toISOString(), platform: 'web', events });
}

const leaveHooks = [];
// Run ``fn`` when the page is being left, just before the last batch goes (e.g. to end a view).
export function onLeave(fn) { leaveHooks.push(fn); }

export function flush(leaving = false) {
  if (leaving) leaveHooks.forEach((fn) => { try { fn(); } catch (e) { /* keep flushing */ } });
  if (timer) { clearTimeout(timer); timer = null; }
  if (!queue.length) return;
  const events = queue.splice(0, 500);
  const payload = body(events);
  if (leaving && navigator.sendBeacon) {
    // the page is going away: the beacon survives it, and carries the CSRF token in its URL
    const url = `${ENDPOINT}?csrf_token=${encodeURIComponent(csrfToken)}`;
    if (navigator.sendBeacon(url, new Blob([payload], { type: 'application/json' }))) return;
  }
  const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken };
  // keepalive: a batch in flight when the shopper navigates away still arrives (the limit is 64 KB)
  const keepalive = payload.length < 60000;
  fetch(ENDPOINT, { method: 'POST', headers, body: payload, credentials: 'same-origin', keepalive })
    .then((resp) => {
      if (resp.status >= 500 || resp.status === 429) requeue(events);  // retried: event ids dedupe
    })
    .catch(() => requeue(events));
}

function requeue(events) {
  if (queue.length < 1000) queue.unshift(...events);
  if (!timer) timer = setTimeout(flush, FLUSH_MS * 2);
}

addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flush(true); });
addEventListener('pagehide', () => flush(true));
export const eventsSession = sessionId;
