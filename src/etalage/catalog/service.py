"""Catalog logic: products, variants, prices per region, categories; and what other domains ask of it.

For other domains (documented interfaces):
- :func:`get_products` — products by id, any status, with variants, prices and media.
- :func:`sellable_product_ids` — what a shopper in a region can buy right now.
- ``catalog.lookups`` — the small reads other domains make on every purchase (checkout items, owners).
- :func:`moderate_product` — block / unblock a product (moderators; compliance enacts decisions with it).
Bus event ``catalog.product.changed`` ``{"product_id": ...}`` is published after every committed change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant, require_scope
from etalage.catalog import search
from etalage.catalog.models import Category, Product, Variant, VariantPrice
from etalage.catalog.schemas import ProductOut
from etalage.catalog.views import build_products
from etalage.commerce.regions import currency_of, is_region
from etalage.core import bus
from etalage.core.errors import Conflict, InvalidInput, NotFound
from etalage.core.pagination import PageParams, paginate
from etalage.db import new_id, utcnow

PRODUCT_CHANGED = "catalog.product.changed"


def _changed(session: Session, product_id: str) -> None:
    bus.publish(session, PRODUCT_CHANGED, {"product_id": product_id})


def _price_history(
    session: Session, variant_id: str, region: str, amount: int | None, currency: str, actor: str = "system"
) -> None:
    """Every regular price change is kept by promotions (EU prior-price statements need 30 days of it)."""
    from etalage.promotions import prices  # promotions reads the catalog, so imported lazily

    prices.record_price(session, variant_id, region, amount, currency, actor=actor)


def _check_price(region_code: str, currency: str | None) -> str:
    if not is_region(region_code):
        raise InvalidInput(f"Etalage does not sell in region {region_code}.", field="region_code")
    expected = currency_of(region_code)
    if currency is not None and currency != expected:
        raise InvalidInput(f"Prices in {region_code} are in {expected}, not {currency}.", field="currency")
    return expected


def _check_category(session: Session, category_id: str | None) -> None:
    if category_id is not None and session.get(Category, category_id) is None:
        raise InvalidInput(f"No category {category_id}; see GET /api/v1/categories.", field="category_id")


# --- categories ------------------------------------------------------------------------------------------


def list_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.position, Category.name)))


def create_category(
    session: Session, principal: Principal, slug: str, name: str, parent_id: str | None
) -> Category:
    require_scope(principal, "admin")
    _check_category(session, parent_id)
    if session.scalar(select(Category.id).where(Category.slug == slug)):
        raise Conflict(f"A category with slug '{slug}' exists.", field="slug")
    category = Category(slug=slug, name=name, parent_id=parent_id)
    session.add(category)
    return category


# --- products and variants (merchant side) -----------------------------------------------------------------


def _own_product(
    session: Session, principal: Principal, merchant_id: str, product_id: str, *, write: bool
) -> Product:
    require_merchant(principal, merchant_id, write=write)
    product = session.get(Product, product_id)
    if product is None or product.merchant_id != merchant_id:
        raise NotFound(f"No product {product_id}.")
    return product


def _own_variant(session: Session, principal: Principal, merchant_id: str, variant_id: str) -> Variant:
    require_merchant(principal, merchant_id, write=True)
    variant = session.get(Variant, variant_id)
    if variant is None or variant.merchant_id != merchant_id:
        raise NotFound(f"No variant {variant_id}.")
    return variant


def _insert_variants(
    session: Session, merchant_id: str, product_id: str, variants: list[dict[str, Any]], start: int
) -> None:
    now = utcnow()
    rows, prices = [], []
    for i, v in enumerate(variants):
        vid = new_id("var")
        rows.append(
            dict(
                id=vid,
                product_id=product_id,
                merchant_id=merchant_id,
                sku=v["sku"],
                options=v.get("options") or {},
                status="active",
                position=start + i,
                created_at=now,
            )
        )
        for p in v.get("prices") or []:
            currency = _check_price(p["region_code"], p.get("currency"))
            prices.append(
                dict(
                    variant_id=vid,
                    region_code=p["region_code"],
                    amount=p["amount"],
                    currency=currency,
                    updated_at=now,
                )
            )
    if len({(p["variant_id"], p["region_code"]) for p in prices}) != len(prices):
        raise InvalidInput("A variant has two prices for the same region.", field="prices")
    try:
        with session.begin_nested():
            session.execute(insert(Variant), rows)
            if prices:
                session.execute(insert(VariantPrice), prices)
    except IntegrityError as exc:
        raise Conflict("One of these SKUs is already used by another of your variants.", field="sku") from exc
    for p in prices:
        _price_history(session, p["variant_id"], p["region_code"], p["amount"], p["currency"])


def _require_sellable_shape(session: Session, product: Product) -> None:
    priced = session.scalar(
        select(Variant.id)
        .join(VariantPrice, VariantPrice.variant_id == Variant.id)
        .where(Variant.product_id == product.id, Variant.status == "active")
        .limit(1)
    )
    if priced is None:
        raise Conflict("A product needs at least one active variant with a price before it can be active.")


def create_product(session: Session, principal: Principal, merchant_id: str, data: dict[str, Any]) -> Product:
    require_merchant(principal, merchant_id, write=True)
    _check_category(session, data.get("category_id"))
    variants = data.pop("variants")
    product = Product(id=new_id("prd"), merchant_id=merchant_id, **data)
    session.add(product)
    session.flush()
    _insert_variants(session, merchant_id, product.id, variants, 0)
    if product.status == "active":
        _require_sellable_shape(session, product)
    search.index_products(session, [product.id])
    _changed(session, product.id)
    return product


def update_product(
    session: Session, principal: Principal, merchant_id: str, product_id: str, changes: dict[str, Any]
) -> Product:
    product = _own_product(session, principal, merchant_id, product_id, write=True)
    if product.status == "blocked" and changes.get("status") is not None:
        raise Conflict(
            "A moderation decision blocked this product; its statement of reasons and the appeal are at "
            "GET /api/v1/me/decisions.",
            status_now="blocked",
        )
    if "category_id" in changes:
        _check_category(session, changes["category_id"])
    for key, value in changes.items():
        if value is not None or key in ("brand", "category_id"):
            setattr(product, key, value)
    if changes.get("status") == "active":
        session.flush()
        _require_sellable_shape(session, product)
    product.updated_at = utcnow()
    session.flush()
    search.index_products(session, [product.id])
    _changed(session, product.id)
    return product


def add_variants(
    session: Session, principal: Principal, merchant_id: str, product_id: str, variants: list[dict[str, Any]]
) -> Product:
    product = _own_product(session, principal, merchant_id, product_id, write=True)
    count = len(session.scalars(select(Variant.id).where(Variant.product_id == product_id)).all())
    if count + len(variants) > 100:
        raise InvalidInput("A product has at most 100 variants.")
    _insert_variants(session, merchant_id, product_id, variants, count)
    product.updated_at = utcnow()
    search.index_products(session, [product.id])
    _changed(session, product.id)
    return product


def update_variant(
    session: Session, principal: Principal, merchant_id: str, variant_id: str, changes: dict[str, Any]
) -> Variant:
    variant = _own_variant(session, principal, merchant_id, variant_id)
    for key, value in changes.items():
        if value is not None:
            setattr(variant, key, value)
    search.index_products(session, [variant.product_id])
    _changed(session, variant.product_id)
    return variant


def set_price(
    session: Session,
    principal: Principal,
    merchant_id: str,
    variant_id: str,
    region_code: str,
    amount: int,
    currency: str | None,
) -> VariantPrice:
    variant = _own_variant(session, principal, merchant_id, variant_id)
    currency = _check_price(region_code, currency)
    price = session.get(VariantPrice, (variant_id, region_code))
    if price is None:
        price = VariantPrice(variant_id=variant_id, region_code=region_code, amount=amount, currency=currency)
        session.add(price)
    elif (price.amount, price.currency) == (amount, currency):
        _changed(session, variant.product_id)
        return price  # unchanged: nothing for the price history
    else:
        price.amount, price.currency, price.updated_at = amount, currency, utcnow()
    _price_history(session, variant_id, region_code, amount, currency, principal.user_id)
    _changed(session, variant.product_id)
    return price


def remove_price(
    session: Session, principal: Principal, merchant_id: str, variant_id: str, region_code: str
) -> None:
    variant = _own_variant(session, principal, merchant_id, variant_id)
    price = session.get(VariantPrice, (variant_id, region_code))
    if price is None:
        raise NotFound(f"Variant {variant_id} has no price in {region_code}.")
    session.delete(price)
    _price_history(session, variant_id, region_code, None, price.currency, principal.user_id)
    _changed(session, variant.product_id)


def list_merchant_products(
    session: Session, principal: Principal, merchant_id: str, params: PageParams, status: str | None = None
) -> tuple[list[ProductOut], str | None]:
    require_merchant(principal, merchant_id)
    stmt = select(Product).where(Product.merchant_id == merchant_id)
    if status:
        stmt = stmt.where(Product.status == status)
    rows, cursor = paginate(session, stmt, Product.id, params)
    return build_products(session, rows), cursor


def get_merchant_product(
    session: Session, principal: Principal, merchant_id: str, product_id: str
) -> ProductOut:
    product = _own_product(session, principal, merchant_id, product_id, write=False)
    return build_products(session, [product])[0]


def product_out(session: Session, product: Product) -> ProductOut:
    return build_products(session, [product])[0]


# --- moderation (the compliance domain enacts its decisions here) ------------------------------------------


def moderate_product(
    session: Session, principal: Principal, product_id: str, action: str, *, restore_status: str = "draft"
) -> tuple[Product, str]:
    """``block``: off sale everywhere at once, and its merchant cannot put it back on sale; ``unblock``: back
    to ``restore_status`` (``draft`` if it can no longer be active). Moderators only; the decision, with its
    reason, is recorded by compliance. Returns the product and the status it had before."""
    require_scope(principal, "moderation")
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"No product {product_id}.")
    before = product.status
    if action == "block":
        product.status = "blocked"
    elif action == "unblock" and before == "blocked":
        product.status = restore_status if restore_status in ("draft", "active", "archived") else "draft"
        if product.status == "active":
            try:
                session.flush()
                _require_sellable_shape(session, product)
            except Conflict:
                product.status = "draft"
    elif action not in ("block", "unblock"):
        raise InvalidInput(f"Unknown moderation action {action!r}.")
    if product.status != before:
        product.updated_at = utcnow()
        session.flush()
        search.index_products(session, [product.id])
        _changed(session, product.id)
    return product, before


# --- what other domains ask -----------------------------------------------------------------------------


def get_products(session: Session, ids: list[str]) -> list[ProductOut]:
    """Products by id (any status; unknown ids are left out), with variants, prices and media.

    Used by content (video product tags) and the feed; check ``status == "active"`` before showing one.
    """
    ids = list(dict.fromkeys(ids))[:1000]
    if not ids:
        return []
    products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}
    return build_products(session, [products[i] for i in ids if i in products])


def sellable_product_ids(session: Session, region_code: str) -> set[str]:
    """Products a shopper in ``region_code`` can buy now: active, from a verified trader, with an active
    variant priced in the region and in stock in a warehouse that delivers there."""
    from etalage.inventory import service as inventory
    from etalage.merchants import service as merchants

    if not is_region(region_code):
        return set()
    in_stock = inventory.in_stock_variant_ids(session, region_code)
    if not in_stock:
        return set()
    rows = session.execute(
        select(Product.id, Product.merchant_id, Variant.id)
        .join(Variant, Variant.product_id == Product.id)
        .join(
            VariantPrice, (VariantPrice.variant_id == Variant.id) & (VariantPrice.region_code == region_code)
        )
        .where(Product.status == "active", Variant.status == "active")
    ).all()
    verified = merchants.verified_merchant_ids(session, {m for _, m, _ in rows})
    return {pid for pid, mid, vid in rows if mid in verified and vid in in_stock}
