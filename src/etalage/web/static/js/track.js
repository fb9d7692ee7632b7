// Product taps on list pages (shop, search, profiles), reported like the feed's: the feed learns from them.
import { track } from './events.js';

const surface = document.body.dataset.surface || 'other';
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-product]');
  if (link) track('product_click', { product_id: link.dataset.product, surface });
});
