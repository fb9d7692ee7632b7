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


# --- content ------------------------------------------------------------------------------------------------


@builder
def _content(world: World) -> None:
    """B's private content (an upload, an unpublished video, a comment under a removed video) and a public
    live room (a third creator's) with a deal and a chat message."""
    from etalage.content import comments, live, live_chat, products, uploads, videos
    from etalage.content.schemas import DealCreate
    from etalage.core.money import Money
    from etalage.core.ratelimit import MemoryRateLimiter
    from tests.factories import make_room, make_video

    f, limiter = world.factory, MemoryRateLimiter()
    with f.db.session() as s:
        world.own("upload_id", uploads.create(s, world.b_shopper.principal, size=1000, filename="b.mp4",
                                              content_type="video/mp4", limiter=limiter).id)
    world.own("video_id", make_video(f, world.b_merchant, merchant_id=world.b_merchant.merchant_id, publish=False,
                                    transcode=False))
    third = f.user("shopper", "creator")
    moderator = f.user("moderator")
    public_video = make_video(f, third)
    with f.db.session() as s:
        comment = comments.create(s, world.b_shopper.principal, public_video, text="Mine now", parent_id=None,
                                  limiter=limiter)
        world.own("comment_id", comment.id)
        videos.moderate(s, moderator.principal, public_video, "remove", "isolation fixture")
    room_id = make_room(f, third)
    world.own("room_id", room_id, private=False)
    product_id, variant_id = "prd_01M8000000000000000000000A", "var_01M8000000000000000000000A"
    if products.catalog_available():  # a real product from a third shop, as a creator's room would feature
        from etalage.catalog import service as catalog

        shop = f.merchant()
        with f.db.session() as s:
            made = catalog.create_product(s, shop.principal, shop.merchant_id or "", {
                "title": "Third shop's shirt", "status": "active",
                "variants": [{"sku": "ISO-1", "prices": [{"region_code": "BE", "amount": 1999, "currency": "EUR"}]}],
            })
            s.flush()
            product_id = made.id
            variant_id = catalog.get_products(s, [made.id])[0].variants[0].id
    with f.db.session() as s:
        deal = live.create_deal(s, third.principal, room_id, DealCreate(
            product_id=product_id, variant_id=variant_id, price=Money(amount=999, currency="EUR"), quantity=5))
        world.own("deal_id", deal.id, private=False)
    chatter = f.user("shopper")
    message = live_chat.post_chat(f.db, chatter.principal, room_id, "hello", limiter)
    world.own("message_id", message["id"], private=False)


PUBLIC_READ.update(
    {
        "GET /api/v1/videos/{video_id}",
        "GET /api/v1/videos/{video_id}/comments",
        "GET /api/v1/live/rooms/{room_id}",
        "GET /api/v1/live/rooms/{room_id}/messages",
        "GET /api/v1/live/rooms/{room_id}/deals",
    }
)
BODY_EXAMPLES["PUT /api/v1/live/rooms/{room_id}/pin"] = {"product_id": "prd_01M8000000000000000000000A"}
BODY_EXAMPLES["POST /api/v1/live/rooms/{room_id}/deals"] = {
    "product_id": "prd_01M8000000000000000000000A",
    "variant_id": "var_01M8000000000000000000000A",
    "price": {"amount": 999, "currency": "EUR"},
    "quantity": 1,
}


# --- feed ---------------------------------------------------------------------------------------------------


@builder
def _feed(world: World) -> None:
    """A page of shopper B's feed, in the served log (its decisions are B's to read, or an auditor's)."""
    from etalage.feed import service

    with world.factory.db.session(write=False) as s:
        page = service.feed_page(s, world.b_shopper.principal)
    service.engine().served.flush()
    world.own("served_id", page["served_id"])
    world.own("item_id", page["items"][0]["id"] if page["items"] else "vid_01M8000000000000000000000A", private=False)


# Affiliates (commissions): builders in tests/affiliates/isolation_world.py
import tests.affiliates.isolation_world  # noqa: E402,F401

# Buying (merchants, catalog, inventory, commerce, payments): builders in tests/commerce/isolation_world.py
import tests.commerce.isolation_world  # noqa: E402,F401

# Compliance (notices, cases, decisions, appeals, exports): builders in tests/compliance/isolation_world.py
import tests.compliance.isolation_world  # noqa: E402,F401

# After the sale (shipments, returns): builders in tests/fulfilment/isolation_world.py
import tests.fulfilment.isolation_world  # noqa: E402,F401

# Ledger (payouts): builders in tests/ledger/isolation_world.py
import tests.ledger.isolation_world  # noqa: E402,F401

# Promotions (vouchers, flash sales) and reviews: builders in tests/promotions|reviews/isolation_world.py
import tests.promotions.isolation_world  # noqa: E402,F401
import tests.reviews.isolation_world  # noqa: E402,F401

# Webhooks (endpoints, events): builders in tests/webhooks/isolation_world.py
import tests.webhooks.isolation_world  # noqa: E402,F401
