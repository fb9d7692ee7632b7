"""Every page of the web app, by who may open it: the translation, budget, markup and screenshot tests
walk this list, so a new page is checked as soon as it is listed here.

Entries are ``(name, path, role)``; a path may contain ``{placeholders}`` filled from the world that
``build_world`` makes (one of everything a page needs to show).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.factories import Actor, Factory, make_room, make_video

PAGES: list[tuple[str, str, str]] = [
    # shopper app
    ("feed", "/", "visitor"),
    ("feed-signed-in", "/", "shopper"),
    ("video", "/v/{video_id}", "visitor"),
    ("product", "/p/{product_id}", "shopper"),
    ("product-sheet", "/p/{product_id}/sheet", "visitor"),
    ("ranking", "/about/ranking", "visitor"),
    ("shop", "/shop", "visitor"),
    ("search", "/search?q=linen", "visitor"),
    ("creator-profile", "/creators/{creator_id}", "visitor"),
    ("shop-profile", "/shops/{merchant_id}", "visitor"),
    ("live", "/live", "visitor"),
    ("live-room", "/live/{room_id}", "shopper"),
    ("cart", "/cart", "shopper"),
    ("orders", "/orders", "shopper"),
    ("order", "/orders/{order_id}", "shopper"),
    ("signin", "/signin", "visitor"),
    ("register", "/register", "visitor"),
    ("me", "/me", "shopper"),
    ("settings", "/settings", "shopper"),
    ("report", "/report?kind=video&id={video_id}", "shopper"),
    ("goodbye", "/goodbye", "visitor"),
    ("my-reports", "/me/reports", "shopper"),
    ("my-decisions", "/me/decisions", "creator"),
    ("decision", "/decisions/{decision_id}", "shopper"),
    # seller center
    ("seller-new", "/seller", "newcomer"),
    ("seller-dashboard", "/seller/{merchant_id}", "merchant"),
    ("seller-onboarding", "/seller/{merchant_id}/onboarding", "merchant"),
    ("seller-products", "/seller/{merchant_id}/products", "merchant"),
    ("seller-product", "/seller/{merchant_id}/products/{product_id}", "merchant"),
    ("seller-orders", "/seller/{merchant_id}/orders", "merchant"),
    ("seller-returns", "/seller/{merchant_id}/returns?status=", "merchant"),
    ("seller-settings", "/seller/{merchant_id}/settings", "merchant"),
    ("seller-creators", "/seller/{merchant_id}/creators", "merchant"),
    ("seller-promotions", "/seller/{merchant_id}/promotions", "merchant"),
    ("seller-reviews", "/seller/{merchant_id}/reviews", "merchant"),
    ("seller-payouts", "/seller/{merchant_id}/payouts", "merchant"),
    ("seller-webhooks", "/seller/{merchant_id}/webhooks", "merchant"),
    # creator studio
    ("studio", "/studio", "creator"),
    ("studio-upload", "/studio/upload", "creator"),
    ("studio-video", "/studio/videos/{video_id}", "creator"),
    ("studio-live", "/studio/live", "creator"),
    ("studio-earnings", "/studio/earnings", "creator"),
    # moderation console
    ("moderation-cases", "/moderation/cases", "moderator"),
    ("moderation-case", "/moderation/cases/{case_id}", "moderator"),
    ("moderation-decide", "/moderation/decide?kind=video&id={video_id}", "moderator"),
    ("moderation-appeals", "/moderation/appeals", "moderator"),
    ("moderation-videos", "/moderation/videos", "moderator"),
    ("moderation-comments", "/moderation/comments", "moderator"),
    ("moderation-traders", "/moderation/traders", "moderator"),
]
# Parts of pages fetched by scripts (no <head>, no heading of their own)
FRAGMENTS = {"product-sheet"}


@dataclass
class PageWorld:
    actors: dict[str, Actor]
    values: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def build_world(factory: Factory, psp: Any) -> PageWorld:
    """A verified shop with a product, a creator's published video tagging it, a live room, and a
    shopper with a paid order."""
    import secrets

    from etalage.commerce.checkout import CheckoutRequest, LineIn, place_order

    merchant = factory.verified_merchant(name="Atelier Zuid")  # type: ignore[attr-defined]
    item = factory.product(merchant, prices={"BE": 2499}, title="Linen shirt")  # type: ignore[attr-defined]
    creator = factory.user("shopper", "creator", name="@cleo")
    video = make_video(factory, creator, caption="Linen season", products=[item["product_id"]])
    room = make_room(factory, creator, video_id=video, title="Summer live")
    shopper = factory.shopper("BE", psp=psp)  # type: ignore[attr-defined]
    world = PageWorld(
        actors={
            "shopper": shopper,
            "merchant": merchant,
            "creator": creator,
            "moderator": factory.user("shopper", "moderator", name="Mo"),
            "newcomer": factory.user("shopper", name="Nia"),
        },
        values={
            "merchant_id": merchant.merchant_id or "",
            "product_id": item["product_id"],
            "video_id": video,
            "room_id": room,
            "creator_id": creator.id,
        },
    )
    with factory.db.session() as s:  # a paid order, through checkout and the test PSP
        request = CheckoutRequest([LineIn(item["variant_id"], 1, None, None, video, None)])
        outcome = place_order(s, shopper.id, request, key=secrets.token_hex(8), fp="page-world", webhook_url="",
                              return_url=None)  # fmt: skip
    world.values["order_id"] = outcome.body.orders[0].id
    from etalage.compliance import notices
    from etalage.compliance.schemas import NoticeIn
    from etalage.core.ratelimit import MemoryRateLimiter

    with factory.db.session() as s:  # a reported video, queued for the moderators
        body = NoticeIn.model_validate(
            {
                "target": {"kind": "video", "id": video},
                "category": "scam",
                "good_faith": True,
                "explanation": "The deal in this video leads to a fake shop.",
            }  # fmt: skip
        )
        notice, _merged, _token = notices.submit(
            s, shopper.principal, body, client_ip="127.0.0.1", limiter=MemoryRateLimiter()
        )
        s.flush()
        world.values["case_id"] = notice.case_id
        from etalage.compliance import decisions
        from etalage.compliance.schemas import DecisionIn

        on_product = NoticeIn.model_validate(
            {
                "target": {"kind": "product", "id": item["product_id"]},
                "category": "other",
                "explanation": "The colour is not the one shown.",
            }  # fmt: skip
        )
        notices.submit(s, shopper.principal, on_product, client_ip="127.0.0.1", limiter=MemoryRateLimiter())
        s.flush()
        decision = decisions.decide(s, world.actors["moderator"].principal, DecisionIn.model_validate(
            {"target": {"kind": "product", "id": item["product_id"]}, "action": "no_action",
             "facts": "The photos show the colour as sold."}))  # fmt: skip
        world.values["decision_id"] = decision.id
    return world


def pages_for(world: PageWorld) -> list[tuple[str, str, str]]:
    return [(name, path.format(**world.values), role) for name, path, role in PAGES]
