"""The catalog's small reads that other domains make on hot paths (every checkout, every paid order).

- :func:`checkout_items` — the facts checkout re-validates: status, merchant, tax class, price in a region.
- :func:`category_slugs` — each product's category slug (the ledger's fee rate).
- :func:`variant_owner`, :func:`product_ids_of_merchant` — who owns what.
Statements are built once at import: they run per purchase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from etalage.catalog.models import Category, Product, Variant, VariantPrice

_v, _p, _vp = Variant.__table__.c, Product.__table__.c, VariantPrice.__table__.c
_CHECKOUT_ITEMS = (  # built once: it runs on every checkout
    select(
        _v.id,
        _v.product_id,
        _v.merchant_id,
        _v.sku,
        _v.options,
        _v.status,
        _p.title,
        _p.tax_class,
        _p.status,
        _vp.amount,
        _vp.currency,
    )
    .select_from(
        Variant.__table__.join(Product.__table__, _p.id == _v.product_id).outerjoin(
            VariantPrice.__table__, (_vp.variant_id == _v.id) & (_vp.region_code == bindparam("region"))
        )
    )
    .where(_v.id.in_(bindparam("variants", expanding=True)))
)


@dataclass(frozen=True)
class CheckoutItem:
    variant_id: str
    product_id: str
    merchant_id: str
    sku: str
    title: str
    options: dict[str, Any]
    tax_class: str
    product_status: str
    variant_status: str
    price_amount: int | None  # None: not sold in the region
    currency: str | None


def checkout_items(session: Session, variant_ids: list[str], region_code: str) -> dict[str, CheckoutItem]:
    """One query: what checkout must re-validate for each variant delivered into ``region_code``.

    Unknown variants are absent from the answer; the caller says which."""
    if not variant_ids:
        return {}
    rows = session.connection().execute(
        _CHECKOUT_ITEMS, {"variants": list(variant_ids), "region": region_code}
    )
    out = {}
    for vid, pid, mid, sku, options, vstatus, title, tax_class, pstatus, amount, currency in rows:
        out[vid] = CheckoutItem(
            vid, pid, mid, sku, title, options or {}, tax_class, pstatus, vstatus, amount, currency
        )
    return out


def product_ids_of_merchant(session: Session, merchant_id: str) -> list[str]:
    """Every product id of a merchant, any status (quality signals per shop)."""
    return list(session.scalars(select(Product.id).where(Product.merchant_id == merchant_id)))


def variant_owner(session: Session, variant_id: str) -> tuple[str, str] | None:
    """(product_id, merchant_id) of a variant, or None."""
    row = session.execute(
        select(Variant.product_id, Variant.merchant_id).where(Variant.id == variant_id)
    ).first()
    return (row[0], row[1]) if row else None


_c = Category.__table__.c
_CATEGORY_SLUGS = (
    select(_p.id, _c.slug)
    .select_from(Product.__table__.outerjoin(Category.__table__, _c.id == _p.category_id))
    .where(_p.id.in_(bindparam("products", expanding=True)))
)


def category_slugs(session: Session, product_ids: list[str]) -> dict[str, str | None]:
    """Each known product's category slug (None: uncategorised), in one query."""
    if not product_ids:
        return {}
    rows = session.connection().execute(_CATEGORY_SLUGS, {"products": sorted(set(product_ids))})
    return {pid: slug for pid, slug in rows}
