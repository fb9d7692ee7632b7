"""Merchants' outbound webhooks: endpoints, an outbox written with the change, signed delivery with retries."""
