// Buying from the product sheet: "Buy now" is one request to one-tap checkout (saved address and payment
// method) with an Idempotency-Key, so a double tap or a retry never orders twice; "Add to cart" for the rest.
import { api, announce, idempotencyKey, messages } from './api.js';
import { track } from './events.js';

const t = messages();

export function wireBuy(root, context = {}) {
  const form = root.querySelector('form.buy-form');
  if (!form) return;
  let key = idempotencyKey();  // one key per intent: kept across retries, renewed after success
  const result = root.querySelector('.buy-result');
  const say = (text, ok) => {
    if (!result) return;
    result.className = `buy-result alert ${ok ? 'ok' : 'error'}`;
    result.textContent = text;
    announce(text);
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const action = (event.submitter && event.submitter.value) || 'buy';
    const data = new FormData(form);
    const variant = data.get('variant_id');
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      if (action === 'cart') {
        await api('POST', form.dataset.cartUrl, { variant_id: variant, quantity: 1, ...attribution(context) });
        track('add_to_cart', { product_id: form.dataset.product, variant_id: variant, quantity: 1, ...context });
        say(t.added, true);
      } else {
        const order = await api('POST', form.dataset.buyUrl,
          { variant_id: variant, quantity: 1, ...attribution(context) }, { 'Idempotency-Key': key });
        key = idempotencyKey();
        const id = order && (order.id || (order.orders && order.orders[0] && order.orders[0].id));
        say(t.ordered, true);
        if (id && result) {
          const link = document.createElement('a');
          link.href = `/orders/${id}`;
          link.textContent = t.view_order;
          link.className = 'order-link';
          result.append(' ', link);
        }
      }
    } catch (err) {
      if (err.status === 401) { location.href = `/signin?next=${encodeURIComponent(location.pathname)}`; return; }
      say((err.problem && err.problem.detail) || t.failed, false);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
}

function attribution(context) {
  const out = {};
  if (context.video_id) out.video_id = context.video_id;
  if (context.live_room_id) out.live_room_id = context.live_room_id;
  return out;
}
