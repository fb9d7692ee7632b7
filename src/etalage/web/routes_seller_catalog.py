"""Seller center: products, variants, prices per region and stock per warehouse."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.responses import Response

from etalage.core.errors import Conflict, InvalidInput, NotFound
from etalage.core.money import minor_exponent
from etalage.core.pagination import PageParams
from etalage.core.routing import api_router
from etalage.web import i18n
from etalage.web.i18n import N_
from etalage.web.pages import Form, MerchantPage, PageCtx, PageRoute, redirect, render
from etalage.web.routes_seller import SECTIONS, shop_context

router = api_router(route_class=PageRoute, include_in_schema=False)
SECTIONS.append(("products", "/products", N_("Products"), "bag"))

PRODUCT_STATUS = {"draft": N_("Draft"), "active": N_("On sale"), "archived": N_("Archived")}
TAX_CLASSES = [
    ("standard", N_("Standard rate")),
    ("reduced", N_("Reduced rate")),
    ("super_reduced", N_("Super-reduced rate")),
    ("zero", N_("Zero rate")),
]
NOTICES = {
    "created": N_("Product created."),
    "saved": N_("Saved."),
    "price": N_("Price saved."),
    "stock": N_("Stock recorded."),
    "variant": N_("Variant added."),
    "error": N_("That did not work: check the values and try again."),
    "sellable": N_("A product needs at least one active variant with a price before it can go on sale."),
    "sku": N_("This SKU is already used by another of your variants."),
}


def to_minor(text: str, currency: str) -> int:
    """'12,50' or '12.50' in major units to minor units; InvalidInput when it is not a positive amount."""
    try:
        value = Decimal(text.strip().replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise InvalidInput("Not an amount.") from None
    minor = int(value.scaleb(minor_exponent(currency)))
    if value <= 0 or minor <= 0 or value.as_tuple().exponent < -minor_exponent(currency):  # type: ignore[operator]
        raise InvalidInput("Not an amount.")
    return minor


def _regions(ctx: PageCtx) -> list[tuple[str, str]]:
    from etalage.web.regions import region_choices

    return region_choices(ctx)


@router.get("/seller/{merchant_id}/products")
def products_page(
    ctx: MerchantPage, merchant_id: str, cursor: str | None = None, done: str | None = None
) -> Response:
    from etalage.catalog import service as catalog

    shop = shop_context(ctx, merchant_id, "products")
    rows, next_cursor = catalog.list_merchant_products(
        ctx.db,
        ctx.principal,
        merchant_id,
        PageParams(cursor=cursor, limit=50),  # type: ignore[arg-type]
    )
    return render(
        ctx, "seller/products.html", products=rows, next_cursor=next_cursor, product_status=PRODUCT_STATUS,
        tax_classes=TAX_CLASSES, regions=_regions(ctx), notice=NOTICES.get(done or ""),
        failed=done in ("error", "sku"), **shop,
    )  # fmt: skip


@router.post("/seller/{merchant_id}/products")
def create_product(ctx: MerchantPage, merchant_id: str, form: Form) -> Response:
    from etalage.catalog import service as catalog
    from etalage.catalog.schemas import ProductIn
    from etalage.commerce.regions import currency_of, is_region

    region = str(form.get("region", ""))
    try:
        if not is_region(region):
            raise InvalidInput("No such region.")
        amount = to_minor(str(form.get("price", "")), currency_of(region))
        body = ProductIn.model_validate(
            {
                "title": str(form.get("title", ""))[:200],
                "description": str(form.get("description", ""))[:5000],
                "tax_class": str(form.get("tax_class", "standard")),
                "status": "draft",
                "variants": [
                    {
                        "sku": str(form.get("sku", ""))[:64],
                        "options": {},
                        "prices": [{"region_code": region, "amount": amount}],
                    }  # fmt: skip
                ],
            }
        )
        product = catalog.create_product(ctx.db, ctx.principal, merchant_id, body.model_dump())  # type: ignore[arg-type]
    except Conflict:
        return redirect(ctx, f"/seller/{merchant_id}/products?done=sku")
    except (InvalidInput, ValueError):
        return redirect(ctx, f"/seller/{merchant_id}/products?done=error")
    return redirect(ctx, f"/seller/{merchant_id}/products/{product.id}?done=created")


@router.get("/seller/{merchant_id}/products/{product_id}")
def product_page(ctx: MerchantPage, merchant_id: str, product_id: str, done: str | None = None) -> Response:
    from etalage.catalog import service as catalog
    from etalage.inventory import service as inventory
    from etalage.merchants import service as merchants

    shop = shop_context(ctx, merchant_id, "products")
    product = catalog.get_merchant_product(ctx.db, ctx.principal, merchant_id, product_id)  # type: ignore[arg-type]
    warehouses = merchants.list_warehouses(ctx.db, ctx.principal, merchant_id)  # type: ignore[arg-type]
    levels = inventory.list_levels(ctx.db, ctx.principal, merchant_id, None)  # type: ignore[arg-type]
    stock: dict[str, dict[str, Any]] = {}
    for level in levels:
        if level.product_id == product_id:
            stock.setdefault(level.variant_id, {})[level.warehouse_id] = level
    variants = []
    for v in product.variants:
        variants.append(
            {
                "v": v,
                "prices": [(p.region_code, i18n.money(p.amount, p.currency, ctx.lang)) for p in v.prices],
                "stock": [(w, stock.get(v.id, {}).get(w.id)) for w in warehouses],
            }
        )
    return render(
        ctx, "seller/product.html", product=product, variants=variants, warehouses=warehouses,
        product_status=PRODUCT_STATUS, tax_classes=TAX_CLASSES, regions=_regions(ctx),
        notice=NOTICES.get(done or ""), failed=done in ("error", "sellable", "sku"), **shop,
    )  # fmt: skip


@router.post("/seller/{merchant_id}/products/{product_id}")
def update_product(ctx: MerchantPage, merchant_id: str, product_id: str, form: Form) -> Response:
    from etalage.catalog import service as catalog
    from etalage.catalog.schemas import ProductPatch

    back = f"/seller/{merchant_id}/products/{product_id}"
    try:
        patch = ProductPatch.model_validate(
            {
                "title": str(form.get("title", ""))[:200],
                "description": str(form.get("description", ""))[:5000],
                "tax_class": str(form.get("tax_class", "standard")),
                "status": str(form.get("status", "draft")),
            }
        )
        with ctx.db.begin_nested():
            catalog.update_product(
                ctx.db, ctx.principal, merchant_id, product_id, patch.model_dump(exclude_none=True)
            )  # type: ignore[arg-type]
    except Conflict:
        return redirect(ctx, f"{back}?done=sellable")
    except (InvalidInput, ValueError):
        return redirect(ctx, f"{back}?done=error")
    return redirect(ctx, f"{back}?done=saved")


@router.post("/seller/{merchant_id}/products/{product_id}/variants")
def add_variant(ctx: MerchantPage, merchant_id: str, product_id: str, form: Form) -> Response:
    from etalage.catalog import service as catalog
    from etalage.catalog.schemas import VariantIn

    back = f"/seller/{merchant_id}/products/{product_id}"
    name, value = str(form.get("option_name", "")).strip(), str(form.get("option_value", "")).strip()
    try:
        variant = VariantIn.model_validate(
            {"sku": str(form.get("sku", ""))[:64], "options": {name: value} if name and value else {}}
        )
        with ctx.db.begin_nested():
            catalog.add_variants(ctx.db, ctx.principal, merchant_id, product_id, [variant.model_dump()])  # type: ignore[arg-type]
    except Conflict:
        return redirect(ctx, f"{back}?done=sku")
    except (InvalidInput, ValueError):
        return redirect(ctx, f"{back}?done=error")
    return redirect(ctx, f"{back}?done=variant")


@router.post("/seller/{merchant_id}/products/{product_id}/prices")
def set_price(ctx: MerchantPage, merchant_id: str, product_id: str, form: Form) -> Response:
    from etalage.catalog import service as catalog
    from etalage.commerce.regions import currency_of, is_region

    back = f"/seller/{merchant_id}/products/{product_id}"
    region = str(form.get("region", ""))
    try:
        if not is_region(region):
            raise InvalidInput("No such region.")
        amount = to_minor(str(form.get("price", "")), currency_of(region))
        _own_variant(ctx, merchant_id, product_id, str(form.get("variant_id", "")))
        catalog.set_price(
            ctx.db, ctx.principal, merchant_id, str(form.get("variant_id")), region, amount, None
        )  # type: ignore[arg-type]
    except InvalidInput:
        return redirect(ctx, f"{back}?done=error")
    return redirect(ctx, f"{back}?done=price")


@router.post("/seller/{merchant_id}/products/{product_id}/stock")
def receive_stock(ctx: MerchantPage, merchant_id: str, product_id: str, form: Form) -> Response:
    from etalage.inventory import service as inventory

    back = f"/seller/{merchant_id}/products/{product_id}"
    kind = str(form.get("kind", "receive"))
    try:
        quantity = int(str(form.get("quantity", "")))
        if kind not in ("receive", "remove", "count") or not 0 <= quantity <= 1_000_000:
            raise InvalidInput("Check the quantity.")
        variant_id = str(form.get("variant_id", ""))
        _own_variant(ctx, merchant_id, product_id, variant_id)
        inventory.record_movement(
            ctx.db, ctx.principal, merchant_id, variant_id=variant_id,  # type: ignore[arg-type]
            warehouse_id=str(form.get("warehouse_id", "")), kind=kind, quantity=quantity,
            reason="recorded in the seller center",
        )  # fmt: skip
    except (InvalidInput, ValueError, Conflict):
        return redirect(ctx, f"{back}?done=error")
    return redirect(ctx, f"{back}?done=stock")


def _own_variant(ctx: PageCtx, merchant_id: str, product_id: str, variant_id: str) -> None:
    from etalage.catalog import service as catalog

    product = catalog.get_merchant_product(ctx.db, ctx.principal, merchant_id, product_id)  # type: ignore[arg-type]
    if variant_id not in product.variant_ids:
        raise NotFound(f"No variant {variant_id}.")
