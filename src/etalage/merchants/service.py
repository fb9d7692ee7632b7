"""Trader onboarding and verification (DSA Art. 30), and warehouses. No HTTP here.

States: draft → submitted → verified | rejected; verified ⇄ suspended. A rejected trader fixes the details
and submits again. Every change of state is recorded with who made it and why. Editing the details that
identify the trader or where the money goes (name, ID document, payment account, trade register, country)
after verification sends the profile back to review; contact details can change without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal, require_merchant, require_scope
from etalage.commerce.regions import is_region
from etalage.core.errors import Conflict, InvalidInput, NotFound
from etalage.core.pagination import PageParams, paginate
from etalage.db import utcnow
from etalage.merchants.models import TraderProfile, TraderStatusEvent, Warehouse

REQUIRED = (
    "legal_name",
    "address_line1",
    "postal_code",
    "city",
    "country",
    "phone",
    "email",
    "id_document_type",
    "id_document_ref",
    "payment_account",
)
IDENTITY_FIELDS = frozenset(
    {
        "legal_name",
        "country",
        "id_document_type",
        "id_document_ref",
        "payment_account",
        "trade_register_name",
        "trade_register_number",
    }
)
# decision -> (statuses it applies to, resulting status)
DECISIONS: dict[str, tuple[frozenset[str], str]] = {
    "verify": (frozenset({"submitted"}), "verified"),
    "reject": (frozenset({"submitted"}), "rejected"),
    "suspend": (frozenset({"submitted", "verified"}), "suspended"),
    "reinstate": (frozenset({"suspended"}), "verified"),
}
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")


def iban_is_valid(value: str) -> bool:
    """ISO 13616 check digits (mod 97 = 1)."""
    iban = value.replace(" ", "").upper()
    if not _IBAN.match(iban):
        return False
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def looks_like_iban(value: str) -> bool:
    v = value.replace(" ", "").upper()
    return len(v) >= 15 and v[:2].isalpha() and v[2:4].isdigit()


def mask_account(value: str | None) -> str | None:
    if not value:
        return value
    v = value.replace(" ", "")
    return f"{v[:4]}…{v[-4:]}" if len(v) > 8 else "…" + v[-2:]


def missing_fields(profile: TraderProfile) -> list[str]:
    missing = [f for f in REQUIRED if not getattr(profile, f)]
    if profile.self_certified_at is None:
        missing.append("self_certification")
    if profile.trade_register_name and not profile.trade_register_number:
        missing.append("trade_register_number")
    return missing


def _record(
    session: Session, merchant_id: str, before: str | None, after: str, actor: str, reason: str
) -> None:
    session.add(
        TraderStatusEvent(
            merchant_id=merchant_id, from_status=before, to_status=after, actor_id=actor, reason=reason
        )
    )


def _profile(session: Session, merchant_id: str, *, create: bool = False) -> TraderProfile:
    profile = session.get(TraderProfile, merchant_id)
    if profile is None:
        accounts.get_organisation(session, merchant_id)  # 404 for an unknown merchant
        if not create:
            profile = TraderProfile(merchant_id=merchant_id, status="draft")  # not stored until edited
            return profile
        profile = TraderProfile(merchant_id=merchant_id, status="draft")
        session.add(profile)
        session.flush()  # later lookups in this transaction (autoflush is off) must find it
    return profile


def _can_review(principal: Principal) -> bool:
    return principal.has_scope("moderation")


def _require_member_or_reviewer(principal: Principal, merchant_id: str, *, write: bool = False) -> None:
    if not write and _can_review(principal) and principal.bound_merchant_id is None:
        return
    require_merchant(principal, merchant_id, write=write)


def get_profile(session: Session, principal: Principal, merchant_id: str) -> tuple[TraderProfile, bool]:
    """The trader profile and whether the caller may see the payment account in full (reviewers)."""
    _require_member_or_reviewer(principal, merchant_id)
    reviewer = _can_review(principal) and merchant_id not in principal.memberships
    return _profile(session, merchant_id), reviewer


def update_profile(
    session: Session, principal: Principal, merchant_id: str, changes: dict[str, Any]
) -> TraderProfile:
    require_merchant(principal, merchant_id, write=True, owner=True)
    profile = _profile(session, merchant_id, create=True)
    certify = changes.pop("self_certification", None)
    if changes.get("country") and not is_region(changes["country"]):
        raise InvalidInput("Etalage has no launch region with this country code.", field="country")
    account = changes.get("payment_account")
    if account and looks_like_iban(account):
        if not iban_is_valid(account):
            raise InvalidInput(
                "The IBAN's check digits are wrong; check the account number.", field="payment_account"
            )
        changes["payment_account"] = account.replace(" ", "").upper()
    touched_identity = False
    for key, value in changes.items():
        if getattr(profile, key) != value:
            touched_identity |= key in IDENTITY_FIELDS
            setattr(profile, key, value)
    if certify is True and profile.self_certified_at is None:
        profile.self_certified_at = utcnow()
    elif certify is False:
        profile.self_certified_at = None
        touched_identity = True
    profile.updated_at = utcnow()
    if profile.status == "verified" and touched_identity:
        _record(
            session,
            merchant_id,
            "verified",
            "submitted",
            principal.user_id,
            "Identity or payment details changed; they need verifying again.",
        )
        profile.status, profile.submitted_at = "submitted", utcnow()
    return profile


def submit_profile(session: Session, principal: Principal, merchant_id: str) -> TraderProfile:
    require_merchant(principal, merchant_id, write=True, owner=True)
    profile = _profile(session, merchant_id, create=True)
    if profile.status not in ("draft", "rejected"):
        raise Conflict(f"The profile is {profile.status}; only a draft or rejected profile can be submitted.")
    missing = missing_fields(profile)
    if missing:
        raise InvalidInput(
            "Fill in the missing trader details (PUT .../trader-profile) and submit again.", missing=missing
        )
    _record(
        session, merchant_id, profile.status, "submitted", principal.user_id, "Submitted for verification."
    )
    profile.status, profile.submitted_at, profile.updated_at = "submitted", utcnow(), utcnow()
    return profile


def decide(
    session: Session, principal: Principal, merchant_id: str, decision: str, reason: str
) -> TraderProfile:
    """A moderator's decision; the reason is recorded and shown to the trader."""
    require_scope(principal, "moderation")
    profile = session.get(TraderProfile, merchant_id)
    if profile is None:
        accounts.get_organisation(session, merchant_id)
        raise Conflict("This merchant has not submitted trader details yet.")
    allowed_from, to = DECISIONS[decision]
    if profile.status not in allowed_from:
        raise Conflict(
            f"Cannot {decision} a trader who is {profile.status}.",
            status_now=profile.status,
            allowed_from=sorted(allowed_from),
        )
    if decision == "verify" and missing_fields(profile):
        raise Conflict(
            "The details are incomplete; reject with a reason instead.", missing=missing_fields(profile)
        )
    _record(session, merchant_id, profile.status, to, principal.user_id, reason)
    now = utcnow()
    profile.status, profile.status_reason = to, reason
    profile.decided_at, profile.decided_by, profile.updated_at = now, principal.user_id, now
    return profile


