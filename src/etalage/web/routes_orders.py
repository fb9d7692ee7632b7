"""The shopper's cart, orders and order detail (status history, tracking, cancel)."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import Response

from etalage.accounts import service as accounts
from etalage.core.errors import Conflict, InvalidInput
from etalage.core.pagination import PageParams
from etalage.core.routing import api_router
from etalage.web import i18n
from etalage.web.i18n import N_
from etalage.web.pages import Form, PageCtx, PageRoute, ShopperPage, redirect, render
from etalage.web.routes_reviews import NOTICES as REVIEW_NOTICES
from etalage.web.routes_reviews import review_form

router = api_router(route_class=PageRoute, include_in_schema=False)

STATUS_LABELS = {
    "awaiting_payment": N_("Awaiting payment"),
    "paid": N_("Paid"),
    "fulfilling": N_("Being prepared"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
    "partially_refunded": N_("Partly refunded"),
    "refunded": N_("Refunded"),
}
# The steps a shopper follows an order through.
JOURNEY = ("paid", "fulfilling", "shipped", "delivered")


def money_of(ctx: PageCtx, m: Any) -> str:
    return i18n.money(m.amount, m.currency, ctx.lang)


def order_card(ctx: PageCtx, order: Any, shops: dict[str, str]) -> dict[str, Any]:
    reached = (
        JOURNEY.index(order.status)
        if order.status in JOURNEY
        else (len(JOURNEY) if order.status == "completed" else -1)
    )
    return {
        "id": order.id,
        "status": order.status,
        "status_label": STATUS_LABELS.get(order.status, order.status),
        "shop": shops.get(order.merchant_id, ""),
        "merchant_id": order.merchant_id,
        "created_at": order.created_at,
        "total": money_of(ctx, order.total),
        "lines": [
            {
                "title": ln.title,
                "options": " · ".join(str(v) for v in (ln.options or {}).values()),
                "quantity": ln.quantity,
                "total": money_of(ctx, ln.total),
                "product_id": ln.product_id,
            }
            for ln in order.lines
        ],
        "steps": [(STATUS_LABELS[s], i <= reached) for i, s in enumerate(JOURNEY)],
        "order": order,
    }


@router.get("/orders")
def orders_page(ctx: ShopperPage, cursor: str | None = None) -> Response:
    from etalage.commerce import manage
    from etalage.commerce.views import orders_out

    rows, next_cursor = manage.list_for_shopper(ctx.db, ctx.principal, PageParams(cursor=cursor, limit=20))  # type: ignore[arg-type]
    orders = orders_out(ctx.db, rows)
    shops = accounts.organisation_names(ctx.db, [o.merchant_id for o in orders])
    cards = [order_card(ctx, o, shops) for o in orders]
    return render(ctx, "shop/orders.html", tab="orders", orders=cards, next_cursor=next_cursor)


@router.get("/orders/{order_id}")
def order_page(ctx: ShopperPage, order_id: str, cancelled: bool = False, done: str | None = None) -> Response:
    from etalage.commerce import orders as order_store
    from etalage.commerce.order_states import SHOPPER_CANCELLABLE
    from etalage.commerce.views import order_detail

    detail = order_detail(ctx.db, order_store.get_for_user(ctx.db, ctx.principal.user_id, order_id))  # type: ignore[union-attr]
    shops = accounts.organisation_names(ctx.db, [detail.merchant_id])
    return render(
        ctx,
        "shop/order.html",
        tab="orders",
        o=order_card(ctx, detail, shops),
        detail=detail,
        events=[(e, STATUS_LABELS.get(e.to_status, e.to_status)) for e in reversed(detail.events)],
        tracking=shipments_of(ctx, order_id),
        can_cancel=detail.status in SHOPPER_CANCELLABLE,
        cancel_key=secrets.token_urlsafe(18),
        cancelled=cancelled,
        **after_sale(ctx, detail),
        **review_form(ctx, detail),
        notice=AFTER_SALE_NOTICES.get(done or "") or REVIEW_NOTICES.get(done or ""),
        failed=done in ("return-error", "received-error", "review-error"),
    )


AFTER_SALE_NOTICES = {
    "received": N_("Thanks: the parcel is marked as delivered."),
    "received-error": N_("That did not work: the parcel may be marked already."),
    "returned": N_("Your return request is sent to the shop. You will see its answer here."),
    "return-error": N_("That return cannot be requested: check the quantities and the return period."),
}
RETURN_LABELS = {
    "requested": N_("Requested: waiting for the shop"),
    "approved": N_("Approved: send the items back"),
    "rejected": N_("Rejected"),
    "received": N_("Received by the shop: refund on its way"),
    "refunded": N_("Refunded"),
}


def shipments_of(ctx: PageCtx, order_id: str) -> list[dict[str, Any]]:
    """Parcels with their carrier and tracking number (the fulfilment domain, when installed)."""
    try:
        from etalage.fulfilment import shipments
        from etalage.fulfilment.views import tracking_url
    except ImportError:
        return []
    return [
        {"id": s.id, "carrier": s.carrier, "tracking_number": s.tracking_number, "status": s.status,
         "url": tracking_url(s.carrier, s.tracking_number), "shipped_at": s.shipped_at, "delivered_at": s.delivered_at}
        for s in shipments.for_shopper(ctx.db, ctx.principal, order_id)  # type: ignore[arg-type]
    ]  # fmt: skip


def after_sale(ctx: PageCtx, detail: Any) -> dict[str, Any]:
    """What the order page shows after delivery: returns asked for, and what may still be returned."""
    try:
        from etalage.fulfilment import returns
    except ImportError:
        return {"returns": [], "returnable": [], "return_key": ""}
    titles = {ln.variant_id: ln.title for ln in detail.lines}
    asked = returns.for_shopper(ctx.db, ctx.principal, detail.id)  # type: ignore[arg-type]
    lines = returns.lines_of(ctx.db, [r.id for r in asked])
    shown = [
        {"id": r.id, "status": r.status, "label": RETURN_LABELS.get(r.status, r.status), "reason": r.reason,
         "decision_reason": r.decision_reason, "created_at": r.created_at,
         "value": i18n.money(r.value_amount, r.currency, ctx.lang),
         "refund": i18n.money(r.refund_amount, r.currency, ctx.lang) if r.refund_amount else None,
         "lines": [(ln.quantity, titles.get(ln.variant_id, ln.variant_id)) for ln in lines[r.id]]}
        for r in asked
    ]  # fmt: skip
    open_lines = returns.returnable(ctx.db, ctx.principal, detail.id)  # type: ignore[arg-type]
    returnable = [
        {"variant_id": v, "title": titles.get(v, v), "units": units, "until": until}
        for v, (units, until) in open_lines.items()
    ]
    return {"returns": shown, "returnable": returnable, "return_key": secrets.token_urlsafe(18)}


@router.post("/orders/{order_id}/shipments/{shipment_id}/received")
def parcel_received(ctx: ShopperPage, order_id: str, shipment_id: str, form: Form) -> Response:
    from etalage.fulfilment import shipments

    try:
        with ctx.db.begin_nested():
            shipments.shopper_received(ctx.db, ctx.principal, shipment_id)  # type: ignore[arg-type]
    except Conflict:
        return redirect(ctx, f"/orders/{order_id}?done=received-error")
    return redirect(ctx, f"/orders/{order_id}?done=received")


@router.post("/orders/{order_id}/returns")
def request_return(ctx: ShopperPage, order_id: str, form: Form) -> Response:
    """The return form: a quantity per line (0 = keep), and why."""
    from etalage.commerce import idempotency
    from etalage.fulfilment import service

    lines = []
    for name, value in form.multi_items():
        if name.startswith("qty_") and str(value).strip() not in ("", "0"):
            try:
                qty = int(str(value))
            except ValueError:
                return redirect(ctx, f"/orders/{order_id}?done=return-error")
            lines.append((name[4:][:40], qty))
    reason = str(form.get("reason", "")).strip()[:500]
    if not lines or len(reason) < 3 or any(not 0 < q <= 10_000 for _, q in lines):
        return redirect(ctx, f"/orders/{order_id}?done=return-error")
    key = str(form.get("idempotency_key", ""))[:64] or None
    fp = idempotency.fingerprint(f"return:{order_id}", {"lines": lines, "reason": reason})
    try:
        with ctx.db.begin_nested():
            service.request_return(ctx.db, ctx.principal, order_id, lines, reason, key=key, fp=fp)  # type: ignore[arg-type]
    except (Conflict, InvalidInput):
        return redirect(ctx, f"/orders/{order_id}?done=return-error")
    return redirect(ctx, f"/orders/{order_id}?done=returned")


@router.post("/orders/{order_id}/cancel")
def cancel_order(ctx: ShopperPage, order_id: str, form: Form) -> Response:
    from etalage.commerce import idempotency, manage

    key = str(form.get("idempotency_key", ""))[:64] or secrets.token_urlsafe(18)
    reason = "cancelled by the shopper"
    fp = idempotency.fingerprint(f"cancel:{order_id}", {"reason": reason})
    manage.shopper_cancel(ctx.db, ctx.principal, order_id, reason, key=key, fp=fp)  # type: ignore[arg-type]
    return redirect(ctx, f"/orders/{order_id}?cancelled=1")


@router.get("/cart")
def cart_page(ctx: ShopperPage) -> Response:
    from etalage.commerce import carts

    cart = carts.view(ctx.db, ctx.principal)  # type: ignore[arg-type]
    shops = accounts.organisation_names(ctx.db, [ln.merchant_id for ln in cart.lines if ln.merchant_id])
    lines = [
        {
            "variant_id": ln.variant_id,
            "product_id": ln.product_id,
            "title": ln.title or ctx.gettext("No longer available"),
            "shop": shops.get(ln.merchant_id or "", ""),
            "quantity": ln.quantity,
            "unit": money_of(ctx, ln.unit_price),
            "changed": ln.current_price is not None and ln.current_price.amount != ln.unit_price.amount,
            "now": money_of(ctx, ln.current_price) if ln.current_price else None,
            "sellable": ln.current_price is not None,
        }
        for ln in cart.lines
    ]
    return render(
        ctx,
        "shop/cart.html",
        tab="me",
        cart=cart,
        lines=lines,
        subtotal=money_of(ctx, cart.subtotal),
        total=cart.subtotal,
    )
