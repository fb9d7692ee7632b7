"""A person's account data, for data export (GDPR Art. 15/20) and erasure (Art. 17), asked by compliance.

Erasure keeps the ``users`` row (orders and moderation records point at its id) but scrubs it: the e-mail
becomes an address that cannot receive mail, the name "Erased user", the password unusable, birth date and
region gone; sessions, tokens and memberships are deleted. The pseudonym mapping is deleted separately
(``service.erase_pseudonym``) once the feed has forgotten the pseudonym.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from etalage.accounts.models import ApiToken, Membership, Organisation, Pseudonym, User, WebSession
from etalage.db import utcnow

ERASED_NAME = "Erased user"
ERASED_DOMAIN = "erased.invalid"  # RFC 2606: can never be a real address
UNUSABLE_PASSWORD = "!erased"  # not an argon2 hash: verification always fails


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export_user_account(session: Session, user_id: str) -> dict[str, Any]:
    user = session.get(User, user_id)
    if user is None:
        return {}
    memberships = session.execute(
        select(Membership.organisation_id, Organisation.name, Membership.role, Membership.created_at)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == user_id)
    ).all()
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    sessions = session.scalars(
        select(WebSession).where(WebSession.user_id == user_id).order_by(WebSession.id)
    )
    return {
        "profile": {
            "id": user.id, "email": user.email, "display_name": user.display_name, "roles": user.roles,
            "birth_date": _iso(user.birth_date), "locale": user.locale, "region_code": user.region_code,
            "created_at": _iso(user.created_at), "disabled_at": _iso(user.disabled_at),
        },
        "memberships": [
            {"merchant_id": mid, "merchant_name": name, "role": role, "since": _iso(at)}
            for mid, name, role, at in memberships
        ],
        # metadata only: a token's secret is never stored, only its hash (which is not exported either)
        "api_tokens": [
            {"id": t.id, "name": t.name, "prefix": t.prefix, "scopes": t.scopes, "merchant_id": t.merchant_id,
             "created_at": _iso(t.created_at), "expires_at": _iso(t.expires_at), "revoked_at": _iso(t.revoked_at),
             "last_used_at": _iso(t.last_used_at)}
            for t in tokens
        ],
        "sessions": [
            {"id": w.id, "created_at": _iso(w.created_at), "expires_at": _iso(w.expires_at),
             "revoked_at": _iso(w.revoked_at)}
            for w in sessions
        ],
        "pseudonym": session.scalar(select(Pseudonym.key).where(Pseudonym.user_id == user_id)),
    }  # fmt: skip


def erasure_blockers(session: Session, user_id: str) -> list[dict[str, str]]:
    """Merchants this person owns alone: they must hand them over (or have them closed) before erasure."""
    owned = session.scalars(
        select(Membership.organisation_id).where(Membership.user_id == user_id, Membership.role == "owner")
    ).all()
    out = []
    for mid in owned:
        owners = session.scalar(
            select(func.count()).where(Membership.organisation_id == mid, Membership.role == "owner")
        )
        if (owners or 0) <= 1:
            org = session.get(Organisation, mid)
            out.append({
                "reason": "sole_owner", "merchant_id": mid, "name": org.name if org else "",
                "what_to_do": "Hand the merchant over: add another owner (POST /api/v1/merchants/{id}/members "
                "with role owner), or ask the operator to close it; then ask again.".replace("{id}", mid),
            })  # fmt: skip
    return out


def revoke_access(session: Session, user_id: str) -> None:
    """Stop the account working at once: disabled, every session and token ended."""
    now = utcnow()
    user = session.get(User, user_id)
    if user is not None and user.disabled_at is None:
        user.disabled_at = now
    for model in (WebSession, ApiToken):
        for row in session.scalars(select(model).where(model.user_id == user_id, model.revoked_at.is_(None))):
            row.revoked_at = now


def erase_user_account(session: Session, user_id: str) -> dict[str, int]:
    """Scrub the account (idempotent). The pseudonym is left for ``service.erase_pseudonym``."""
    user = session.get(User, user_id)
    if user is None:
        return {}
    if not user.email.endswith("@" + ERASED_DOMAIN):
        user.email = f"erased-{secrets.token_hex(8)}@{ERASED_DOMAIN}"
    user.display_name, user.password_hash = ERASED_NAME, UNUSABLE_PASSWORD
    user.birth_date, user.region_code, user.roles = None, None, []
    user.disabled_at = user.disabled_at or utcnow()
    counts = {}
    for name, model in (("sessions", WebSession), ("api_tokens", ApiToken), ("memberships", Membership)):
        counts[name] = int(session.execute(delete(model).where(model.user_id == user_id)).rowcount or 0)
    return counts
