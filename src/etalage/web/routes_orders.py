"""The shopper's cart, orders and order detail (status history, tracking, cancel)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from etalage.accounts import service as accounts
from etalage.core.pagination import PageParams
from etalage.web import i18n
from etalage.web.i18n import N_
from etalage.web.pages import Form, PageCtx, PageRoute, ShopperPage, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

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
def order_page(ctx: ShopperPage, order_id: str, cancelled: bool = False) -> Response:
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
    )


def shipments_of(ctx: PageCtx, order_id: str) -> list[dict[str, Any]]:
    """Parcels with their carrier and tracking number (the fulfilment domain, once it exists)."""
    return []


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
