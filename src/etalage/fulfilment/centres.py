"""Fulfilment by the platform: centres the platform runs, and verified merchants enrolled in them.

Enrolling gives the merchant a warehouse (``merchants``) at the centre's address with operator 'platform'.
Stock sent there is received by platform staff through inventory as usual, checkout sells from it like any
warehouse in its region, and the units of an order taken from it are shipped by platform staff, never by
the merchant (who does not hold them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant, require_scope
from etalage.commerce.regions import is_region
from etalage.core.errors import Conflict, InvalidInput, NotFound
from etalage.fulfilment import history
from etalage.fulfilment.models import FulfilmentCentre, FulfilmentEnrolment

PLATFORM_OPERATOR = "platform"


def create_centre(session: Session, principal: Principal, data: dict[str, Any]) -> FulfilmentCentre:
    require_scope(principal, "admin")
    if not is_region(data["region_code"]):
        raise InvalidInput("Etalage does not deliver in this region.", field="region_code")
    if data["region_code"] == "US" and not data.get("state"):
        raise InvalidInput("A US centre needs its state.", field="state")
    centre = FulfilmentCentre(**data, created_by=principal.user_id)
    session.add(centre)
    session.flush()
    history.record(session, centre.id, None, None, "active", actor=principal.user_id, reason="centre opened")
    return centre


def list_centres(session: Session, region_code: str | None = None) -> list[FulfilmentCentre]:
    stmt = select(FulfilmentCentre).where(FulfilmentCentre.active.is_(True))
    if region_code:
        stmt = stmt.where(FulfilmentCentre.region_code == region_code)
    return list(session.scalars(stmt.order_by(FulfilmentCentre.id)))


def enrol(
    session: Session, principal: Principal, merchant_id: str, centre_id: str
) -> tuple[FulfilmentEnrolment, bool]:
    """Keep the merchant's stock at ``centre_id``. Returns (enrolment, created); enrolling again is a no-op."""
    from etalage.merchants import service as merchants

    require_merchant(principal, merchant_id, write=True)
    centre = session.get(FulfilmentCentre, centre_id)
    if centre is None or not centre.active:
        raise NotFound(f"No fulfilment centre {centre_id}.", field="centre_id")
    existing = session.scalar(
        select(FulfilmentEnrolment).where(
            FulfilmentEnrolment.merchant_id == merchant_id, FulfilmentEnrolment.centre_id == centre_id
        )
    )
    if existing is not None:
        return existing, False
    if merchants.trader_status(session, merchant_id) != "verified":
        raise Conflict("Only verified traders can have the platform fulfil their orders.")
    warehouse = merchants.create_warehouse(
        session,
        principal,
        merchant_id,
        dict(
            name=f"{centre.name} (Etalage fulfilment)"[:100],
            operator=PLATFORM_OPERATOR,
            partner_name="Etalage fulfilment",
            address_line1=centre.address_line1,
            address_line2=None,
            postal_code=centre.postal_code,
            city=centre.city,
            state=centre.state,
            region_code=centre.region_code,
        ),
    )
    enrolment = FulfilmentEnrolment(
        merchant_id=merchant_id, centre_id=centre.id, warehouse_id=warehouse.id, created_by=principal.user_id
    )
    session.add(enrolment)
    session.flush()
    history.record(
        session,
        enrolment.id,
        None,
        None,
        "active",
        actor=principal.user_id,
        reason=f"enrolled in {centre.id}",
    )
    return enrolment, True


def enrolments_of(session: Session, principal: Principal, merchant_id: str) -> list[FulfilmentEnrolment]:
    require_merchant(principal, merchant_id)
    stmt = select(FulfilmentEnrolment).where(FulfilmentEnrolment.merchant_id == merchant_id)
    return list(session.scalars(stmt.order_by(FulfilmentEnrolment.id)))


def platform_warehouse_ids(session: Session, merchant_id: str) -> set[str]:
    """The merchant's warehouses that the platform operates (their units are the platform's to ship)."""
    stmt = select(FulfilmentEnrolment.warehouse_id).where(FulfilmentEnrolment.merchant_id == merchant_id)
    return set(session.scalars(stmt))
