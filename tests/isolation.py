"""Registry for the tenant-isolation walk (tests/test_isolation.py).

Every path parameter in the API must have a builder here that creates a resource owned by merchant B or
shopper B. The walk then calls every route with merchant A's token on B's ids and expects 403/404, and
checks that no answer to A ever contains one of B's private ids. Each domain registers its builders
when it lands; a route with an unknown path parameter fails the walk, so no route escapes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.factories import Actor, Factory


@dataclass
class World:
    factory: Factory
    b_merchant: Actor
    b_shopper: Actor
    ids: dict[str, str] = field(default_factory=dict)  # path parameter -> one of B's ids
    private_ids: set[str] = field(default_factory=set)  # ids A must never see

    def own(self, param: str, value: str, *, private: bool = True) -> None:
        self.ids[param] = value
        if private:
            self.private_ids.add(value)


Builder = Callable[[World], None]
BUILDERS: list[Builder] = []
# "METHOD /path" of routes that anyone may read (public catalog, published videos...)
PUBLIC_READ: set[str] = set()
# path parameters that do not name a tenant's resource (e.g. a region code); value used as is
GLOBAL_PARAMS: dict[str, str] = {}
# "METHOD /path" -> JSON body to send when the generated one would not be valid
BODY_EXAMPLES: dict[str, Any] = {}
# "METHOD /path" of routes that are not tenant-scoped at all and are skipped, with the reason
SKIP: dict[str, str] = {}


def builder(fn: Builder) -> Builder:
    BUILDERS.append(fn)
    return fn


@builder
def _accounts(world: World) -> None:
    world.own("merchant_id", world.b_merchant.merchant_id or "")
    world.own("user_id", world.b_shopper.id)
    token_id = world.b_shopper.principal.token_id
    if token_id is None:
        from sqlalchemy import select

        from etalage.accounts.models import ApiToken

        with world.factory.db.read() as s:
            token_id = s.scalar(select(ApiToken.id).where(ApiToken.user_id == world.b_shopper.id))
    world.own("token_id", token_id or "")


BODY_EXAMPLES["POST /api/v1/merchants/{merchant_id}/members"] = {
    "email": "someone@example.com",
    "role": "staff",
}
BODY_EXAMPLES["PUT /api/v1/admin/users/{user_id}/roles"] = {"roles": ["shopper"]}