def history(session: Session, principal: Principal, merchant_id: str) -> list[TraderStatusEvent]:
    _require_member_or_reviewer(principal, merchant_id)
    accounts.get_organisation(session, merchant_id)
    stmt = select(TraderStatusEvent).where(TraderStatusEvent.merchant_id == merchant_id)
    return list(session.scalars(stmt.order_by(TraderStatusEvent.id)))


def review_queue(
    session: Session, principal: Principal, status: str, params: PageParams
) -> tuple[list[tuple[TraderProfile, str]], str | None]:
    require_scope(principal, "moderation")
    rows, cursor = paginate(
        session,
        select(TraderProfile).where(TraderProfile.status == status),
        TraderProfile.merchant_id,
        params,
    )
    names = accounts.organisation_names(session, [p.merchant_id for p in rows])
    return [(p, names.get(p.merchant_id, "")) for p in rows], cursor


def public_trader(session: Session, merchant_id: str) -> tuple[TraderProfile, str]:
    """The trader details shown to shoppers; only verified traders have any."""
    profile = session.get(TraderProfile, merchant_id)
    if profile is None or profile.status != "verified":
        raise NotFound(f"No verified trader {merchant_id}.")
    return profile, accounts.get_organisation(session, merchant_id).name


# --- what other domains ask ------------------------------------------------------------------------------


