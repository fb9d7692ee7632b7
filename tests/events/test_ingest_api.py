"""POST /api/v1/events over real HTTP, against the embedded log and NATS JetStream alike."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from etalage.core import bus
from etalage.db import new_id
from etalage.events import ids, service


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def ev(kind: str = "impression", n: int = 0, when: datetime | None = None, **fields) -> dict:
    event = {
        "type": kind,
        "event_id": f"{kind}-{n}-{new_id('e')[-8:]}",
        "occurred_at": iso(when or datetime.now(UTC)),
    }
    if kind in (
        "impression",
        "view_start",
        "view_end",
        "like",
        "comment",
        "skip",
        "report",
        "share",
    ) and not ({"video_id", "live_room_id", "product_id"} & fields.keys()):
        fields["video_id"] = new_id("vid")
    if kind == "view_end":
        fields.setdefault("dwell_ms", 4200)
    if kind == "report":
        fields.setdefault("reason", "spam")
    event.update(fields)
    return event


def events_of(log, user_key: str) -> list:
    out, offset = [], 1
    while batch := log.read(offset, 5000):
        out += [e for e in batch if e.data["user"] == user_key]
        offset = batch[-1].offset + 1
    return out


def post(client, actor, events, **envelope):
    return client.post("/api/v1/events", json={"events": events, **envelope}, headers=actor.headers)


def test_a_batch_is_stored_once_and_a_retry_is_recognised(ev_client, events_server, factory):
    shopper = factory.user()
    batch = [ev("impression", i) for i in range(5)] + [ev("view_end", 9, watch_ratio=1.5)]
    first = post(ev_client, shopper, batch, platform="ios", app_version="3.1.0")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["accepted"] == 6 and body["duplicates"] == 0 and body["rejected"] == []
    assert body["last_offset"] - body["first_offset"] == 5
    again = post(ev_client, shopper, batch)
    assert again.status_code == 200 and again.json()["accepted"] == 0 and again.json()["duplicates"] == 6
    stored = events_of(events_server.log, shopper.principal.pseudonym)
    assert sorted(e.event_id for e in stored) == sorted(e["event_id"] for e in batch)
    assert {e.data["platform"] for e in stored} == {"ios"}
    assert all(e.data["user"].startswith("psn_") for e in stored)


def test_each_bad_event_is_rejected_alone_with_a_reason(ev_client, events_server, factory):
    shopper = factory.user()
    now = datetime.now(UTC)
    batch = [
        ev("impression", 0),  # fine
        ev("view_end", 1, dwell_ms=-5),  # negative dwell
        ev("view_end", 2, watch_ratio=50),  # impossible watch ratio
        {"type": "purchase", "event_id": "p1", "occurred_at": iso(now), "product_id": new_id("prd")},
        ev("like", 4, when=now + timedelta(days=2)),  # far future
        ev("like", 5, when=now - timedelta(days=30)),  # too old
        {"type": "teleport", "event_id": "t1", "occurred_at": iso(now)},  # unknown type
        ev("like", 7, video_id="not-an-id"),  # unknown id format
        ev("like", 8, video_id=new_id("vid"), live_room_id=new_id("lrm")),  # two targets
        ev("impression", 9, extra="field"),  # unknown field
        {"type": "like", "occurred_at": iso(now), "video_id": new_id("vid")},  # no event_id
        "not an object",
        ev("scroll", 12, velocity=1e9),  # absurd scroll velocity
        ev("add_to_cart", 13, product_id=new_id("prd"), quantity=0),
        ev("like", 14),  # fine
    ]
    resp = post(ev_client, shopper, batch)
    assert resp.status_code == 207, resp.text
    body = resp.json()
    assert body["accepted"] == 2
    reasons = {r["index"]: r["reason"] for r in body["rejected"]}
    assert sorted(reasons) == list(range(1, 14))
    assert "dwell_ms" in reasons[1] and "greater than or equal to 0" in reasons[1]
    assert "watch_ratio" in reasons[2]
    assert "written by the server" in reasons[3]
    assert "future" in reasons[4] and "older" in reasons[5]
    assert "teleport" in reasons[6]
    assert "video_id" in reasons[7] and "not both" in reasons[8] and "extra" in reasons[9].lower()
    assert "event_id" in reasons[10] and "velocity" in reasons[12] and "quantity" in reasons[13]
    assert [r["event_id"] for r in body["rejected"]][:2] == [batch[1]["event_id"], batch[2]["event_id"]]
    stored = events_of(events_server.log, shopper.principal.pseudonym)
    assert sorted(e.event_id for e in stored) == sorted([batch[0]["event_id"], batch[14]["event_id"]])


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed-json"),
        (b"[1, 2]", 422, "invalid-input"),
        (b'{"events": []}', 422, "invalid-input"),
        (b'{"events": {}}', 422, "invalid-input"),
        (b'{"events": [], "sent_at": "yesterday"}', 422, "invalid-input"),
        (b'{"events": [], "ip": "1.2.3.4"}', 422, "invalid-input"),
    ],
)
def test_malformed_batches_are_refused_whole(ev_client, factory, body, status, code):
    shopper = factory.user()
    resp = ev_client.post(
        "/api/v1/events", content=body, headers={**shopper.headers, "content-type": "application/json"}
    )
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["type"].endswith(code)


def test_every_event_rejected_is_a_422_problem_and_stores_nothing(ev_client, events_server, factory):
    shopper = factory.user()
    resp = post(ev_client, shopper, [ev("view_end", 0, dwell_ms=-1), ev("view_end", 1, watch_ratio=50)])
    assert resp.status_code == 422
    problem = resp.json()
    assert [e["loc"] for e in problem["errors"]] == ["events.0", "events.1"]
    assert [r["index"] for r in problem["rejected"]] == [0, 1]
    assert events_of(events_server.log, shopper.principal.pseudonym) == []


def test_oversized_batches_are_413_with_the_limit(ev_client, factory):
    shopper = factory.user()
    resp = post(ev_client, shopper, [ev("impression", i) for i in range(501)])
    assert resp.status_code == 413 and resp.json()["max_events"] == 500
    # 100,000 events: refused by the body limit before anything is parsed
    one = orjson.dumps(ev("impression", 0))
    huge = b'{"events": [' + b",".join([one] * 100_000) + b"]}"
    resp = ev_client.post(
        "/api/v1/events", content=huge, headers={**shopper.headers, "content-type": "application/json"}
    )
    assert resp.status_code == 413 and resp.headers["content-type"] == "application/problem+json"


def test_authentication_and_scope(ev_client, factory):
    assert ev_client.post("/api/v1/events", json={"events": [ev()]}).status_code == 401
    shopper = factory.user()
    resp = ev_client.post(
        "/api/v1/auth/tokens", json={"name": "read-only", "scopes": ["feed:read"]}, headers=shopper.headers
    )
    narrow = resp.json()["token"]
    resp = ev_client.post(
        "/api/v1/events", json={"events": [ev()]}, headers={"Authorization": f"Bearer {narrow}"}
    )
    assert resp.status_code == 403 and "events:write" in resp.json()["detail"]


def test_clock_skew_is_corrected_from_sent_at(ev_client, events_server, factory):
    shopper = factory.user()
    device_now = datetime.now(UTC) - timedelta(hours=3)  # the device's clock is three hours late
    batch = [ev("impression", 0, when=device_now - timedelta(seconds=10))]
    resp = post(ev_client, shopper, batch, sent_at=iso(device_now))
    assert resp.status_code == 200, resp.text
    skew = resp.json()["clock_skew_ms"]
    assert abs(skew - 3 * 3600 * 1000) < 5000
    (stored,) = events_of(events_server.log, shopper.principal.pseudonym)
    assert abs(stored.ts - (stored.recv - 10_000)) < 5000  # ten seconds before it was received
    assert stored.data["client_ts"] == stored.ts - skew
    # without sent_at the same event is three hours old: still accepted (max age is a day), not shifted
    resp = post(ev_client, shopper, [ev("impression", 1, when=device_now)])
    assert resp.json()["clock_skew_ms"] is None


def test_a_flood_from_one_user_is_limited_and_hurts_no_one_else(ev_client, events_server, factory):
    events_server.settings.event_batches_per_minute = 5
    events_server.settings.events_per_minute = 40
    flooder, other = factory.user(), factory.user()
    codes = [post(ev_client, flooder, [ev("impression", i)]).status_code for i in range(8)]
    assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}
    limited = post(ev_client, flooder, [ev("impression", 99)])
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert post(ev_client, other, [ev("impression", i) for i in range(30)]).status_code == 200
    resp = post(ev_client, other, [ev("impression", i) for i in range(20)])  # 50 events > 40 a minute
    assert resp.status_code == 429 and "nothing of this batch was stored" in resp.json()["detail"]
    assert len(events_of(events_server.log, other.principal.pseudonym)) == 30
    assert len(events_of(events_server.log, flooder.principal.pseudonym)) == 5


def test_unknown_ids_are_rejected_when_the_owning_domain_says_so(ev_client, factory):
    known = new_id("vid")
    ids.register_id_validator("video", lambda session, wanted: wanted & {known}, prefix="vid")
    try:
        shopper = factory.user()
        creator = factory.user("creator")
        batch = [
            ev("like", 0, video_id=known),
            ev("like", 1, video_id=new_id("vid")),
            ev("like", 2, video_id=new_id("prd")),
            ev("follow", 3, creator_id=creator.id),
            ev("follow", 4, creator_id=new_id("usr")),
        ]
        resp = post(ev_client, shopper, batch)
        assert resp.status_code == 207, resp.text
        reasons = {r["index"]: r["reason"] for r in resp.json()["rejected"]}
        assert sorted(reasons) == [1, 2, 4]
        assert "no such video" in reasons[1] and "start with 'vid_'" in reasons[2]
        assert "no such creator" in reasons[4]
    finally:
        ids.unregister_id_validator("video")


def test_unknown_products_and_variants_are_rejected_by_the_catalog(ev_client, factory, real_id_checks):
    shop = factory.verified_merchant()
    item = factory.product(shop)
    shopper = factory.user()
    batch = [
        ev("product_click", 0, product_id=item["product_id"]),
        ev("product_click", 1, product_id=new_id("prd")),
        ev("add_to_cart", 2, product_id=item["product_id"], variant_id=item["variant_ids"][0]),
        ev("add_to_cart", 3, product_id=item["product_id"], variant_id=new_id("var")),
        ev("product_click", 4, product_id=new_id("vid")),
    ]
    resp = post(ev_client, shopper, batch)
    assert resp.status_code == 207, resp.text
    reasons = {r["index"]: r["reason"] for r in resp.json()["rejected"]}
    assert sorted(reasons) == [1, 3, 4]
    assert "no such product" in reasons[1] and "no such variant" in reasons[3]
    assert "start with 'prd_'" in reasons[4]


def test_the_log_holds_no_personal_data(ev_client, events_server, factory):
    shopper = factory.user(email="private.person@mail.example.com", name="Privata Personne")
    batch = [
        ev("impression", 0),
        ev("product_click", 1, product_id=new_id("prd")),
        ev("follow", 2, creator_id=shopper.id),
    ]
    headers = {
        **shopper.headers,
        "User-Agent": "Mozilla/5.0 (iPhone) SecretBrowser/9",
        "X-Forwarded-For": "203.0.113.9",
    }
    resp = ev_client.post("/api/v1/events", json={"events": batch, "platform": "ios"}, headers=headers)
    assert resp.status_code == 200
    stored = events_of(events_server.log, shopper.principal.pseudonym)
    assert len(stored) == 3
    raw = b"".join(orjson.dumps(e.data) for e in stored)
    if events_server.backend == "embedded":  # the bytes on disk too, WAL included
        path = events_server.settings.data_dir / "events" / "log.db"
        raw += b"".join(p.read_bytes() for p in path.parent.glob("log.db*"))
    for secret in (
        b"private.person",
        b"mail.example.com",
        b"Privata",
        b"Personne",
        b"SecretBrowser",
        b"203.0.113.9",
        b"127.0.0.1",
        shopper.token.encode(),
    ):
        assert secret not in raw, secret
    allowed = {
        "type",
        "event_id",
        "user",
        "ts",
        "client_ts",
        "recv",
        "platform",
        "app_version",
        "session_id",
        "surface",
        "position",
        "video_id",
        "live_room_id",
        "product_id",
        "variant_id",
        "creator_id",
        "comment_id",
        "dwell_ms",
        "watch_ratio",
        "velocity",
        "quantity",
        "undo",
        "channel",
        "reason",
    }
    assert set().union(*(e.data.keys() for e in stored)) <= allowed


def test_the_feed_sees_a_new_event_within_a_second(ev_client, events_server, factory):
    shopper = factory.user()
    history = service.recent_history(events_server.log)  # started (and caught up) before the event
    video = new_id("vid")
    started = time.monotonic()
    assert post(ev_client, shopper, [ev("like", 0, video_id=video)]).status_code == 200
    while not history.recent(shopper.principal.pseudonym):
        assert time.monotonic() - started < 1.0, "the new event did not reach recent history within 1 s"
        time.sleep(0.005)
    (latest,) = service.recent_events(shopper.principal.pseudonym, log=events_server.log)
    assert latest.data["video_id"] == video and latest.type == "like"


def test_purchases_are_written_by_the_server_from_order_paid(events_server, factory):
    shopper = factory.user()
    order = {
        "order_id": new_id("ord"),
        "user_id": shopper.id,
        "merchant_id": new_id("mch"),
        "region": "BE",
        "source_video_id": new_id("vid"),
        "source_live_room_id": None,
        "items": [
            {
                "product_id": new_id("prd"),
                "variant_id": new_id("var"),
                "quantity": 2,
                "unit_amount": 1299,
                "currency": "EUR",
            },
            {
                "product_id": new_id("prd"),
                "variant_id": None,
                "quantity": 1,
                "unit_amount": 500,
                "currency": "EUR",
                "source_live_room_id": "lrm_01JD0000000000000000000000",
            },
        ],
        "paid_at": iso(datetime.now(UTC)),
    }
    bus.publish_now("order.paid", order)
    bus.publish_now("order.paid", order)  # delivered twice: still stored once
    stored = events_of(events_server.log, shopper.principal.pseudonym)
    assert [e.type for e in stored] == ["purchase", "purchase"]
    assert stored[0].data["quantity"] == 2 and stored[0].data["video_id"] == order["source_video_id"]
    assert stored[1].data["live_room_id"] == "lrm_01JD0000000000000000000000"  # the line's own source
    raw = b"".join(orjson.dumps(e.data) for e in stored)
    assert order["order_id"].encode() not in raw and shopper.id.encode() not in raw


def test_browser_sessions_post_with_csrf_header_or_beacon_token(ev_client, events_server, factory):
    from tests.factories import PASSWORD

    shopper = factory.user()
    login = ev_client.post("/api/v1/auth/login", json={"email": shopper.email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    csrf = login.json()["csrf_token"]
    body = {"events": [ev("impression", 0)], "platform": "web"}
    assert ev_client.post("/api/v1/events", json=body).status_code == 403  # cookie without CSRF token
    assert ev_client.post("/api/v1/events", json=body, headers={"X-CSRF-Token": csrf}).status_code == 200
    beacon = {"events": [ev("impression", 1)], "platform": "web"}
    assert ev_client.post("/api/v1/events?csrf_token=wrong", json=beacon).status_code == 403
    assert ev_client.post(f"/api/v1/events?csrf_token={csrf}", json=beacon).status_code == 200
    assert len(events_of(events_server.log, shopper.principal.pseudonym)) == 2


def test_an_unreachable_log_is_a_503_to_retry_not_a_500_or_a_hang(settings, database, db, factory):
    import httpx

    from etalage.app import create_app
    from tests.conftest import LiveServer, free_port

    own = settings.model_copy(
        update={"nats_url": f"nats://127.0.0.1:{free_port()}", "events_nats_stream": "ETALAGE_NOWHERE"}
    )
    live = LiveServer(create_app(own, database), free_port())
    live.start()
    try:
        shopper = factory.user()
        started = time.monotonic()
        with httpx.Client(base_url=live.url, timeout=30) as client:
            first = post(client, shopper, [ev("impression", 0)])
            again = post(client, shopper, [ev("impression", 1)])
        assert first.status_code == again.status_code == 503
        assert first.headers["content-type"] == "application/problem+json" and first.headers["retry-after"]
        assert "Retry the same batch" in first.json()["detail"]
        assert time.monotonic() - started < 10
    finally:
        live.stop()


def test_videos_and_rooms_are_checked_with_the_content_domain(
    ev_client, events_server, factory, real_id_checks
):
    from tests.factories import make_room

    shopper, host = factory.user(), factory.user("creator")
    room = make_room(factory, host)
    batch = [
        ev("impression", 0, live_room_id=room),
        ev("impression", 1, live_room_id=new_id("lrm")),
        ev("impression", 2, video_id=new_id("vid")),
        ev("impression", 3, live_room_id=new_id("liv")),
    ]
    resp = post(ev_client, shopper, batch)
    assert resp.status_code == 207, resp.text
    reasons = {r["index"]: r["reason"] for r in resp.json()["rejected"]}
    assert sorted(reasons) == [1, 2, 3]
    assert "no such live room" in reasons[1] and "no such video" in reasons[2] and "'lrm_'" in reasons[3]


def test_ingest_outcomes_are_counted_for_prometheus(ev_client, events_server, factory):
    def counted(outcome: str) -> float:
        text = ev_client.get("/metrics").text
        line = next(
            (x for x in text.splitlines() if x.startswith(f'etalage_events_total{{outcome="{outcome}"}}')), ""
        )
        return float(line.split()[-1]) if line else 0.0

    before = {k: counted(k) for k in ("accepted", "duplicate", "rejected")}
    shopper = factory.user()
    batch = [ev("impression", 0), ev("view_end", 1, dwell_ms=-1)]
    post(ev_client, shopper, batch)
    post(ev_client, shopper, batch)
    assert counted("accepted") - before["accepted"] == 1
    assert counted("duplicate") - before["duplicate"] == 1
    assert counted("rejected") - before["rejected"] == 2
    assert "etalage_events_append_seconds_bucket" in ev_client.get("/metrics").text
