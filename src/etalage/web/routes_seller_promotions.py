"""Seller center: promotions. The shop's vouchers and flash sales: create, list, end."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from pydantic import ValidationError
from starlette.responses import Response

from etalage.core.errors import Problem
from etalage.core.money import minor_exponent
from etalage.core.pagination import PageParams
from etalage.core.routing import api_router
from etalage.db import utcnow
from etalage.web import i18n
from etalage.web.i18n import N_
from etalage.web.pages import Form, MerchantPage, PageRoute, redirect, render
from etalage.web.regions import region_choices
from etalage.web.routes_seller import SECTIONS, shop_context

router = api_router(route_class=PageRoute, include_in_schema=False)
SECTIONS.append(("promotions", "/promotions", N_("Promotions"), "heart"))
NOTICES = {
    "voucher": N_("Voucher created."),
    "sale": N_("Flash sale created."),
    "ended": N_("Ended."),
    "error": N_("That did not work: check the values and try again."),
}
STATUS = {
    "active": N_("Active"),
    "scheduled": N_("Scheduled"),
    "expired": N_("Expired"),
    "ended": N_("Ended"),
}


def _minor(raw: object, currency: str) -> int:
    """'12.50' (major units, a comma allowed) in minor units of ``currency``; ValueError if not exact."""
    text = str(raw or "").strip().replace(",", ".")[:20]
    value = Decimal(text) * (10 ** minor_exponent(currency))
    if value != value.to_integral_value():
        raise ValueError("finer than the currency's minor unit")
    return int(value)


@router.get("/seller/{merchant_id}/promotions")
def promotions_page(ctx: MerchantPage, merchant_id: str, done: str | None = None) -> Response:
    from etalage.catalog import service as catalog
    from etalage.promotions import service as promotions

    shop = shop_context(ctx, merchant_id, "promotions")
    page = PageParams(cursor=None, limit=100)
    vouchers, _ = promotions.list_vouchers(ctx.db, ctx.principal, merchant_id, page)  # type: ignore[arg-type]
    sales, _ = promotions.list_flash_sales(ctx.db, ctx.principal, merchant_id, page)  # type: ignore[arg-type]
    products, _ = catalog.list_merchant_products(ctx.db, ctx.principal, merchant_id, page)  # type: ignore[arg-type]
    titles = {v.id: f"{p.title} · {v.sku}" for p in products for v in p.variants}

    def money(m: object) -> str:
        return i18n.money(m.amount, m.currency, ctx.lang) if m is not None else "—"  # type: ignore[attr-defined]

    return render(
        ctx, "seller/promotions.html",
        vouchers=[{"v": v, "value": f"{i18n.number(v.percent, ctx.lang)} %" if v.percent else money(v.amount),
                   "min_spend": money(v.min_spend), "status": STATUS[v.status]} for v in vouchers],
        sales=[{"s": s, "title": titles.get(s.variant_id, s.variant_id), "price": money(s.price),
                "status": STATUS[s.status]} for s in sales],
        variants=sorted(titles.items(), key=lambda kv: kv[1]), regions=region_choices(ctx),
        notice=NOTICES.get(done or ""), failed=done == "error", **shop,
    )  # fmt: skip


@router.post("/seller/{merchant_id}/promotions/vouchers")
def create_voucher(ctx: MerchantPage, merchant_id: str, form: Form) -> Response:
    from etalage.commerce.regions import currency_of
    from etalage.promotions import service as promotions
    from etalage.promotions.schemas import VoucherIn

    back = f"/seller/{merchant_id}/promotions"
    try:
        region = str(form.get("region_code", "")).strip()[:2]
        currency = currency_of(region)
        kind = form.get("kind")
        value = str(form.get("value", "")).strip()
        days = int(str(form.get("days", "7")).strip() or "7")
        max_uses = str(form.get("max_uses", "")).strip()
        body = VoucherIn(
            code=str(form.get("code", "")).strip()[:40],
            percent=int(value) if kind == "percent" else None,
            amount=_minor(value, currency) if kind == "fixed" else None,
            min_spend=_minor(form.get("min_spend") or "0", currency),
            region_code=region, ends_at=utcnow() + timedelta(days=max(1, min(days, 365))),
            per_user_limit=int(str(form.get("per_user_limit", "1")).strip() or "1"),
            max_uses=int(max_uses) if max_uses else None,
        )  # fmt: skip
        promotions.create_voucher(ctx.db, ctx.principal, merchant_id, body)  # type: ignore[arg-type]
    except (ValidationError, ValueError, InvalidOperation, KeyError, Problem):
        return redirect(ctx, f"{back}?done=error")
    return redirect(ctx, f"{back}?done=voucher")


@router.post("/seller/{merchant_id}/promotions/vouchers/{voucher_id}/end")
def end_voucher(ctx: MerchantPage, merchant_id: str, voucher_id: str) -> Response:
    from etalage.promotions import service as promotions

    try:
        promotions.end_voucher(ctx.db, ctx.principal, merchant_id, voucher_id, "ended in the seller center")  # type: ignore[arg-type]
    except Problem:
        return redirect(ctx, f"/seller/{merchant_id}/promotions?done=error")
    return redirect(ctx, f"/seller/{merchant_id}/promotions?done=ended")


@router.post("/seller/{merchant_id}/promotions/flash-sales")
def create_flash_sale(ctx: MerchantPage, merchant_id: str, form: Form) -> Response:
    from etalage.commerce.regions import currency_of
    from etalage.promotions import service as promotions
    from etalage.promotions.schemas import FlashSaleIn

    back = f"/seller/{merchant_id}/promotions"
    try:
        region = str(form.get("region_code", "")).strip()[:2]
        hours = int(str(form.get("hours", "24")).strip() or "24")
        body = FlashSaleIn(
            variant_id=str(form.get("variant_id", "")).strip()[:40], region_code=region,
            price=_minor(form.get("price"), currency_of(region)),
            quantity=int(str(form.get("quantity", "")).strip()),
            ends_at=utcnow() + timedelta(hours=max(1, min(hours, 24 * 14))),
        )  # fmt: skip
        promotions.create_flash_sale(ctx.db, ctx.principal, merchant_id, body)  # type: ignore[arg-type]
    except (ValidationError, ValueError, InvalidOperation, KeyError, Problem):
        return redirect(ctx, f"{back}?done=error")
    return redirect(ctx, f"{back}?done=sale")


@router.post("/seller/{merchant_id}/promotions/flash-sales/{sale_id}/end")
def end_flash_sale(ctx: MerchantPage, merchant_id: str, sale_id: str) -> Response:
    from etalage.promotions import service as promotions

    try:
        promotions.end_flash_sale(ctx.db, ctx.principal, merchant_id, sale_id, "ended in the seller center")  # type: ignore[arg-type]
    except Problem:
        return redirect(ctx, f"/seller/{merchant_id}/promotions?done=error")
    return redirect(ctx, f"/seller/{merchant_id}/promotions?done=ended")
