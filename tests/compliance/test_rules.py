"""Bad input is a 4xx problem that changes nothing; other tenants' ids are 404; notices are rate limited;
the transparency report counts exactly what happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from etalage.compliance.models import ComplianceEvent, Decision, Notice
from tests.compliance.helpers import ILLEGAL, decide, notice, problem


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_bad_input_is_a_problem_and_changes_nothing(api, factory, db):
    shop = factory.verified_merchant()
    product_id = factory.product(shop)["product_id"]
    draft_id = factory.product(shop, status="draft")["product_id"]
    shopper, mod = factory.user("shopper"), factory.user("moderator")
    before = (_count(db, Notice), _count(db, Decision), _count(db, ComplianceEvent))

    bad_notices = [
        ({"target": {"kind": "planet", "id": product_id}, "category": "other"}, 422),
        ({"target": {"kind": "product", "id": "x"}, "category": "other"}, 422),
        ({"target": {"kind": "product", "id": product_id}, "category": "rude"}, 422),
        ({"target": {"kind": "product", "id": product_id}, "category": "other", "extra": 1}, 422),
        (
            {"target": {"kind": "product", "id": product_id}, "category": "other", "explanation": "x" * 6000},
            422,
        ),
        ({"category": "other"}, 422),
        ({"target": {"kind": "product", "id": product_id}, "category": "counterfeit"}, 422),  # Art. 16(2)
        ({"target": {"kind": "product", "id": "prd_01M80000000000000000000000"}, "category": "other"}, 404),
        ({"target": {"kind": "product", "id": draft_id}, "category": "other"}, 404),  # not public
    ]
    for body, status in bad_notices:
        problem(api.post("/api/v1/notices", json=body, headers=shopper.headers), status)
    incomplete = problem(notice(api, None, "product", product_id, "counterfeit", **ILLEGAL), 422)
    assert {e["loc"] for e in incomplete["errors"]} == {"contact_name", "contact_email"}
    # the safety of minors is the exception: no name needed (Directive 2011/93/EU)
    problem(
        api.post("/api/v1/notices", content=b"{not json", headers={"content-type": "application/json"}), 400
    )

    bad_decisions = [
        ({"action": "remove"}, 422),  # no ground
        ({"action": "remove", "ground": "illegal"}, 422),  # no legal reference
        ({"action": "remove", "ground": "terms"}, 422),  # no clause
        ({"action": "ban_from_live", "ground": "terms", "terms_clause": "1"}, 422),  # not for a product
        ({"action": "remove", "ground": "terms", "terms_clause": "1", "duration_days": 3}, 422),
        (
            {
                "action": "remove",
                "ground": "terms",
                "terms_clause": "1",
                "notice_ids": ["ntc_01M80000000000000000000000"],
            },
            422,
        ),
        ({"action": "remove", "ground": "terms", "terms_clause": "1", "facts": "short"}, 422),
    ]
    for body, status in bad_decisions:
        payload = {
            "target": {"kind": "product", "id": product_id},
            "facts": "Long enough facts here.",
            **body,
        }
        problem(api.post("/api/v1/moderation/decisions", json=payload, headers=mod.headers), status)
    problem(decide(api, mod, "video", "vid_01M80000000000000000000000"), 404)
    problem(decide(api, shopper, "product", product_id), 403)
    moderating_seller = factory.user("moderator", "shopper")
    own_shop = factory.verified_merchant(owner=moderating_seller)
    own_product = factory.product(own_shop)["product_id"]
    assert "party" in problem(decide(api, moderating_seller, "product", own_product), 403)["detail"]
    problem(api.get("/api/v1/moderation/queue", params={"kind": "planet"}, headers=mod.headers), 422)
    problem(api.get("/api/v1/moderation/queue", params={"cursor": "!!"}, headers=mod.headers), 400)
    problem(api.get("/api/v1/moderation/queue"), 401)
    problem(api.get("/api/v1/transparency/report", params={"from": "2026-05-01", "to": "2026-01-01"}), 422)
    problem(api.get("/api/v1/transparency/report", params={"from": "yesterday"}), 422)
    problem(api.post("/api/v1/decisions/dcs_01M80000000000000000000000/appeals", json={"statement": "Not a real one."},
                     headers=shopper.headers), 404)  # fmt: skip
    assert (_count(db, Notice), _count(db, Decision), _count(db, ComplianceEvent)) == before
    assert api.get(f"/api/v1/products/{product_id}", params={"region": "BE"}).status_code == 200

    minors = notice(api, None, "product", product_id, "minor_safety", **ILLEGAL)
    assert minors.status_code == 201, minors.text


def test_notices_are_rate_limited_per_account_and_address(api, factory, monkeypatch):
    from etalage.compliance import notices

    monkeypatch.setattr(notices, "PER_USER_HOUR", 4)
    monkeypatch.setattr(notices, "PER_IP_HOUR", 8)
    shop = factory.verified_merchant()
    shopper = factory.user("shopper")
    products = [factory.product(shop)["product_id"] for _ in range(2)]
    codes = [
        notice(api, shopper, "product", products[i % 2], "other", explanation=f"#{i}").status_code
        for i in range(5)
    ]
    assert codes == [201, 201, 200, 200, 429]  # merged duplicates count too
    limited = problem(notice(api, shopper, "product", products[0], "other"), 429)
    assert limited["retry_after"] > 0
    anonymous = [notice(api, None, "product", products[0], "other", contact_email=f"a{i}@example.org").status_code
                 for i in range(3)]  # fmt: skip
    assert anonymous == [201, 201, 429]  # the address budget (8) is spent: 6 + 2


def test_transparency_figures_match(api, factory, db):
    shop = factory.verified_merchant()
    products = [factory.product(shop)["product_id"] for _ in range(3)]
    a, b = factory.user("shopper"), factory.user("shopper")
    mod_a, mod_b = factory.user("moderator"), factory.user("moderator")
    notice(api, a, "product", products[0], "counterfeit", **ILLEGAL)
    notice(api, b, "product", products[0], "counterfeit", **ILLEGAL)
    notice(api, a, "product", products[1], "other", explanation="odd")
    notice(api, a, "product", products[1], "other", explanation="odd, again")  # merged: one notice
    notice(api, None, "product", products[2], "unsafe_product", contact_email="x@example.org", contact_name="X",
           **ILLEGAL)  # fmt: skip
    first = decide(
        api, mod_a, "product", products[0], "remove", ground="illegal", legal_reference="TM law"
    ).json()
    decide(api, mod_a, "product", products[1], "no_action", automated=True)
    appeal = api.post(f"/api/v1/decisions/{first['id']}/appeals", json={"statement": "We own the trademark."},
                      headers=shop.headers).json()  # fmt: skip
    api.post(f"/api/v1/moderation/appeals/{appeal['id']}/decision", headers=mod_b.headers,
             json={"outcome": "reversed", "reason": "Registration certificate shown."})  # fmt: skip

    today = datetime.now(UTC).date()
    report = api.get("/api/v1/transparency/report", params={"from": str(today), "to": str(today)}).json()
    assert report["notices"]["total"] == 4 and report["notices"]["submissions"] == 5
    assert report["notices"]["by_category"] == {"counterfeit": 2, "other": 1, "unsafe_product": 1}
    assert report["notices"]["illegal_content_claims"] == 3 and report["notices"]["anonymous"] == 1
    assert report["notices"]["decided"] == 3
    with db.read() as s:
        waits = [(d - c).total_seconds() for c, d in s.execute(
            select(Notice.created_at, Notice.decided_at).where(Notice.decided_at.is_not(None)))]  # fmt: skip
    assert report["notices"]["median_seconds_to_decision"] == round(sorted(waits)[1], 1)
    assert report["decisions"]["by_action"] == {"no_action": 1, "remove": 1}
    assert report["decisions"]["by_ground"] == {"illegal": 1, "none": 1}
    assert report["decisions"]["automated"] == 1 and report["decisions"]["automated_share"] == 0.5
    assert report["appeals"] == {"filed": 1, "decided": 1, "upheld": 0, "reversed": 1,
                                 "median_seconds_to_decision": report["appeals"]["median_seconds_to_decision"]}  # fmt: skip
    csv = api.get("/api/v1/transparency/report.csv", params={"from": str(today), "to": str(today)})
    assert csv.headers["content-type"].startswith("text/csv")
    assert "notices,by_category,counterfeit,2" in csv.text and "appeals,reversed,,1" in csv.text
    statements = api.get("/api/v1/transparency/statements").json()["items"]
    assert [s["decision"] for s in statements] == ["remove", "no_action"]
    assert all("facts" not in s and "affected_user_id" not in s for s in statements)
    last_year = today - timedelta(days=400)
    empty = api.get(
        "/api/v1/transparency/report", params={"from": str(last_year), "to": str(last_year)}
    ).json()
    assert empty["notices"]["total"] == 0 and empty["decisions"]["automated_share"] == 0.0


def test_two_moderators_deciding_the_same_notices_at_once_one_wins(api, factory, live_server):
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    shop = factory.verified_merchant()
    product_id = factory.product(shop)["product_id"]
    reporter = factory.user("shopper")
    notice_id = notice(api, reporter, "product", product_id, "counterfeit", **ILLEGAL).json()["id"]
    mods = [factory.user("moderator") for _ in range(2)]

    def go(mod):  # type: ignore[no-untyped-def]
        with httpx.Client(base_url=live_server.url, timeout=30) as client:
            return decide(client, mod, "product", product_id, "remove", notice_ids=[notice_id]).status_code

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(go, mods))
    assert codes == [201, 409]
    decisions = api.get(
        "/api/v1/moderation/decisions", params={"target_id": product_id}, headers=mods[0].headers
    )
    assert len(decisions.json()["items"]) == 1
