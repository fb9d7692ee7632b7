"""After the sale: shipments with carrier and tracking, delivery, the platform's own fulfilment centres,
returns within the region's window, and the refunds and restocking they lead to."""
