"""Reading products in bulk: four queries for any number of products, never one per product."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.catalog.models import Product, ProductMedia, Variant, VariantPrice
from etalage.catalog.schemas import MediaOut, ProductOut, RegionPrice, VariantOut
from etalage.config import get_settings
from etalage.core.money import Money

MEDIA_PREFIX = "/media/products"


def media_url(path: str) -> str:
    # path is "products/<product id>/<file>"; served by catalog.api's media route
    return f"{get_settings().media_base_url.rstrip('/')}/media/{path}"


def build_products(
    session: Session,
    products: Iterable[Product],
    *,
    region_code: str | None = None,
    available: dict[str, int] | None = None,
    public: bool = False,
) -> list[ProductOut]:
    """Products as API bodies. With ``region_code``, each variant carries its price and availability there;
    ``public`` hides archived variants."""
    products = list(products)
    ids = [p.id for p in products]
    if not ids:
        return []
    variants: dict[str, list[Variant]] = defaultdict(list)
    for v in session.scalars(
        select(Variant).where(Variant.product_id.in_(ids)).order_by(Variant.position, Variant.id)
    ):
        if public and v.status != "active":
            continue
        variants[v.product_id].append(v)
    variant_ids = [v.id for vs in variants.values() for v in vs]
    prices: dict[str, list[RegionPrice]] = defaultdict(list)
    if variant_ids:
        for vp in session.scalars(
            select(VariantPrice)
            .where(VariantPrice.variant_id.in_(variant_ids))
            .order_by(VariantPrice.region_code)
        ):
            prices[vp.variant_id].append(
                RegionPrice(region_code=vp.region_code, amount=vp.amount, currency=vp.currency)
            )
    media: dict[str, list[MediaOut]] = defaultdict(list)
    for m in session.scalars(
        select(ProductMedia)
        .where(ProductMedia.product_id.in_(ids))
        .order_by(ProductMedia.position, ProductMedia.id)
    ):
        media[m.product_id].append(
            MediaOut(id=m.id, url=media_url(m.path), width=m.width, height=m.height, alt=m.alt)
        )
    out = []
    for p in products:
        vouts = []
        for v in variants[p.id]:
            price = None
            if region_code is not None:
                here = next((x for x in prices[v.id] if x.region_code == region_code), None)
                price = Money(amount=here.amount, currency=here.currency) if here else None
            vouts.append(
                VariantOut(
                    id=v.id,
                    sku=v.sku,
                    options=v.options or {},
                    status=v.status,
                    prices=prices[v.id],
                    price=price,
                    available=(available or {}).get(v.id, 0) if available is not None else None,
                )
            )
        out.append(
            ProductOut(
                id=p.id,
                merchant_id=p.merchant_id,
                title=p.title,
                description=p.description,
                brand=p.brand,
                category_id=p.category_id,
                tax_class=p.tax_class,
                status=p.status,
                variants=vouts,
                media=media[p.id],
                created_at=p.created_at,
                updated_at=p.updated_at,
            )
        )
    return out


def existing_product_ids(session: Session, ids: set[str]) -> set[str]:
    """Of ``ids``, the products that exist (any status): what the event log asks before accepting an event
    that names a product."""
    if not ids:
        return set()
    return set(session.scalars(select(Product.id).where(Product.id.in_(ids))))


def existing_variant_ids(session: Session, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    return set(session.scalars(select(Variant.id).where(Variant.id.in_(ids))))
