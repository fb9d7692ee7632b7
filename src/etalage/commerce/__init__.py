"""Buying: launch regions and tax rules, addresses, carts, one-tap checkout, orders and their state machine."""
