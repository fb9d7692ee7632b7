"""After-sale routes: parcels and their tracking, delivery, returns, and the platform's fulfilment centres."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Response, status

from etalage.accounts.deps import Admin, CurrentPrincipal, MerchantReader, MerchantWriter, Shopper
from etalage.commerce import idempotency
from etalage.core.deps import DbSession
from etalage.core.pagination import Page, PageParams, page_params, paginate
from etalage.core.routing import api_router
from etalage.fulfilment import centres, returns, service, shipments
from etalage.fulfilment.models import ReturnRequest
from etalage.fulfilment.schemas import (
    CentreIn,
    CentreOut,
    DecisionIn,
    DeliveredIn,
    EnrolIn,
    EnrolmentOut,
    ReceiptIn,
    ReturnIn,
    ReturnOut,
    ReturnRefundIn,
    ShipmentIn,
    ShipmentOut,
)
from etalage.fulfilment.views import returns_out, shipments_out

router = api_router(prefix="/api/v1", tags=["fulfilment"])
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]
ReturnStatus = Annotated[
    str | None, Query(alias="status", pattern="^(requested|approved|rejected|received|refunded)$")
]


def _one_shipment(session: DbSession, shipment) -> ShipmentOut:  # type: ignore[no-untyped-def]
    return shipments_out(session, [shipment])[0]


def _one_return(session: DbSession, ret: ReturnRequest) -> ReturnOut:
    return returns_out(session, [ret])[0]


# --- shoppers -------------------------------------------------------------------------------------------


@router.get("/orders/{order_id}/shipments", response_model=list[ShipmentOut])
def my_order_shipments(order_id: str, principal: Shopper, session: DbSession) -> list[ShipmentOut]:
    """The parcels of one of your orders, with carrier, tracking number and delivery."""
    return shipments_out(session, shipments.for_shopper(session, principal, order_id))


@router.post("/shipments/{shipment_id}/received", response_model=ShipmentOut)
def confirm_received(shipment_id: str, principal: Shopper, session: DbSession) -> ShipmentOut:
    """Tell us a parcel arrived (the return window counts from its delivery)."""
    return _one_shipment(session, shipments.shopper_received(session, principal, shipment_id))


@router.post("/orders/{order_id}/returns", response_model=ReturnOut, status_code=status.HTTP_201_CREATED)
def request_return(
    order_id: str,
    body: ReturnIn,
    principal: Shopper,
    session: DbSession,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReturnOut:
    """Ask to return delivered units within the region's window (14 days from delivery in the EU)."""
    fp = idempotency.fingerprint(f"return:{order_id}", body.model_dump(mode="json"))
    lines = [(ln.variant_id, ln.quantity) for ln in body.lines]
    ret, created = service.request_return(session, principal, order_id, lines, body.reason,
                                          key=idempotency_key, fp=fp)  # fmt: skip
    if not created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return _one_return(session, ret)


@router.get("/orders/{order_id}/returns", response_model=list[ReturnOut])
def my_order_returns(order_id: str, principal: Shopper, session: DbSession) -> list[ReturnOut]:
    from etalage.commerce import orders as order_store

    order_store.get_for_user(session, principal.user_id, order_id)
    return returns_out(session, returns.for_order(session, order_id))


@router.get("/returns/{return_id}", response_model=ReturnOut)
def my_return(return_id: str, principal: Shopper, session: DbSession) -> ReturnOut:
    return _one_return(session, returns.shopper_return(session, principal, return_id))


# --- merchants ------------------------------------------------------------------------------------------


@router.post(
    "/merchants/{merchant_id}/orders/{order_id}/shipments",
    response_model=ShipmentOut,
    status_code=status.HTTP_201_CREATED,
    tags=["merchants"],
)
def ship(
    merchant_id: str,
    order_id: str,
    body: ShipmentIn,
    principal: MerchantWriter,
    session: DbSession,
    response: Response,
) -> ShipmentOut:
    """Record a parcel (some or all units still to ship) with its carrier and tracking number. The order
    becomes shipped once every unit is in a parcel. The same tracking number again answers the same parcel."""
    wants = None if body.lines is None else [shipments.Want(ln.variant_id, ln.quantity) for ln in body.lines]
    shipment, created = shipments.create_shipment(
        session, principal, merchant_id, order_id, carrier=body.carrier, tracking_number=body.tracking_number,
        lines=wants, fulfilled_by=body.fulfilled_by,
    )  # fmt: skip
    if not created:
        response.status_code = status.HTTP_200_OK
    return _one_shipment(session, shipment)


@router.get(
    "/merchants/{merchant_id}/orders/{order_id}/shipments",
    response_model=list[ShipmentOut],
    tags=["merchants"],
)
def order_shipments(
    merchant_id: str, order_id: str, principal: MerchantReader, session: DbSession
) -> list[ShipmentOut]:
    return shipments_out(session, shipments.for_merchant(session, principal, merchant_id, order_id))


@router.post(
    "/merchants/{merchant_id}/shipments/{shipment_id}/delivered",
    response_model=ShipmentOut,
    tags=["merchants"],
)
def delivered(
    merchant_id: str, shipment_id: str, body: DeliveredIn, principal: MerchantWriter, session: DbSession
) -> ShipmentOut:
    """Record delivery (e.g. from the carrier's scan). The order becomes delivered with its last parcel."""
    shipment = shipments.merchant_delivered(session, principal, merchant_id, shipment_id, reason=body.reason,
                                            at=body.delivered_at)  # fmt: skip
    return _one_shipment(session, shipment)


