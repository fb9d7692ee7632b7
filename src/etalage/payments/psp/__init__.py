"""The test PSP: a small payment service provider that runs as its own process (``etalage payments psp``).

It behaves like a real one where Etalage can tell: bearer-key API, idempotency keys, card tokens (it keeps
the card numbers, Etalage never sees them), authorise/capture/cancel/refund, 3-D Secure and bank-redirect
approvals, slow answers, and HMAC-signed webhooks delivered in batches with retries and backoff.
"""
