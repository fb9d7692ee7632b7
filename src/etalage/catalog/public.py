"""The shopper's view of the catalog: active products of verified traders, priced in the shopper's region."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from etalage.catalog import search
from etalage.catalog.models import Product, Variant, VariantPrice
from etalage.catalog.schemas import ProductOut
from etalage.catalog.views import build_products
from etalage.commerce.regions import is_region
from etalage.core.errors import InvalidInput, NotFound
from etalage.core.pagination import PageParams, decode_cursor, encode_cursor, paginate


def _availability(session: Session, products: list[ProductOut], region_code: str) -> list[ProductOut]:
    from etalage.inventory import service as inventory

    variant_ids = [v.id for p in products for v in p.variants]
    available = inventory.available_by_variant(session, variant_ids, region_code)
    for p in products:
        for v in p.variants:
            v.available = available.get(v.id, 0)
    return products


def _promotions(session: Session, products: list[ProductOut], region_code: str) -> list[ProductOut]:
    """A running flash sale's price, and where a price is reduced the regular one and (EU) the lowest of
    the previous 30 days, from promotions."""
    from etalage.core.money import Money
    from etalage.promotions import prices

    regular = {v.id: (v.price.amount, v.price.currency) for p in products for v in p.variants if v.price}
    facts = prices.price_facts(session, region_code, regular)  # type: ignore[arg-type]
    for p in products:
        for v in p.variants:
            f = facts.get(v.id)
            if f is None or not f.reduced or f.price is None or f.currency is None:
                continue
            v.price = Money(amount=f.price, currency=f.currency)
            v.regular_price = Money(amount=f.regular, currency=f.currency) if f.regular is not None else None
            if f.lowest_30d is not None:
                v.lowest_price_30d = Money(amount=f.lowest_30d, currency=f.currency)
            if f.sale is not None:
                v.sale_ends_at, v.sale_left = f.sale.ends_at, max(0, f.sale.quantity - f.sale.sold)
    return products


def _visible(region_code: str, verified: set[str]):  # type: ignore[no-untyped-def]
    priced = exists().where(
        Variant.product_id == Product.id,
        Variant.status == "active",
        VariantPrice.variant_id == Variant.id,
        VariantPrice.region_code == region_code,
    )
    return (Product.status == "active") & Product.merchant_id.in_(sorted(verified)) & priced


def list_products(
    session: Session,
    region_code: str,
    params: PageParams,
    *,
    q: str | None = None,
    category_id: str | None = None,
    merchant_id: str | None = None,
) -> tuple[list[ProductOut], str | None]:
    from etalage.merchants import service as merchants

    if not is_region(region_code):
        raise InvalidInput(f"Etalage does not sell in region {region_code}.", field="region")
    verified = merchants.verified_merchant_ids(session)
    if not verified:
        return [], None
    stmt = select(Product).where(_visible(region_code, verified))
    if category_id:
        stmt = stmt.where(Product.category_id == category_id)
    if merchant_id:
        stmt = stmt.where(Product.merchant_id == merchant_id)
    if q:
        ranked = search.search_product_ids(session, q)
        offset = int(decode_cursor(params.cursor)[0]) if params.cursor else 0
        by_id = {p.id: p for p in session.scalars(stmt.where(Product.id.in_(ranked)))}
        hits = [by_id[i] for i in ranked if i in by_id]
        page = hits[offset : offset + params.limit]
        cursor = encode_cursor(offset + params.limit) if offset + params.limit < len(hits) else None
        rows = page
    else:
        rows, cursor = paginate(session, stmt, Product.id, params)
    products = build_products(session, rows, region_code=region_code, public=True)
    products = [p for p in products if any(v.price is not None for v in p.variants)]
    return _availability(session, _promotions(session, products, region_code), region_code), cursor


def get_product(session: Session, product_id: str, region_code: str) -> ProductOut:
    from etalage.merchants import service as merchants

    if not is_region(region_code):
        raise InvalidInput(f"Etalage does not sell in region {region_code}.", field="region")
    product = session.get(Product, product_id)
    if (
        product is None
        or product.status != "active"
        or not merchants.verified_merchant_ids(session, [product.merchant_id])
    ):
        raise NotFound(f"No product {product_id} on sale.")
    out = build_products(session, [product], region_code=region_code, public=True)[0]
    return _availability(session, _promotions(session, [out], region_code), region_code)[0]