@router.get("/merchants/{merchant_id}/returns", response_model=Page[ReturnOut], tags=["merchants"])
def merchant_returns(
    merchant_id: str,
    principal: MerchantReader,
    session: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
    status_filter: ReturnStatus = None,
) -> Page[ReturnOut]:
    from sqlalchemy import select

    from etalage.accounts.authz import require_merchant

    require_merchant(principal, merchant_id)
    stmt = select(ReturnRequest).where(ReturnRequest.merchant_id == merchant_id)
    if status_filter:
        stmt = stmt.where(ReturnRequest.status == status_filter)
    rows, cursor = paginate(session, stmt, ReturnRequest.id, params)
    return Page(items=returns_out(session, rows), next_cursor=cursor)


@router.get("/merchants/{merchant_id}/returns/{return_id}", response_model=ReturnOut, tags=["merchants"])
def merchant_return(
    merchant_id: str, return_id: str, principal: MerchantReader, session: DbSession
) -> ReturnOut:
    return _one_return(session, returns.merchant_return(session, principal, merchant_id, return_id))


@router.post(
    "/merchants/{merchant_id}/returns/{return_id}/decision", response_model=ReturnOut, tags=["merchants"]
)
def decide_return(
    merchant_id: str, return_id: str, body: DecisionIn, principal: MerchantWriter, session: DbSession
) -> ReturnOut:
    """Approve or reject a return request, with a reason the shopper reads."""
    ret = returns.decide(session, principal, merchant_id, return_id, body.decision, body.reason)
    return _one_return(session, ret)


@router.post(
    "/merchants/{merchant_id}/returns/{return_id}/receipt", response_model=ReturnOut, tags=["merchants"]
)
def receive_return(
    merchant_id: str, return_id: str, body: ReceiptIn, principal: MerchantWriter, session: DbSession
) -> ReturnOut:
    """The goods came back: restocked where they were sold from (unless ``restock`` is false)."""
    ret = returns.receive(
        session, principal, merchant_id, return_id, restock=body.restock, reason=body.reason
    )
    return _one_return(session, ret)


@router.post(
    "/merchants/{merchant_id}/returns/{return_id}/refund",
    response_model=ReturnOut,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["merchants"],
)
def refund_return(
    merchant_id: str,
    return_id: str,
    body: ReturnRefundIn,
    principal: MerchantWriter,
    session: DbSession,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReturnOut:
    """Refund a received return (its value by default; partial or with shipping as ``amount``). Accepted at
    once; the payment provider is asked by a durable job. Needs an ``Idempotency-Key``."""
    fp = idempotency.fingerprint(f"return-refund:{return_id}", body.model_dump(mode="json"))
    ret = returns.refund(
        session, principal, merchant_id, return_id, amount=body.amount.amount if body.amount else None,
        currency=body.amount.currency if body.amount else None, reason=body.reason, key=idempotency_key, fp=fp,
    )  # fmt: skip
    return _one_return(session, ret)


def _enrolment_out(e) -> EnrolmentOut:  # type: ignore[no-untyped-def]
    return EnrolmentOut(id=e.id, merchant_id=e.merchant_id, centre_id=e.centre_id, warehouse_id=e.warehouse_id,
                        created_at=e.created_at)  # fmt: skip


@router.post(
    "/merchants/{merchant_id}/fulfilment-enrolments",
    response_model=EnrolmentOut,
    status_code=status.HTTP_201_CREATED,
    tags=["merchants"],
)
def enrol(
    merchant_id: str, body: EnrolIn, principal: MerchantWriter, session: DbSession, response: Response
) -> EnrolmentOut:
    """Have the platform keep and ship your stock from one of its centres (verified traders)."""
    enrolment, created = centres.enrol(session, principal, merchant_id, body.centre_id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _enrolment_out(enrolment)


@router.get(
    "/merchants/{merchant_id}/fulfilment-enrolments", response_model=list[EnrolmentOut], tags=["merchants"]
)
def enrolments(merchant_id: str, principal: MerchantReader, session: DbSession) -> list[EnrolmentOut]:
    return [_enrolment_out(e) for e in centres.enrolments_of(session, principal, merchant_id)]


# --- the platform ----------------------------------------------------------------------------------------


def _centre_out(c) -> CentreOut:  # type: ignore[no-untyped-def]
    return CentreOut(id=c.id, name=c.name, address_line1=c.address_line1, postal_code=c.postal_code, city=c.city,
                     state=c.state, region_code=c.region_code)  # fmt: skip


@router.get("/fulfilment-centres", response_model=list[CentreOut])
def list_centres(
    principal: CurrentPrincipal,
    session: DbSession,
    region: Annotated[str | None, Query(pattern="^[A-Z]{2}$")] = None,
) -> list[CentreOut]:
    """The platform's fulfilment centres a merchant may enrol in."""
    return [_centre_out(c) for c in centres.list_centres(session, region)]


@router.post(
    "/admin/fulfilment-centres", response_model=CentreOut, status_code=status.HTTP_201_CREATED, tags=["admin"]
)
def create_centre(body: CentreIn, principal: Admin, session: DbSession) -> CentreOut:
    return _centre_out(centres.create_centre(session, principal, body.model_dump()))
