"""Seller center: orders to fulfil, with their next steps (prepare, ship with tracking, deliver).

Shipping goes through the fulfilment domain: the ship form records a parcel with every unit still to ship
(carrier and tracking number), which moves the order to shipped; "Mark delivered" records delivery of its
parcels. Units the platform holds in its own centre are shipped by platform staff, not from this form."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from etalage.core.errors import Conflict, Forbidden, InvalidInput
from etalage.core.pagination import PageParams
from etalage.core.routing import api_router
from etalage.web import i18n
from etalage.web.i18n import N_
from etalage.web.pages import Form, MerchantPage, PageCtx, PageRoute, redirect, render
from etalage.web.routes_orders import STATUS_LABELS
from etalage.web.routes_seller import SECTIONS, shop_context

router = api_router(route_class=PageRoute, include_in_schema=False)
SECTIONS.append(("orders", "/orders", N_("Orders"), "box"))

FILTERS = [
    ("paid", N_("To prepare")),
    ("fulfilling", N_("Being prepared")),
    ("shipped", N_("Shipped")),
    ("", N_("All")),
]
# The step a merchant takes next from each status, and its button label.
NEXT_STEP = {
    "paid": ("fulfilling", N_("Start preparing")),
    "partially_refunded": ("fulfilling", N_("Start preparing")),
    "shipped": ("delivered", N_("Mark delivered")),
    "delivered": ("completed", N_("Mark completed")),
}
NOTICES = {
    "fulfilling": N_("The order is being prepared."),
    "shipped": N_("Shipped. The shopper can follow the parcel."),
    "delivered": N_("Marked as delivered."),
    "completed": N_("Order completed."),
    "error": N_("That did not work: the order may have moved on already."),
    "platform": N_("The platform ships these units from its fulfilment centre."),
    "tracking": N_("Enter the carrier and the tracking number."),
}


def seller_order(ctx: PageCtx, order: Any, parcels: list[Any] | None = None) -> dict[str, Any]:
    ship = order.ship_to or {}
    return {
        "o": order,
        "status_label": STATUS_LABELS.get(order.status, order.status),
        "total": i18n.money(order.total.amount, order.total.currency, ctx.lang),
        "customer": f"{ship.get('recipient', '')}, {ship.get('postal_code', '')} {ship.get('city', '')}",
        "next": NEXT_STEP.get(order.status),
        "can_ship": order.status == "fulfilling",
        "parcels": parcels or [],
    }


@router.get("/seller/{merchant_id}/orders")
def orders_page(
    ctx: MerchantPage,
    merchant_id: str,
    status: str = "paid",
    cursor: str | None = None,
    done: str | None = None,
) -> Response:
    from etalage.commerce import manage
    from etalage.commerce.views import orders_out

    shop = shop_context(ctx, merchant_id, "orders")
    shown = status if status in dict(FILTERS) else "paid"
    rows, next_cursor = manage.list_for_merchant(
        ctx.db,
        ctx.principal,
        merchant_id,
        PageParams(cursor=cursor, limit=30),
        shown or None,  # type: ignore[arg-type]
    )
    parcels = parcels_of(ctx, [o.id for o in rows])
    orders = [seller_order(ctx, o, parcels.get(o.id)) for o in orders_out(ctx.db, rows, merchant_view=True)]
    return render(
        ctx, "seller/orders.html", orders=orders, filters=FILTERS, shown=shown, next_cursor=next_cursor,
        notice=NOTICES.get(done or ""), failed=done in ("error", "tracking"), carriers=CARRIERS,
        shipping_with_tracking=tracking_supported(), **shop,
    )  # fmt: skip


CARRIERS = ["bpost", "PostNL", "DHL", "DPD", "GLS", "UPS", "La Poste", "Correos", "Royal Mail", "USPS"]


def tracking_supported() -> bool:
    """Shipments with a carrier and tracking number belong to the fulfilment domain."""
    try:
        from etalage.fulfilment import shipments  # noqa: F401
    except ImportError:
        return False
    return True


def parcels_of(ctx: PageCtx, order_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The parcels of a page of orders (already the merchant's), as the cards show them."""
    if not tracking_supported():
        return {}
    from etalage.fulfilment import shipments
    from etalage.fulfilment.views import tracking_url

    found = shipments.shipments_for_orders(ctx.db, order_ids)
    return {
        oid: [
            {"carrier": s.carrier, "tracking_number": s.tracking_number, "status": s.status,
             "url": tracking_url(s.carrier, s.tracking_number), "by_platform": s.fulfilled_by == "platform"}
            for s in rows
        ]
        for oid, rows in found.items()
    }  # fmt: skip


@router.post("/seller/{merchant_id}/orders/{order_id}/ship")
def ship_order(ctx: MerchantPage, merchant_id: str, order_id: str, form: Form) -> Response:
    """One parcel with every unit still to ship, under the carrier and tracking number given."""
    from pydantic import ValidationError

    from etalage.fulfilment import shipments
    from etalage.fulfilment.schemas import ShipmentIn

    back = f"/seller/{merchant_id}/orders?status={form.get('shown', 'paid')}"
    try:
        body = ShipmentIn(
            carrier=str(form.get("carrier", ""))[:100],
            tracking_number=str(form.get("tracking_number", ""))[:100],
        )
    except ValidationError:
        return redirect(ctx, f"{back}&done=tracking")
    try:
        with ctx.db.begin_nested():
            shipments.create_shipment(
                ctx.db, ctx.principal, merchant_id, order_id,  # type: ignore[arg-type]
                carrier=body.carrier, tracking_number=body.tracking_number, lines=None, fulfilled_by="merchant",
            )  # fmt: skip
    except Conflict as exc:
        return redirect(
            ctx, f"{back}&done={'platform' if exc.extra.get('shipped_by') == 'platform' else 'error'}"
        )
    except InvalidInput:
        return redirect(ctx, f"{back}&done=tracking")
    return redirect(ctx, f"{back}&done=shipped")


@router.post("/seller/{merchant_id}/orders/{order_id}/step")
def order_step(ctx: MerchantPage, merchant_id: str, order_id: str, form: Form) -> Response:
    from etalage.commerce import manage

    to = str(form.get("to", ""))
    back = f"/seller/{merchant_id}/orders?status={form.get('shown', 'paid')}"
    if to not in ("fulfilling", "delivered", "completed", "shipped"):
        raise InvalidInput("No such step.")
    try:
        with ctx.db.begin_nested():
            if to == "delivered" and tracking_supported() and _deliver_parcels(ctx, merchant_id, order_id):
                return redirect(ctx, f"{back}&done={to}")
            manage.merchant_move(
                ctx.db, ctx.principal, merchant_id, order_id, to, "recorded in the seller center"
            )  # type: ignore[arg-type]
    except (Conflict, Forbidden):
        return redirect(ctx, f"{back}&done=error")
    return redirect(ctx, f"{back}&done={to}")


def _deliver_parcels(ctx: PageCtx, merchant_id: str, order_id: str) -> bool:
    """An order that went out in parcels is delivered parcel by parcel; False when it has none."""
    from etalage.fulfilment import shipments

    reason = "delivered (recorded in the seller center)"
    return shipments.deliver_all(ctx.db, ctx.principal, merchant_id, order_id, reason=reason) > 0  # type: ignore[arg-type]
