// The cart: change quantities (0 removes a line), then check out everything in one payment.
import { api, announce, idempotencyKey, messages } from './api.js';

const t = messages();
const result = document.querySelector('.buy-result');
let key = idempotencyKey();

function say(text, ok) {
  if (!result) return;
  result.className = `buy-result alert ${ok ? 'ok' : 'error'}`;
  result.textContent = text;
  announce(text);
}

for (const input of document.querySelectorAll('.cart-line .qty')) {
  input.addEventListener('change', async () => {
    const line = input.closest('.cart-line');
    const quantity = Math.max(0, Math.min(99, Number(input.value) || 0));
    try {
      await api('PUT', `/api/v1/cart/lines/${encodeURIComponent(line.dataset.variant)}`, { quantity });
      location.reload();
    } catch (err) { say((err.problem && err.problem.detail) || t.failed, false); }
  });
}

const button = document.getElementById('checkout');
if (button) {
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const body = { return_url: `${location.origin}/orders` };
      const code = (document.getElementById('voucher-code')?.value || '').trim();
      if (code) body.voucher_code = code; // re-checked by checkout; a bad code answers with a problem
      const checkout = await api('POST', '/api/v1/cart/checkout', body, { 'Idempotency-Key': key });
      if (checkout.status === 'requires_action' && checkout.next_action) { location.assign(checkout.next_action.url); return; }
      say(t.ordered, checkout.status === 'paid');
      location.assign('/orders');
    } catch (err) {
      if (err.status && err.status < 500) key = idempotencyKey();
      say((err.problem && err.problem.detail) || t.failed, false);
      button.disabled = false;
    }
  });
}
