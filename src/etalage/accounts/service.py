"""Accounts logic: registration, passwords, sessions, tokens, organisations, pseudonyms. No HTTP here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant, scopes_for
from etalage.accounts.models import ApiToken, Membership, Pseudonym, User, WebSession
from etalage.accounts.organisations import (  # noqa: F401  part of this service's interface
    add_member,
    create_organisation,
    get_organisation,
    list_members,
    organisation_names,
    remove_member,
)
from etalage.accounts.pseudonyms import (  # noqa: F401  part of this service's interface
    erase_pseudonym,
    existing_pseudonym,
    pseudonym_for,
    recent_pseudonym,
    remember_pseudonym,
)
from etalage.config import get_settings
from etalage.core.auth import age_band
from etalage.core.errors import BadRequest, Conflict, Forbidden, NotFound, RateLimited, Unauthorized
from etalage.core.ratelimit import RateLimiter
from etalage.db import new_id, utcnow

TOKEN_PREFIX = "etl_"


@lru_cache
def password_hasher() -> PasswordHasher:
    s = get_settings()
    return PasswordHasher(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib, parallelism=1)


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- users ---------------------------------------------------------------------------------------------------


def register_user(
    session: Session,
    *,
    email: str,
    password: str | None = None,
    password_hash: str | None = None,
    display_name: str,
    roles: list[str] | None = None,
    birth_date: date | None = None,
    locale: str = "en",
    region_code: str | None = None,
) -> User:
    """Create a user. ``password_hash`` lets bulk tools (the demo) reuse one precomputed hash."""
    email = email.strip().lower()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this e-mail already exists.", field="email")
    if password_hash is None:
        if not password:
            raise BadRequest("A password is required.")
        password_hash = hash_password(password)
    user = User(
        id=new_id("usr"),
        email=email,
        password_hash=password_hash,
        display_name=display_name,
        roles=sorted(set(roles or ["shopper"])),
        birth_date=birth_date,
        locale=locale,
        region_code=region_code,
    )
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict("An account with this e-mail already exists.", field="email") from exc
    # Created now so that later reads (feed, events) never have to write.
    session.add(Pseudonym(user_id=user.id, key=new_id("psn")))
    return user


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def set_roles(session: Session, user_id: str, roles: list[str]) -> User:
    user = get_user(session, user_id)
    user.roles = sorted(set(roles))
    return user


def update_profile(session: Session, principal: Principal, **changes: object) -> User:
    user = get_user(session, principal.user_id)
    for key, value in changes.items():
        if value is not None:
            setattr(user, key, value)
    return user


def age_on(birth_date: date | None, today: date) -> int | None:
    if birth_date is None:
        return None
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def user_age(session: Session, user_id: str) -> int | None:
    """Age in whole years, or None if the user never gave a birth date (other domains apply age rules)."""
    birth = session.scalar(select(User.birth_date).where(User.id == user_id))
    return age_on(birth, utcnow().date())


def display_names(session: Session, user_ids: list[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))
    return {uid: name for uid, name in rows}


# --- login ---------------------------------------------------------------------------------------------------

_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def check_credentials(
    session: Session, *, email: str, password: str, limiter: RateLimiter, client_ip: str
) -> User:
    """Verify e-mail and password, rate limited per account and per address."""
    s = get_settings()
    email = email.strip().lower()
    for key, limit in (
        (f"login:{email}", s.login_attempts_per_minute),
        (f"login-ip:{client_ip}", s.login_attempts_per_minute * 10),
    ):
        decision = limiter.hit(key, limit, 60)
        if not decision.allowed:
            raise RateLimited(
                "Too many sign-in attempts; wait before trying again.", retry_after=decision.retry_after
            )
    user = session.scalar(select(User).where(User.email == email))
    hasher = password_hasher()
    try:
        hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise Unauthorized("E-mail or password is wrong.") from None
    if user is None:  # equal work for unknown e-mails, so timing does not reveal accounts
        raise Unauthorized("E-mail or password is wrong.")
    if user.disabled_at is not None:
        raise Forbidden("This account is disabled.")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    limiter.reset(f"login:{email}")
    return user


def create_web_session(session: Session, user: User) -> tuple[str, WebSession]:
    token = secrets.token_urlsafe(32)
    web = WebSession(
        token_hash=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(24),
        expires_at=utcnow() + timedelta(days=get_settings().session_days),
    )
    session.add(web)
    return token, web


def end_web_session(session: Session, session_id: str) -> None:
    web = session.get(WebSession, session_id)
    if web is not None and web.revoked_at is None:
        web.revoked_at = utcnow()


# --- principals ----------------------------------------------------------------------------------------------


# Prebuilt Core statements: resolving a bearer token runs on every API request, and building a statement
# (and hydrating ORM objects) cost more than running it.
_tok, _usr, _psn, _mem = ApiToken.__table__.c, User.__table__.c, Pseudonym.__table__.c, Membership.__table__.c
_MEMBERSHIPS = select(_mem.organisation_id, _mem.role).where(_mem.user_id == bindparam("user"))
_TOKEN_LOOKUP = (  # the token, its user, the pseudonym and every membership: one round trip
    select(
        _tok.id, _tok.revoked_at, _tok.expires_at, _tok.scopes, _tok.merchant_id, _usr.id.label("user_id"),
        _usr.roles, _usr.disabled_at, _usr.birth_date, _psn.key, _mem.organisation_id, _mem.role,
    )
    .select_from(
        ApiToken.__table__.join(User.__table__, _usr.id == _tok.user_id)
        .outerjoin(Pseudonym.__table__, _psn.user_id == _usr.id)
        .outerjoin(Membership.__table__, _mem.user_id == _usr.id)
    )
    .where(_tok.token_hash == bindparam("digest"))
)  # fmt: skip


def _memberships(session: Session, user_id: str) -> dict[str, str]:
    rows = session.connection().execute(_MEMBERSHIPS, {"user": user_id})
    return {org: role for org, role in rows}


def principal_for_token(session: Session, plaintext: str) -> Principal:
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        raise Unauthorized("The bearer token is malformed.")
    rows = session.connection().execute(_TOKEN_LOOKUP, {"digest": _digest(plaintext)}).all()
    if not rows:
        raise Unauthorized("The bearer token is not valid.")
    token = rows[0]
    now = utcnow()
    if token.revoked_at is not None:
        raise Unauthorized("The bearer token was revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized("The bearer token has expired.")
    if token.disabled_at is not None:
        raise Unauthorized("The account behind this token is disabled.")
    memberships = {r.organisation_id: r.role for r in rows if r.organisation_id is not None}
    allowed = scopes_for(frozenset(token.roles), bool(memberships))
    return Principal(
        user_id=token.user_id,
        roles=frozenset(token.roles),
        memberships=memberships,
        scopes=frozenset(token.scopes) & allowed,  # a role taken away also shrinks existing tokens
        token_id=token.id,
        bound_merchant_id=token.merchant_id,
        pseudonym=remember_pseudonym(token.user_id, token.key),
        age_band=age_band(age_on(token.birth_date, now.date())),
    )


def principal_for_session(session: Session, cookie_value: str) -> Principal:
    row = session.execute(
        select(WebSession, User, Pseudonym.key)
        .join(User, User.id == WebSession.user_id)
        .outerjoin(Pseudonym, Pseudonym.user_id == User.id)
        .where(WebSession.token_hash == _digest(cookie_value))
    ).first()
    if row is None:
        raise Unauthorized("The session is not valid; sign in again.")
    web, user, pseudonym = row
    if web.revoked_at is not None or web.expires_at <= utcnow():
        raise Unauthorized("The session has ended; sign in again.")
    if user.disabled_at is not None:
        raise Unauthorized("This account is disabled.")
    memberships = _memberships(session, user.id)
    return Principal(
        user_id=user.id,
        roles=frozenset(user.roles),
        memberships=memberships,
        scopes=scopes_for(frozenset(user.roles), bool(memberships)),
        session_id=web.id,
        csrf_token=web.csrf_token,
        pseudonym=remember_pseudonym(user.id, pseudonym),
        age_band=age_band(age_on(user.birth_date, utcnow().date())),
    )


def principal_for_user(session: Session, user_id: str) -> Principal:
    """A principal with every scope the user holds (CLI, tests, server-side jobs)."""
    user = get_user(session, user_id)
    memberships = _memberships(session, user.id)
    return Principal(
        user_id=user.id,
        roles=frozenset(user.roles),
        memberships=memberships,
        scopes=scopes_for(frozenset(user.roles), bool(memberships)),
        pseudonym=session.scalar(select(Pseudonym.key).where(Pseudonym.user_id == user.id)),
        age_band=age_band(age_on(user.birth_date, utcnow().date())),
    )


def csrf_matches(principal: Principal, presented: str | None) -> bool:
    return bool(presented and principal.csrf_token and hmac.compare_digest(presented, principal.csrf_token))


# --- API tokens ----------------------------------------------------------------------------------------------


def create_api_token(
    session: Session,
    principal: Principal,
    *,
    name: str,
    scopes: list[str] | None = None,
    merchant_id: str | None = None,
    expires_in_days: int | None = None,
) -> tuple[str, ApiToken]:
    allowed = principal.scopes
    wanted = frozenset(scopes) if scopes is not None else allowed
    missing = sorted(wanted - allowed)
    if missing:
        raise Forbidden(f"You cannot grant scopes you do not hold: {', '.join(missing)}.", scopes=missing)
    if merchant_id is not None:
        require_merchant(principal, merchant_id)
    if principal.bound_merchant_id is not None and merchant_id != principal.bound_merchant_id:
        raise Forbidden("A token bound to one merchant can only create tokens bound to the same merchant.")
    days = expires_in_days or get_settings().token_default_days
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=new_id("tok"),
        user_id=principal.user_id,
        name=name,
        token_hash=_digest(plaintext),
        prefix=plaintext[:10],
        scopes=sorted(wanted),
        merchant_id=merchant_id,
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(token)
    return plaintext, token


def list_api_tokens(session: Session, principal: Principal) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == principal.user_id).order_by(ApiToken.id.desc())
    return list(session.scalars(stmt))


def revoke_api_token(session: Session, principal: Principal, token_id: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != principal.user_id:
        raise NotFound(f"No token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def touch_tokens(session: Session, times: dict[str, datetime]) -> None:
    """Record when tokens were last used (one statement for the lot)."""
    if times:
        table = ApiToken.__table__
        session.execute(
            update(table).where(table.c.id == bindparam("tid")).values(last_used_at=bindparam("ts")),
            [{"tid": tid, "ts": ts} for tid, ts in times.items()],
        )


# --- pseudonyms ----------------------------------------------------------------------------------------------
