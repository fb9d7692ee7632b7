"""Catalog: products, variants (SKUs), media, categories, prices per region, full-text search."""
