"""Seller center: creators. The shop's commission rate for creators (with the history of changes) and what
the shop owes or paid each creator who sold its products."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from starlette.responses import Response

from etalage.core.errors import InvalidInput
from etalage.core.routing import api_router
from etalage.web import i18n
from etalage.web.i18n import N_
from etalage.web.pages import Form, MerchantPage, PageRoute, redirect, render
from etalage.web.routes_seller import SECTIONS, shop_context

router = api_router(route_class=PageRoute, include_in_schema=False)
SECTIONS.append(("creators", "/creators", N_("Creators"), "person"))
NOTICES = {
    "rate": N_("Commission rate saved. Orders paid from now on earn it."),
    "error": N_("A commission rate is a percentage from 0 to 50."),
}


def percent(bp: int | None, lang: str) -> str:
    return "—" if bp is None else f"{i18n.number(Decimal(bp) / 100, lang)} %"


@router.get("/seller/{merchant_id}/creators")
def creators_page(ctx: MerchantPage, merchant_id: str, done: str | None = None) -> Response:
    from etalage.affiliates import service as affiliates

    shop = shop_context(ctx, merchant_id, "creators")
    rates = affiliates.rates_view(ctx.db, ctx.principal, merchant_id)  # type: ignore[arg-type]
    owed = affiliates.merchant_liabilities(ctx.db, ctx.principal, merchant_id)  # type: ignore[arg-type]

    def money(amount: int, currency: str) -> str:
        return i18n.money(amount, currency, ctx.lang)

    return render(
        ctx, "seller/creators.html",
        rate=percent(rates.merchant_rate_bp, ctx.lang),
        rate_value=f"{Decimal(rates.merchant_rate_bp) / 100}" if rates.merchant_rate_bp is not None else "",
        default_rate=percent(rates.region_defaults_bp["*"], ctx.lang),
        region_defaults=[(code, percent(bp, ctx.lang)) for code, bp in rates.region_defaults_bp.items() if code != "*"],
        product_rates=[(r.product_id, percent(r.rate_bp, ctx.lang)) for r in rates.products],
        changes=[{"at": ch.created_at, "product_id": ch.product_id, "from": percent(ch.from_bp, ctx.lang),
                  "to": percent(ch.to_bp, ctx.lang), "reason": ch.reason} for ch in rates.changes[:10]],
        creators=[{"name": r.creator_name or r.creator_id, "orders": r.orders, "pending": money(r.pending, r.currency),
                   "payable": money(r.payable, r.currency), "paid": money(r.paid, r.currency)} for r in owed],
        notice=NOTICES.get(done or ""), failed=done == "error", **shop,
    )  # fmt: skip


@router.post("/seller/{merchant_id}/creators/rate")
def set_rate(ctx: MerchantPage, merchant_id: str, form: Form) -> Response:
    from etalage.affiliates import rates

    raw = str(form.get("rate", "")).strip().replace(",", ".").rstrip("%").strip()[:10]
    try:
        bp = int(Decimal(raw) * 100)
        if Decimal(raw) * 100 != bp:
            raise InvalidOperation  # finer than a basis point
        rates.set_rate(
            ctx.db, ctx.principal, merchant_id, bp, reason=str(form.get("reason", "")).strip()[:500]
        )  # type: ignore[arg-type]
    except (ArithmeticError, ValueError, InvalidInput):  # InvalidOperation, Infinity overflowing int()
        return redirect(ctx, f"/seller/{merchant_id}/creators?done=error")
    return redirect(ctx, f"/seller/{merchant_id}/creators?done=rate")
