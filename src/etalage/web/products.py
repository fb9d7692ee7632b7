"""The product view shared by the product page, the sheet over a video and the live room: variants with
their price in the shopper's region (VAT included where the law says prices include it), stock, the trader's
details (DSA Art. 30) and reviews."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from etalage.web import i18n, sources

if TYPE_CHECKING:
    from etalage.web.pages import PageCtx

LOW_STOCK = 5


def _options_label(options: dict[str, str]) -> str:
    return " · ".join(options.values()) if options else ""


def product_view(ctx: PageCtx, product_id: str) -> dict[str, Any]:
    from etalage.catalog import public as catalog
    from etalage.commerce import regions
    from etalage.merchants import service as merchants

    region_code = sources.region_of(ctx)
    product = catalog.get_product(ctx.db, product_id, region_code)  # NotFound unless on sale
    region = regions.region(region_code)
    variants = []
    for v in product.variants:
        if v.price is None:
            continue
        available = v.available or 0
        variants.append(
            {
                "id": v.id,
                "label": _options_label(v.options) or v.sku,
                "price": i18n.money(v.price.amount, v.price.currency, ctx.lang),
                "amount": v.price.amount,
                # a reduced price: the regular one, and in the EU the lowest of the previous 30 days (Omnibus)
                "regular": i18n.money(v.regular_price.amount, v.regular_price.currency, ctx.lang)
                if v.regular_price
                else None,
                "lowest_30d": i18n.money(v.lowest_price_30d.amount, v.lowest_price_30d.currency, ctx.lang)
                if v.lowest_price_30d
                else None,
                "available": available,
                "low": 0 < available <= LOW_STOCK,
            }
        )
    chosen = next((v for v in variants if v["available"] > 0), variants[0] if variants else None)
    if region.prices_include_tax:
        rate = region.vat_bp.get(product.tax_class, 0) / 10_000
        tax_note = ctx.gettext("incl. %(rate)s VAT") % {"rate": i18n.percent(rate, ctx.lang)}
    else:
        tax_note = ctx.gettext("plus sales tax")
    try:
        trader, shop_name = merchants.public_trader(ctx.db, product.merchant_id)
    except Exception:  # noqa: BLE001 - a product on sale always has a verified trader; be safe anyway
        trader, shop_name = None, ""
    return {
        "product": product,
        "variants": variants,
        "chosen": chosen,
        "tax_note": tax_note,
        "region_code": region_code,
        "region_label": i18n.region_name(region_code, ctx.lang),
        "trader": trader,
        "shop_name": shop_name,
        **_reviews(ctx, product.id),
        "buy": BUY_ENDPOINTS,
        "one_tap": one_tap(ctx) if ctx.has_scope("shop") else None,
    }


def _reviews(ctx: PageCtx, product_id: str) -> dict[str, Any]:
    """The newest verified-purchase reviews and the product's rating."""
    from etalage.core.pagination import PageParams
    from etalage.reviews import service as reviews

    items, _ = reviews.product_reviews(ctx.db, product_id, PageParams(cursor=None, limit=10))
    quality = reviews.product_quality(ctx.db, product_id)
    average = i18n.number(quality.average_rating, ctx.lang) if quality.average_rating is not None else None
    return {"reviews": items, "rating": {"average": average, "count": quality.ratings}}


# Where the sheet's buttons post (commerce's JSON API): one-tap checkout, and a cart line per variant.
BUY_ENDPOINTS = {"buy_url": "/api/v1/buy-now", "cart_url": "/api/v1/cart/lines/"}


def one_tap(ctx: PageCtx) -> dict[str, Any]:
    """The saved address and payment method "Buy now" will use, and how many of each variant are in the
    cart (so "Add to cart" adds one more)."""
    from etalage.commerce import addresses, carts
    from etalage.payments import service as payments

    principal = ctx.principal
    address = next((a for a in addresses.list_addresses(ctx.db, principal) if a.is_default), None)  # type: ignore[arg-type]
    method = next((m for m in payments.list_methods(ctx.db, principal) if m.is_default), None)  # type: ignore[arg-type]
    cart = carts.view(ctx.db, principal)  # type: ignore[arg-type]
    return {
        "address": f"{address.recipient}, {address.line1}, {address.city}" if address else None,
        "method": (
            f"{(method.brand or method.type).title()} •••• {method.last4}"
            if method.last4
            else method.type.replace("_", " ").title()
        )
        if method
        else None,
        "in_cart": {line.variant_id: line.quantity for line in cart.lines},
    }
