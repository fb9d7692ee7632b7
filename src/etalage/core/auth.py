"""Who is calling, as seen by domains that must not touch accounts' data (the feed above all).

``Principal`` is the authenticated caller. The accounts domain resolves it from a bearer token or a session
cookie and registers that resolver here; domains behind the privacy boundary depend on ``Viewer`` /
``OptionalViewer`` from this module, so they never import ``etalage.accounts``. A principal carries no
personal data: ids, roles, scopes, the pseudonymous key and a coarse age band for age rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from etalage.core.deps import DbSession
from etalage.core.errors import Unauthorized

AGE_BANDS = ("minor", "adult", "unknown")


@dataclass(frozen=True)
class Principal:
    user_id: str
    roles: frozenset[str]
    memberships: dict[str, str] = field(default_factory=dict)  # merchant_id -> owner|staff
    scopes: frozenset[str] = frozenset()
    token_id: str | None = None
    bound_merchant_id: str | None = None
    session_id: str | None = None
    csrf_token: str | None = None
    pseudonym: str | None = None  # the key the event log and feed know this user by
    age_band: str = "unknown"  # minor | adult | unknown, for age rules without the birth date

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


PrincipalResolver = Callable[[Request, Session], "Principal | None"]
_resolver: PrincipalResolver | None = None


def set_principal_resolver(resolver: PrincipalResolver) -> None:
    global _resolver
    _resolver = resolver


def optional_viewer(request: Request, session: DbSession) -> Principal | None:
    if _resolver is None:  # pragma: no cover - accounts registers itself when the app is built
        raise RuntimeError("no principal resolver registered (is etalage.accounts loaded?)")
    principal = _resolver(request, session)
    session.commit()  # give the pooled connection back before the route runs (see accounts.deps)
    return principal


def current_viewer(principal: Annotated[Principal | None, Depends(optional_viewer)]) -> Principal:
    if principal is None:
        raise Unauthorized("Sign in, or send 'Authorization: Bearer <token>'.")
    return principal


Viewer = Annotated[Principal, Depends(current_viewer)]
OptionalViewer = Annotated[Principal | None, Depends(optional_viewer)]


def age_band(age: int | None) -> str:
    if age is None:
        return "unknown"
    return "minor" if age < 18 else "adult"
