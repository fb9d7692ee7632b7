"""Builders for test data, going through the services (never raw table writes) so invariants hold.

Each domain adds its own builders here as it lands.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal
from etalage.db import Database

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


@dataclass
class Actor:
    """A user with a bearer token holding every scope their roles allow."""

    id: str
    email: str
    token: str
    principal: Principal
    merchant_id: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def user(
        self,
        *roles: str,
        email: str | None = None,
        birth_date: date | None = date(1990, 1, 1),
        region_code: str | None = "BE",
        name: str | None = None,
    ) -> Actor:
        n = next(_seq)
        email = email or f"user{n}@test.example.com"
        with self.db.session() as s:
            user = accounts.register_user(
                s,
                email=email,
                password=PASSWORD,
                display_name=name or f"User {n}",
                roles=list(roles or ("shopper",)),
                birth_date=birth_date,
                region_code=region_code,
            )
            s.flush()
            principal = accounts.principal_for_user(s, user.id)
            token, _ = accounts.create_api_token(s, principal, name="test")
            return Actor(user.id, email, token, principal)

    def merchant(self, name: str | None = None, owner: Actor | None = None) -> Actor:
        """A merchant organisation and its owner; the returned actor's token reaches this merchant."""
        n = next(_seq)
        with self.db.session() as s:
            if owner is None:
                user = accounts.register_user(
                    s, email=f"owner{n}@shop.example.com", password=PASSWORD, display_name=f"Owner {n}"
                )
                s.flush()
                user_id, email = user.id, user.email
            else:
                user_id, email = owner.id, owner.email
            org = accounts.create_organisation(s, user_id, name or f"Shop {n}")
            s.flush()
            principal = accounts.principal_for_user(s, user_id)
            token, _ = accounts.create_api_token(s, principal, name="test")
            return Actor(user_id, email, token, principal, merchant_id=org.id)

    def staff(self, merchant: Actor) -> Actor:
        member = self.user("shopper")
        with self.db.session() as s:
            accounts.add_member(s, merchant.principal, merchant.merchant_id or "", member.email, "staff")
            s.flush()
            principal = accounts.principal_for_user(s, member.id)
            token, _ = accounts.create_api_token(s, principal, name="staff")
        return Actor(member.id, member.email, token, principal, merchant_id=merchant.merchant_id)
