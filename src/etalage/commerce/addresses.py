"""Shoppers' saved delivery addresses (personal data: stays in commerce)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal
from etalage.commerce.models import Address
from etalage.commerce.regions import US_STATE_SALES_TAX_BP, is_region
from etalage.core.errors import InvalidInput, NotFound
from etalage.db import new_id, utcnow

MAX_ADDRESSES = 20


def add_address(session: Session, principal: Principal, data: dict[str, Any], make_default: bool) -> Address:
    if not is_region(data["country"]):
        raise InvalidInput(f"Etalage does not deliver to {data['country']}.", field="country")
    if data["country"] == "US":
        if data.get("state") not in US_STATE_SALES_TAX_BP:
            raise InvalidInput("A US address needs its two-letter state code (e.g. CA).", field="state")
    else:
        data["state"] = None
    existing = list(
        session.scalars(
            select(Address).where(Address.user_id == principal.user_id, Address.deleted_at.is_(None))
        )
    )
    if len(existing) >= MAX_ADDRESSES:
        raise InvalidInput(f"At most {MAX_ADDRESSES} addresses; delete one first.")
    default = make_default or not any(a.is_default for a in existing)
    if default:
        session.execute(update(Address).where(Address.user_id == principal.user_id).values(is_default=False))
    address = Address(id=new_id("adr"), user_id=principal.user_id, is_default=default, **data)
    session.add(address)
    session.flush()
    return address


def list_addresses(session: Session, principal: Principal) -> list[Address]:
    stmt = select(Address).where(Address.user_id == principal.user_id, Address.deleted_at.is_(None))
    return list(session.scalars(stmt.order_by(Address.is_default.desc(), Address.id.desc())))


def _own(session: Session, principal: Principal, address_id: str) -> Address:
    address = session.get(Address, address_id)
    if address is None or address.user_id != principal.user_id or address.deleted_at is not None:
        raise NotFound(f"No address {address_id}.")
    return address


def remove_address(session: Session, principal: Principal, address_id: str) -> None:
    address = _own(session, principal, address_id)
    address.deleted_at, address.is_default = utcnow(), False  # orders keep their own copy


def make_default(session: Session, principal: Principal, address_id: str) -> Address:
    address = _own(session, principal, address_id)
    session.execute(update(Address).where(Address.user_id == principal.user_id).values(is_default=False))
    address.is_default = True
    return address


_a = Address.__table__.c
_LIVE = select(Address.__table__).where(_a.user_id == bindparam("user"), _a.deleted_at.is_(None))
_CHOSEN = _LIVE.where(_a.id == bindparam("id")).limit(1)
_DEFAULT = _LIVE.where(_a.is_default.is_(True)).limit(1)


def address_for_checkout(session: Session, user_id: str, address_id: str | None) -> Any | None:
    """The chosen (or default) address as a plain row (Core: checkout reads it on every purchase)."""
    if address_id:
        return session.connection().execute(_CHOSEN, {"user": user_id, "id": address_id}).first()
    return session.connection().execute(_DEFAULT, {"user": user_id}).first()


def snapshot(address: Any) -> dict[str, Any]:
    """The copy an order keeps, so later edits of the address book never rewrite history."""
    return {
        k: getattr(address, k)
        for k in ("recipient", "line1", "line2", "postal_code", "city", "state", "country", "phone")
    }
