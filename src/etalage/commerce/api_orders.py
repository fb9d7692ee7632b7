"""Order routes: the shopper's side and the merchant's side of the same orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, status

from etalage.accounts.deps import MerchantReader, MerchantWriter, Shopper
from etalage.commerce import idempotency, manage
from etalage.commerce import orders as order_store
from etalage.commerce.schemas import (
    CancelIn,
    CheckoutOut,
    OrderDetailOut,
    OrderOut,
    RefundIn,
    RefundOut,
    TransitionIn,
)
from etalage.commerce.views import money, order_detail, orders_out
from etalage.core.deps import DbSession
from etalage.core.pagination import Page, PageParams, page_params
from etalage.core.routing import api_router
from etalage.payments import refunds
from etalage.payments.models import Refund

router = api_router(prefix="/api/v1", tags=["orders"])
IdempotencyKeyHeader = Annotated[
    str | None, Header(alias="Idempotency-Key", description="Required for money-moving requests.")
]
StatusFilter = Annotated[
    str | None,
    Query(
        alias="status",
        pattern="^(awaiting_payment|paid|fulfilling|shipped|delivered|completed|cancelled|partially_refunded|refunded)$",
    ),
]


def refund_out(r: Refund) -> RefundOut:
    return RefundOut(
        id=r.id,
        order_id=r.order_id,
        amount=money(r.amount, r.currency),
        status=r.status,
        reason=r.reason,
        created_at=r.created_at,
    )


# --- shoppers -------------------------------------------------------------------------------------------


@router.get("/orders", response_model=Page[OrderOut])
def my_orders(
    principal: Shopper, session: DbSession, params: Annotated[PageParams, Depends(page_params)]
) -> Page[OrderOut]:
    rows, cursor = manage.list_for_shopper(session, principal, params)
    return Page(items=orders_out(session, rows), next_cursor=cursor)


@router.get("/orders/{order_id}", response_model=OrderDetailOut)
def my_order(order_id: str, principal: Shopper, session: DbSession) -> OrderDetailOut:
    """One of your orders with its full history."""
    return order_detail(session, order_store.get_for_user(session, principal.user_id, order_id))


@router.post("/orders/{order_id}/cancel", response_model=OrderDetailOut)
def cancel_my_order(
    order_id: str,
    body: CancelIn,
    principal: Shopper,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> OrderDetailOut:
    """Cancel a paid order the merchant has not started on; you are refunded in full."""
    fp = idempotency.fingerprint(f"cancel:{order_id}", body.model_dump(mode="json"))
    order = manage.shopper_cancel(session, principal, order_id, body.reason, key=idempotency_key, fp=fp)
    return order_detail(session, order)


@router.post("/checkouts/{checkout_id}/cancel", response_model=CheckoutOut)
def cancel_checkout(checkout_id: str, principal: Shopper, session: DbSession) -> CheckoutOut:
    """Abandon a checkout still waiting for payment: nothing is charged and the items go back."""
    return manage.cancel_checkout(session, principal, checkout_id)


# --- merchants ------------------------------------------------------------------------------------------


@router.get("/merchants/{merchant_id}/orders", response_model=Page[OrderOut], tags=["merchants"])
def merchant_orders(
    merchant_id: str,
    principal: MerchantReader,
    session: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
    status_filter: StatusFilter = None,
) -> Page[OrderOut]:
    rows, cursor = manage.list_for_merchant(session, principal, merchant_id, params, status_filter)
    return Page(items=orders_out(session, rows, merchant_view=True), next_cursor=cursor)


@router.get("/merchants/{merchant_id}/orders/{order_id}", response_model=OrderDetailOut, tags=["merchants"])
def merchant_order(
    merchant_id: str, order_id: str, principal: MerchantReader, session: DbSession
) -> OrderDetailOut:
    return order_detail(
        session, manage.merchant_order(session, principal, merchant_id, order_id), merchant_view=True
    )


@router.post(
    "/merchants/{merchant_id}/orders/{order_id}/transitions",
    response_model=OrderDetailOut,
    tags=["merchants"],
)
def move_order(
    merchant_id: str, order_id: str, body: TransitionIn, principal: MerchantWriter, session: DbSession
) -> OrderDetailOut:
    """Record a fulfilment step: fulfilling, shipped, delivered, completed (in that order)."""
    order = manage.merchant_move(session, principal, merchant_id, order_id, body.to, body.reason)
    return order_detail(session, order, merchant_view=True)


@router.post(
    "/merchants/{merchant_id}/orders/{order_id}/refunds",
    response_model=RefundOut,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["merchants"],
)
def refund_order(
    merchant_id: str,
    order_id: str,
    body: RefundIn,
    principal: MerchantWriter,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RefundOut:
    """Refund (part of) an order. Accepted at once; the provider confirms it and the order follows."""
    fp = idempotency.fingerprint(f"refund:{order_id}", body.model_dump(mode="json"))
    refund = manage.merchant_refund(
        session,
        principal,
        merchant_id,
        order_id,
        body.amount.amount,
        body.amount.currency,
        body.reason,
        key=idempotency_key,
        fp=fp,
    )
    return refund_out(refund)


@router.get(
    "/merchants/{merchant_id}/orders/{order_id}/refunds", response_model=list[RefundOut], tags=["merchants"]
)
def order_refunds(
    merchant_id: str, order_id: str, principal: MerchantReader, session: DbSession
) -> list[RefundOut]:
    order = manage.merchant_order(session, principal, merchant_id, order_id)
    return [refund_out(r) for r in refunds.refunds_for_order(session, order.id)]
