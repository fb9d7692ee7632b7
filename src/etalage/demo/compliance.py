"""Demo step: a few notices and decisions, so the moderation console and the transparency report have work.

Shoppers report videos and products (one anonymously, about the safety of minors, which tops the queue by
severity); the demo moderator removes one video with a statement of reasons and finds nothing wrong with one
product, whose notifier appeals (the appeal waits for another moderator: the demo admin). Everything goes
through the compliance services, so the records are the real ones.
"""

from __future__ import annotations

from typing import Any

from etalage.demo import DemoContext

EXPLANATION = (
    "The listing shows a well-known brand's logo at a fraction of its price; the seller's other items are "
    "all copies. See the close-up at 0:03."
)


def build_compliance(ctx: DemoContext) -> None:
    from etalage.accounts import service as accounts
    from etalage.compliance import appeals, decisions, notices
    from etalage.compliance.schemas import DecisionIn, NoticeIn
    from etalage.core.ratelimit import MemoryRateLimiter

    videos: list[dict[str, Any]] = ctx.data.get("videos") or []
    products: list[dict[str, Any]] = ctx.data.get("products") or []
    shoppers: list[str] = ctx.data.get("shoppers") or []
    moderator = ctx.data.get("moderator")
    if len(videos) < 3 or len(products) < 2 or len(shoppers) < 5 or moderator is None:
        ctx.progress.console.print("  compliance: skipped (needs videos, products, shoppers and a moderator)")
        return
    task = ctx.task("Notices and decisions", 8)
    limiter = MemoryRateLimiter()

    def target(kind: str, tid: str) -> dict[str, str]:
        return {"kind": kind, "id": tid}

    reports = [  # (reporter index or None, target, category, explanation)
        (1, target("video", videos[0]["id"]), "counterfeit", EXPLANATION),
        (
            2,
            target("video", videos[0]["id"]),
            "counterfeit",
            "Fake, same as the other listings of this shop.",
        ),
        (
            3,
            target("product", products[0]["id"]),
            "unsafe_product",
            "The charger overheated and melted twice.",
        ),
        (
            None,
            target("video", videos[2]["id"]),
            "minor_safety",
            "A child is filmed in a way that is not okay.",
        ),
        (4, target("video", videos[1]["id"]), "other", "Spam: the same clip posted again and again."),
        (1, target("product", products[1]["id"]), "scam", "Payment asked outside Etalage by direct message."),
    ]
    made = []
    with ctx.db.session() as s:
        principals = {
            i: accounts.principal_for_user(s, shoppers[i]) for i in {r[0] for r in reports} if i is not None
        }
        mod = accounts.principal_for_user(s, moderator)
        for who, tgt, category, text in reports:
            body = NoticeIn.model_validate({"target": tgt, "category": category, "explanation": text,
                                            "good_faith": True, "location": "0:03" if tgt["kind"] == "video" else None})  # fmt: skip
            notice, _, _ = notices.submit(s, principals.get(who) if who is not None else None, body,
                                          client_ip=f"192.0.2.{len(made) + 1}", limiter=limiter)  # fmt: skip
            made.append(notice)
            ctx.progress.advance(task)
        s.flush()
        removal = decisions.decide(s, mod, DecisionIn.model_validate({
            "target": target("video", videos[1]["id"]), "action": "remove", "ground": "terms",
            "terms_clause": "3.4 Repetitive or misleading posts",
            "facts": "The same clip was posted many times in a day to crowd the feed; the latest copy is removed.",
        }))  # fmt: skip
        ctx.progress.advance(task)
        kept = decisions.decide(s, mod, DecisionIn.model_validate({
            "target": target("product", products[1]["id"]), "action": "no_action",
            "facts": "Checkout for this product only runs through Etalage; no message asking for payment elsewhere was found.",
        }))  # fmt: skip
        s.flush()
        appeals.file(s, principals[1], kept.id, "The seller messaged me an IBAN; I can send the screenshot.")
        ctx.progress.advance(task)
    ctx.data["compliance"] = {"notices": [n.id for n in made], "decisions": [removal.id, kept.id]}
    ctx.counts.update(notices=len(made), moderation_decisions=2, appeals=1)


STEP = (85, "moderation", build_compliance)
