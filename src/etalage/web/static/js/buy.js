// Buying from the product sheet: "Buy now" is one request to one-tap checkout (saved address and payment
// method) with an Idempotency-Key, so a double tap or a retry never orders twice; "Add to cart" for the rest.
import { api, announce, idempotencyKey, messages } from './api.js';
import { track } from './events.js';

const t = messages();

function source(context) {
  if (context.live_room_id) return { live_room_id: context.live_room_id };
  if (context.video_id) return { video_id: context.video_id };
  return undefined;
}

function orderLink(result, orderId) {
  const link = document.createElement('a');
  link.href = `/orders/${orderId}`;
  link.textContent = t.view_order;
  link.className = 'order-link';
  result.append(' ', link);
}

async function settle(checkout) {
  // 202: the payment is processing, or waits for the shopper (3-D Secure / bank approval)
  if (checkout.status === 'requires_action' && checkout.next_action && checkout.next_action.url) {
    location.assign(checkout.next_action.url);
    return null;
  }
  for (let i = 0; checkout.status === 'processing' && i < 10; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 700));
    checkout = await api('GET', `/api/v1/checkouts/${checkout.checkout_id}`);
  }
  return checkout;
}

export function wireBuy(root, context = {}) {
  const form = root.querySelector('form.buy-form');
  if (!form) return;
  const result = root.querySelector('.buy-result');
  const say = (text, ok) => {
    result.className = `buy-result alert ${ok ? 'ok' : 'error'}`;
    result.textContent = text;
    announce(text);
  };
  form.addEventListener('change', (event) => {  // another variant: its price and stock
    const input = event.target;
    if (input.name !== 'variant_id') return;
    const price = root.querySelector('[data-price]:not(input)');
    const stock = root.querySelector('[data-stock]:not(input)');
    if (price) price.textContent = input.dataset.price;
    if (stock) { stock.textContent = input.dataset.stock; stock.classList.toggle('low', input.hasAttribute('data-low')); }
  });
  let key = idempotencyKey();  // one key per intent: kept across retries of it, renewed after it succeeds
  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy || !form.dataset.buyUrl) return;
    const action = (event.submitter && event.submitter.value) || 'buy';
    const input = form.querySelector('input[name=variant_id]:checked');
    if (!input) return;
    const variant = input.value;
    busy = true;
    form.setAttribute('aria-busy', 'true');
    try {
      if (action === 'cart') {
        const quantity = Number(input.dataset.inCart || 0) + 1;
        await api('PUT', form.dataset.cartUrl + encodeURIComponent(variant), { quantity, source: source(context) });
        input.dataset.inCart = String(quantity);
        track('add_to_cart', { product_id: form.dataset.product, variant_id: variant, quantity: 1, ...context });
        say(t.added, true);
      } else {
        const body = { variant_id: variant, quantity: 1, expected_unit_amount: Number(input.dataset.amount),
          source: source(context), return_url: `${location.origin}/orders` };
        let checkout = await api('POST', form.dataset.buyUrl, body, { 'Idempotency-Key': key });
        checkout = await settle(checkout);
        if (!checkout) return;
        if (checkout.status !== 'paid') { say(t.failed, false); return; }
        key = idempotencyKey();
        say(t.ordered, true);
        if (checkout.orders && checkout.orders[0]) orderLink(result, checkout.orders[0].id);
      }
    } catch (err) {
      if (err.status === 401) { location.assign(`/signin?next=${encodeURIComponent(location.pathname)}`); return; }
      // a definite answer (4xx) ends this attempt; after a network error or 5xx the outcome is unknown,
      // so a retry reuses the key and cannot order twice
      if (err.status && err.status < 500) key = idempotencyKey();
      say((err.problem && err.problem.detail) || t.failed, false);
    } finally {
      busy = false;
      form.removeAttribute('aria-busy');
    }
  });
}
