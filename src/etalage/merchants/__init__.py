"""Merchants: trader details and their verification (DSA Art. 30), warehouses."""
