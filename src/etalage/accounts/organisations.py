"""Merchant organisations and their members (owner, staff). Re-exported by ``accounts.service``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant
from etalage.accounts.models import Membership, Organisation, User
from etalage.core.errors import Conflict, NotFound


def create_organisation(session: Session, owner_user_id: str, name: str) -> Organisation:
    org = Organisation(name=name)
    session.add(org)
    session.flush()
    session.add(Membership(organisation_id=org.id, user_id=owner_user_id, role="owner"))
    return org


def get_organisation(session: Session, merchant_id: str) -> Organisation:
    org = session.get(Organisation, merchant_id)
    if org is None:
        raise NotFound(f"No merchant {merchant_id}.")
    return org


def organisation_names(session: Session, merchant_ids: list[str]) -> dict[str, str]:
    if not merchant_ids:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(merchant_ids))
    )
    return {mid: name for mid, name in rows}


def list_members(session: Session, principal: Principal, merchant_id: str) -> list[tuple[Membership, User]]:
    require_merchant(principal, merchant_id)
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id == merchant_id)
        .order_by(Membership.created_at)
    )
    return [(m, u) for m, u in rows]


def add_member(
    session: Session, principal: Principal, merchant_id: str, email: str, role: str
) -> tuple[Membership, User]:
    require_merchant(principal, merchant_id, write=True, owner=True)
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound("No account with this e-mail; ask them to register first.", field="email")
    if session.get(Membership, (merchant_id, user.id)) is not None:
        raise Conflict("This person is already a member.")
    membership = Membership(organisation_id=merchant_id, user_id=user.id, role=role)
    session.add(membership)
    session.flush()
    return membership, user


def remove_member(session: Session, principal: Principal, merchant_id: str, user_id: str) -> None:
    require_merchant(principal, merchant_id, write=True, owner=True)
    membership = session.get(Membership, (merchant_id, user_id))
    if membership is None:
        raise NotFound(f"No member {user_id} in this merchant.")
    if membership.role == "owner":
        owners = session.scalars(
            select(Membership).where(Membership.organisation_id == merchant_id, Membership.role == "owner")
        ).all()
        if len(owners) == 1:
            raise Conflict("A merchant must keep at least one owner.")
    session.delete(membership)
