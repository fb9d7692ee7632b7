"""Seller center: return requests to decide (approve, or reject with a reason), goods to receive back (with
or without restocking) and refunds to give (the return's value, or less)."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import Response

from etalage.core.errors import Conflict, Forbidden, InvalidInput
from etalage.core.money import minor_exponent
from etalage.core.pagination import PageParams
from etalage.core.routing import api_router
from etalage.web import i18n
from etalage.web.i18n import N_
from etalage.web.pages import Form, MerchantPage, PageCtx, PageRoute, redirect, render
from etalage.web.routes_seller import SECTIONS, shop_context

router = api_router(route_class=PageRoute, include_in_schema=False)
SECTIONS.append(("returns", "/returns", N_("Returns"), "up"))

FILTERS = [
    ("requested", N_("To decide")),
    ("approved", N_("Coming back")),
    ("received", N_("To refund")),
    ("", N_("All")),
]
LABELS = {
    "requested": N_("Requested"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "received": N_("Received"),
    "refunded": N_("Refunded"),
}
NOTICES = {
    "approved": N_("Return approved. The shopper sends the items back."),
    "rejected": N_("Return rejected. The shopper reads your reason."),
    "received": N_("Marked as received."),
    "refunded": N_("Refund sent to the payment provider."),
    "reason": N_("Give the shopper a reason (at least 3 characters)."),
    "amount": N_("That amount cannot be refunded: at most what is left on the order."),
    "error": N_("That did not work: the return may have moved on already."),
}


def _card(ctx: PageCtx, ret: Any, titles: dict[str, str], lines: list[Any]) -> dict[str, Any]:
    exp = minor_exponent(ret.currency)
    return {
        "r": ret,
        "label": LABELS.get(ret.status, ret.status),
        "value": i18n.money(ret.value_amount, ret.currency, ctx.lang),
        "value_major": f"{ret.value_amount / 10**exp:.{exp}f}",
        "refund": i18n.money(ret.refund_amount, ret.currency, ctx.lang) if ret.refund_amount else None,
        "lines": [(ln.quantity, titles.get(ln.variant_id, ln.variant_id)) for ln in lines],
    }


@router.get("/seller/{merchant_id}/returns")
def returns_page(
    ctx: MerchantPage,
    merchant_id: str,
    status: str = "requested",
    cursor: str | None = None,
    done: str | None = None,
) -> Response:
    from sqlalchemy import select

    from etalage.commerce import orders as order_store
    from etalage.core.pagination import paginate
    from etalage.fulfilment import returns
    from etalage.fulfilment.models import ReturnRequest

    shop = shop_context(ctx, merchant_id, "returns")
    shown = status if status in dict(FILTERS) else "requested"
    stmt = select(ReturnRequest).where(ReturnRequest.merchant_id == merchant_id)
    if shown:
        stmt = stmt.where(ReturnRequest.status == shown)
    rows, next_cursor = paginate(ctx.db, stmt, ReturnRequest.id, PageParams(cursor=cursor, limit=30))
    order_lines = order_store.lines_of(ctx.db, sorted({r.order_id for r in rows}))
    lines = returns.lines_of(ctx.db, [r.id for r in rows])
    cards = [
        _card(ctx, r, {ln.variant_id: ln.title for ln in order_lines.get(r.order_id, [])}, lines[r.id])
        for r in rows
    ]
    return render(
        ctx, "seller/returns.html", returns=cards, filters=FILTERS, shown=shown, next_cursor=next_cursor,
        notice=NOTICES.get(done or ""), failed=done in ("reason", "amount", "error"),
        refund_key=secrets.token_urlsafe(18), **shop,
    )  # fmt: skip


def _back(merchant_id: str, form: Any) -> str:
    shown = str(form.get("shown", "requested"))
    return f"/seller/{merchant_id}/returns?status={shown if shown in dict(FILTERS) else 'requested'}"


@router.post("/seller/{merchant_id}/returns/{return_id}/decision")
def decide(ctx: MerchantPage, merchant_id: str, return_id: str, form: Form) -> Response:
    from etalage.fulfilment import returns

    decision = "reject" if form.get("decision") == "reject" else "approve"
    reason = str(form.get("reason", "")).strip()[:500]
    if decision == "approve" and len(reason) < 3:
        reason = "approved in the seller center"
    if len(reason) < 3:
        return redirect(ctx, f"{_back(merchant_id, form)}&done=reason")
    try:
        with ctx.db.begin_nested():
            returns.decide(ctx.db, ctx.principal, merchant_id, return_id, decision, reason)  # type: ignore[arg-type]
    except Conflict:
        return redirect(ctx, f"{_back(merchant_id, form)}&done=error")
    return redirect(
        ctx, f"{_back(merchant_id, form)}&done={'approved' if decision == 'approve' else 'rejected'}"
    )


@router.post("/seller/{merchant_id}/returns/{return_id}/receipt")
def receive(ctx: MerchantPage, merchant_id: str, return_id: str, form: Form) -> Response:
    from etalage.fulfilment import returns

    restock = form.get("restock") == "1"
    reason = "goods received back" if restock else "goods received back, not fit for sale"
    try:
        with ctx.db.begin_nested():
            returns.receive(ctx.db, ctx.principal, merchant_id, return_id, restock=restock, reason=reason)  # type: ignore[arg-type]
    except Conflict:
        return redirect(ctx, f"{_back(merchant_id, form)}&done=error")
    return redirect(ctx, f"{_back(merchant_id, form)}&done=received")


@router.post("/seller/{merchant_id}/returns/{return_id}/refund")
def refund(ctx: MerchantPage, merchant_id: str, return_id: str, form: Form) -> Response:
    from etalage.commerce import idempotency
    from etalage.fulfilment import returns
    from etalage.web.routes_seller_catalog import to_minor

    ret = returns.merchant_return(ctx.db, ctx.principal, merchant_id, return_id)  # type: ignore[arg-type]
    back = _back(merchant_id, form)
    text = str(form.get("amount", "")).strip()[:20]
    try:
        amount = to_minor(text, ret.currency) if text else None
    except InvalidInput:
        return redirect(ctx, f"{back}&done=amount")
    key = str(form.get("idempotency_key", ""))[:64] or secrets.token_urlsafe(18)
    fp = idempotency.fingerprint(
        f"return-refund:{return_id}", {"amount": amount, "reason": "refund for a return"}
    )
    try:
        with ctx.db.begin_nested():
            returns.refund(
                ctx.db, ctx.principal, merchant_id, return_id, amount=amount, currency=ret.currency,  # type: ignore[arg-type]
                reason="refund for a return", key=key, fp=fp,
            )  # fmt: skip
    except InvalidInput:
        return redirect(ctx, f"{back}&done=amount")
    except (Conflict, Forbidden):
        return redirect(ctx, f"{back}&done=error")
    return redirect(ctx, f"{back}&done=refunded")
