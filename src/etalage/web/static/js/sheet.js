// Dialogs over the feed: the product sheet (fetched server-rendered) and "Why am I seeing this?".
// Native <dialog>: modal, Esc closes it, focus returns to the button that opened it.
import { messages } from './api.js';
import { wireBuy } from './buy.js';

const t = messages();

function dialog(id) {
  const el = document.getElementById(id);
  if (el && !el.dataset.wired) {
    el.dataset.wired = '1';
    el.addEventListener('click', (event) => {
      if (event.target === el || event.target.closest('[data-close]')) el.close();  // backdrop or close button
    });
  }
  return el;
}

export async function openProduct(productId, context = {}) {
  const el = dialog('product-sheet');
  if (!el) return;
  const body = el.querySelector('.sheet-body');
  body.textContent = t.loading || '…';
  el.querySelector('h2').textContent = t.product || '';
  el.showModal();
  const params = new URLSearchParams(context);
  try {
    const resp = await fetch(`/p/${encodeURIComponent(productId)}/sheet?${params}`, { credentials: 'same-origin' });
    if (!resp.ok) throw new Error(String(resp.status));
    body.innerHTML = await resp.text();
  } catch (e) {
    body.textContent = t.unavailable || 'Unavailable';
    return;
  }
  const title = body.querySelector('[data-title]');
  if (title) el.querySelector('h2').textContent = title.dataset.title;
  wireBuy(body, context);
  const first = body.querySelector('input:not([disabled]), button');
  if (first) first.focus();
}

export function openWhy(clip, onNotInterested) {
  const el = dialog('why-sheet');
  const tpl = clip.querySelector('template.why');
  if (!el || !tpl) return;
  const body = el.querySelector('.sheet-body');
  body.replaceChildren(tpl.content.cloneNode(true));
  const button = body.querySelector('[data-not-interested]');
  if (button) button.addEventListener('click', () => { el.close(); onNotInterested(); });
  el.showModal();
}
