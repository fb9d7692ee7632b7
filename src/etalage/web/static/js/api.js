// Talking to the JSON API from a page: the session cookie plus the CSRF token the page carries.
const meta = document.querySelector('meta[name="csrf-token"]');
export const csrfToken = meta ? meta.content : null;

export function idempotencyKey() {
  return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
}

export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (csrfToken && method !== 'GET') init.headers['X-CSRF-Token'] = csrfToken;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  let data = null;
  if (resp.status !== 204) {
    try { data = await resp.json(); } catch (e) { data = null; }
  }
  if (!resp.ok) {
    const err = new Error((data && (data.detail || data.title)) || resp.statusText);
    err.status = resp.status;
    err.problem = data;
    throw err;
  }
  return data;
}

// Strings the server translated for this page's scripts (a JSON block, allowed by the CSP).
export function messages() {
  const el = document.getElementById('i18n');
  return el ? JSON.parse(el.textContent) : {};
}

export function announce(text) {
  const live = document.getElementById('live-status');
  if (live) { live.textContent = ''; setTimeout(() => { live.textContent = text; }, 30); }
}
