"""Inventory: stock per SKU and warehouse, reservations with expiry, the append-only stock ledger."""