def verified_merchant_ids(session: Session, merchant_ids: Iterable[str] | None = None) -> set[str]:
    """The merchants allowed to sell now (verified traders), among ``merchant_ids`` or all."""
    if merchant_ids is None:
        return set(session.connection().execute(_VERIFIED).scalars())
    ids = list(set(merchant_ids))
    if not ids:
        return set()
    return set(session.connection().execute(_VERIFIED_AMONG, {"ids": ids}).scalars())


_VERIFIED = select(TraderProfile.__table__.c.merchant_id).where(
    TraderProfile.__table__.c.status == "verified"
)
_VERIFIED_AMONG = _VERIFIED.where(TraderProfile.__table__.c.merchant_id.in_(bindparam("ids", expanding=True)))


def trader_status(session: Session, merchant_id: str) -> str:
    return (
        session.scalar(select(TraderProfile.status).where(TraderProfile.merchant_id == merchant_id))
        or "draft"
    )


# --- warehouses --------------------------------------------------------------------------------------------


def create_warehouse(
    session: Session, principal: Principal, merchant_id: str, data: dict[str, Any]
) -> Warehouse:
    require_merchant(principal, merchant_id, write=True)
    accounts.get_organisation(session, merchant_id)
    if not is_region(data["region_code"]):
        raise InvalidInput("Etalage does not deliver in this region.", field="region_code")
    if data["region_code"] == "US" and not data.get("state"):
        raise InvalidInput("A US warehouse needs its state.", field="state")
    if data.get("operator") == "fulfilment_partner" and not data.get("partner_name"):
        raise InvalidInput("Name the fulfilment partner.", field="partner_name")
    warehouse = Warehouse(merchant_id=merchant_id, **data)
    session.add(warehouse)
    session.flush()
    return warehouse


def list_warehouses(session: Session, principal: Principal, merchant_id: str) -> list[Warehouse]:
    require_merchant(principal, merchant_id)
    stmt = select(Warehouse).where(Warehouse.merchant_id == merchant_id).order_by(Warehouse.id)
    return list(session.scalars(stmt))


def update_warehouse(
    session: Session, principal: Principal, merchant_id: str, warehouse_id: str, changes: dict[str, Any]
) -> Warehouse:
    require_merchant(principal, merchant_id, write=True)
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None or warehouse.merchant_id != merchant_id:
        raise NotFound(f"No warehouse {warehouse_id}.")
    for key, value in changes.items():
        if value is not None:
            setattr(warehouse, key, value)
    if changes.get("active") is not None:
        from etalage.inventory import service as inventory  # inventory depends on us, not the other way

        inventory.set_warehouse_active(
            session, warehouse_id, bool(changes["active"]), actor=principal.user_id
        )
    return warehouse


def get_warehouse(session: Session, warehouse_id: str) -> Warehouse | None:
    return session.get(Warehouse, warehouse_id)


def bulk_insert_profiles(session: Session, rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    """For the demo builder: verified traders in one statement each."""
    session.execute(insert(TraderProfile), rows)
    session.execute(insert(TraderStatusEvent), events)
