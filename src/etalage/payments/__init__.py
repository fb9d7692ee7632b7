"""Payments: the provider interface, the test PSP (a separate process), payment state, refunds, webhooks."""
