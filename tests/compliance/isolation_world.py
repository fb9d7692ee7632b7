"""Shopper B's compliance resources, for the tenant-isolation walk (tests/test_isolation.py): a notice about a
public live room (its case, the decision on it and B's appeal) and a data export."""

from __future__ import annotations

from etalage.compliance import appeals, decisions, exports, notices
from etalage.compliance.schemas import DecisionIn, NoticeIn
from etalage.core.ratelimit import MemoryRateLimiter
from tests.isolation import World, builder


@builder
def _compliance(world: World) -> None:
    f, b = world.factory, world.b_shopper
    moderator = f.user("moderator")
    limiter = MemoryRateLimiter()
    with f.db.session() as s:
        body = NoticeIn.model_validate(
            {
                "target": {"kind": "live_room", "id": world.ids["room_id"]},
                "category": "other",
                "explanation": "B's",
            }
        )
        notice, _, _ = notices.submit(s, b.principal, body, client_ip="10.0.0.2", limiter=limiter)
        world.own("notice_id", notice.id)
        world.own("case_id", notice.case_id)
        decision = decisions.decide(s, moderator.principal, DecisionIn.model_validate({
            "target": {"kind": "live_room", "id": world.ids["room_id"]}, "action": "no_action",
            "facts": "Nothing against the terms in this room.",
        }))  # fmt: skip
        world.own("decision_id", decision.id, private=False)  # statements are public, without personal data
        s.flush()
        world.own("appeal_id", appeals.file(s, b.principal, decision.id, "Please look again at it.").id)
        world.own("export_id", exports.start(s, b.principal, limiter).id)
