"""Live rooms over real WebSockets: chat, pinned products, deals, likes, purchases, moderation, reconnects."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from etalage.content import live_deals, media
from etalage.core import bus
from tests.content.helpers import is_problem, make_product
from tests.factories import make_room, make_video

pytestmark = pytest.mark.skipif(
    not media.ffmpeg_available(), reason="ffmpeg/ffprobe not installed (dev.py test installs them)"
)


def _ws(live_server, room_id: str, token: str | None = None, **params: str) -> ClientConnection:
    query = "&".join(f"{k}={v}" for k, v in ({"token": token} if token else {}).items() | params.items())
    url = (
        live_server.url.replace("http://", "ws://")
        + f"/api/v1/live/rooms/{room_id}/ws"
        + (f"?{query}" if query else "")
    )
    return connect(url, open_timeout=5)


def _next(ws: ClientConnection, kind: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
    """The next message of ``kind`` (and matching fields), skipping others (viewer counts, likes...)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kind} {match or ''} within {timeout} s"
        message = json.loads(ws.recv(timeout=left))
        if message["type"] == kind and all(message.get(k) == v for k, v in match.items()):
            return message


def _chat(ws: ClientConnection, text: str) -> None:
    ws.send(json.dumps({"type": "chat", "text": text}))


def _room(factory, host, **kw) -> str:  # type: ignore[no-untyped-def]
    return make_room(factory, host, video_id=make_video(factory, host, publish=False), **kw)


def test_two_viewers_see_each_others_chat_the_pinned_product_and_a_purchase(
    api, factory, db, live_server, psp
):
    shop = factory.verified_merchant(name="Atelier Zuid")
    host = factory.staff(shop)
    item = factory.product(shop, prices={"BE": 2999}, stock=5, title="Linen shirt")
    ann = factory.user("shopper", name="Ann")
    bob = factory.shopper("BE", psp=psp)  # with a saved address and card, for one-tap buying
    room_id = make_room(
        factory,
        host,
        video_id=make_video(factory, shop, merchant_id=shop.merchant_id, publish=False),
        merchant_id=shop.merchant_id,
    )

    with _ws(live_server, room_id, ann.token) as a, _ws(live_server, room_id, bob.token) as b:
        hello = json.loads(a.recv(timeout=5))
        assert hello["type"] == "hello" and hello["room"]["state"] == "live"
        assert hello["room"]["playback"]["loop"] is True and hello["room"]["playback"]["url"].endswith(".mp4")
        assert hello["you"] == {"user_id": ann.id, "role": None, "can_chat": True, "muted_until": None}
        assert json.loads(b.recv(timeout=5))["type"] == "hello"

        _chat(a, "Does it come in blue?")
        seen_by_b = _next(b, "chat")
        assert (seen_by_b["text"], seen_by_b["author"], seen_by_b["user_id"]) == (
            "Does it come in blue?",
            "Ann",
            ann.id,
        )
        assert _next(a, "chat")["id"] == seen_by_b["id"]
        _chat(b, "It does, I have it")
        assert _next(a, "chat")["user_id"] == bob.id

        pin = api.put(
            f"/api/v1/live/rooms/{room_id}/pin", json={"product_id": item["product_id"]}, headers=host.headers
        )
        assert pin.status_code == 200 and pin.json()["pinned_product_id"] == item["product_id"]
        for ws in (a, b):
            pinned = _next(ws, "pinned_product")
            assert pinned == {
                "type": "pinned_product",
                "product_id": item["product_id"],
                "title": "Linen shirt",
            }

        # Bob buys the pinned product with one tap, through the real checkout and the test PSP.
        paid: list[dict] = []
        listener = lambda _t, p: paid.append(p)  # noqa: E731
        bus.subscribe("order.paid", listener)
        try:
            resp = api.post(
                "/api/v1/buy-now",
                json={"variant_id": item["variant_id"], "quantity": 1, "source": {"live_room_id": room_id}},
                headers={**bob.headers, "Idempotency-Key": "live-buy-1"},
            )
            assert resp.status_code == 201 and resp.json()["status"] == "paid", resp.text
            order_id = resp.json()["orders"][0]["id"]
            for ws in (a, b):
                bought = _next(ws, "purchase", timeout=10)
                assert (
                    bought["text"] == "Someone just bought Linen shirt"
                    and bought["product_id"] == item["product_id"]
                )
                assert bob.id not in json.dumps(bought)  # who bought is nobody else's business
        finally:
            bus.unsubscribe("order.paid", listener)
        assert [p["order_id"] for p in paid] == [order_id] and paid[0]["source_live_room_id"] == room_id
        bus.publish_now("order.paid", paid[0])  # the same event delivered again: recorded once
        with pytest.raises(TimeoutError):
            _next(a, "purchase", timeout=0.5)

    attributed = api.get(f"/api/v1/live/rooms/{room_id}/attributions", headers=host.headers)
    assert [(o["order_id"], o["during_live"]) for o in attributed.json()] == [(order_id, True)]
    assert attributed.json()[0]["items"][0]["variant_id"] == item["variant_id"]
    is_problem(api.get(f"/api/v1/live/rooms/{room_id}/attributions", headers=ann.headers), 403)
    texts = [m["text"] for m in api.get(f"/api/v1/live/rooms/{room_id}/messages").json()["items"]]
    assert texts == ["Someone just bought Linen shirt", "It does, I have it", "Does it come in blue?"]


def test_a_reconnecting_viewer_catches_up(api, factory, live_server):
    host = factory.user("shopper", "creator")
    ann, bob = factory.user("shopper"), factory.user("shopper")
    product = make_product(api, factory.merchant(), "Wool scarf")
    room_id = _room(factory, host)
    with _ws(live_server, room_id, ann.token) as a:
        _next(a, "hello")
        _chat(a, "first")
        last = _next(a, "chat")["id"]
    with _ws(live_server, room_id, bob.token) as b:  # while Ann is away
        _next(b, "hello")
        _chat(b, "you missed this")
        _next(b, "chat")
        api.put(f"/api/v1/live/rooms/{room_id}/pin", json={"product_id": product["id"]}, headers=host.headers)
        deal = api.post(
            f"/api/v1/live/rooms/{room_id}/deals",
            headers=host.headers,
            json={
                "product_id": product["id"],
                "variant_id": product["variants"][0]["id"],
                "price": {"amount": 1500, "currency": "EUR"},
                "quantity": 3,
                "duration_seconds": 600,
            },
        )
        assert deal.status_code == 201, deal.text
    with _ws(live_server, room_id, ann.token, since=last) as a:
        hello = _next(a, "hello")
        assert [m["text"] for m in hello["history"]] == ["you missed this"]
        assert hello["pinned_product"] == {"product_id": product["id"], "title": "Wool scarf"}
        assert [(d["price"]["amount"], d["quantity_left"]) for d in hello["deals"]] == [(1500, 3)]
    with _ws(live_server, room_id) as anonymous:
        hello = _next(anonymous, "hello")
        assert [m["text"] for m in hello["history"]] == ["first", "you missed this"]
        assert hello["you"]["can_chat"] is False
        _chat(anonymous, "hi")
        assert _next(anonymous, "error")["code"] == "unauthorized"


def test_chat_is_rate_limited_filtered_and_moderated(api, factory, db, live_server):
    host = factory.user("shopper", "creator")
    moderator = factory.user("moderator")
    ann, troll = factory.user("shopper"), factory.user("shopper", name="Troll")
    room_id = _room(factory, host)
    api.patch(f"/api/v1/live/rooms/{room_id}", json={"blocked_words": ["fake"]}, headers=host.headers)
    with _ws(live_server, room_id, ann.token) as a, _ws(live_server, room_id, troll.token) as t:
        _next(a, "hello"), _next(t, "hello")
        _chat(t, "this is FAKE")
        assert _next(t, "error")["reason"] == "blocked-word"
        _chat(t, "k.y.s")
        assert _next(t, "error")["reason"] == "blocked-word"
        for i in range(6):
            _chat(t, f"spam {i}")
        limited = _next(t, "error", code="rate-limited")
        assert limited["retry_after"] > 0
        spam = _next(a, "chat", text="spam 0")

        removed = api.post(
            f"/api/v1/live/rooms/{room_id}/messages/{spam['id']}/remove",
            json={"reason": "spam"},
            headers=moderator.headers,
        )
        assert removed.json() == {"id": spam["id"], "state": "removed"}
        assert _next(a, "message_removed")["id"] == spam["id"]
        is_problem(
            api.post(
                f"/api/v1/live/rooms/{room_id}/mutes",
                json={"user_id": troll.id, "reason": "spamming"},
                headers=ann.headers,
            ),
            403,
        )
        muted = api.post(
            f"/api/v1/live/rooms/{room_id}/mutes",
            json={"user_id": troll.id, "minutes": 5, "reason": "spamming"},
            headers=host.headers,
        )
        assert muted.status_code == 201
        assert _next(t, "muted")["reason"] == "spamming"
        time.sleep(1.0)  # past the rate-limit window's worst case is not needed: muting answers first
        _chat(t, "let me talk")
        assert _next(t, "error", timeout=5)["code"] in ("forbidden", "rate-limited")
    with _ws(live_server, room_id, troll.token) as t:  # the mute survives a reconnect
        hello = _next(t, "hello")
        assert hello["you"]["can_chat"] is False and hello["you"]["muted_until"]
    assert (
        api.delete(f"/api/v1/live/rooms/{room_id}/mutes/{troll.id}", headers=host.headers).status_code == 204
    )
    visible = [m["text"] for m in api.get(f"/api/v1/live/rooms/{room_id}/messages").json()["items"]]
    assert "spam 0" not in visible and "spam 1" in visible
    log = api.get(f"/api/v1/live/rooms/{room_id}/moderation", headers=host.headers).json()
    assert [(e["action"], e["actor_id"], e["actor_role"], e["reason"]) for e in log] == [
        ("remove", moderator.id, "moderator", "spam"),
        ("mute", host.id, "host", "spamming"),
        ("unmute", host.id, "host", "lifted"),
    ]


def test_likes_viewer_counts_deals_and_the_end_of_a_room(api, factory, db, live_server):
    host = factory.user("shopper", "creator")
    ann, bob = factory.user("shopper"), factory.user("shopper")
    product = make_product(api, factory.merchant(), "Desk lamp")
    variant = product["variants"][0]["id"]
    room_id = _room(factory, host)
    with _ws(live_server, room_id, ann.token) as a, _ws(live_server, room_id, bob.token) as b:
        _next(a, "hello"), _next(b, "hello")
        assert _next(a, "viewer_count", timeout=5, count=2)["count"] == 2
        a.send(json.dumps({"type": "like", "count": 5}))
        b.send(json.dumps({"type": "like", "count": 1000}))  # capped per frame
        assert _next(b, "likes", timeout=5, total=25)["total"] == 25

        resp = api.post(
            f"/api/v1/live/rooms/{room_id}/deals",
            headers=host.headers,
            json={
                "product_id": product["id"],
                "variant_id": variant,
                "price": {"amount": 999, "currency": "EUR"},
                "quantity": 2,
                "duration_seconds": 60,
            },
        )
        deal = resp.json()
        assert _next(a, "deal")["deal"]["id"] == deal["id"]
        with db.session() as s:
            assert live_deals.live_deal_for(s, room_id, variant).price_amount == 999
            assert live_deals.reserve_live_deal(s, room_id, variant, 3) is None  # over the cap
            assert live_deals.reserve_live_deal(s, room_id, variant, 2).quantity_left == 0
            assert live_deals.live_deal_for(s, room_id, variant) is None  # sold out
        is_problem(
            api.post(
                f"/api/v1/live/rooms/{room_id}/deals",
                headers=host.headers,
                json={
                    "product_id": product["id"],
                    "variant_id": "var_01M8000000000000000000000A",
                    "price": {"amount": 999, "currency": "EUR"},
                    "quantity": 2,
                },
            ),
            422,
        )
        is_problem(
            api.post(
                f"/api/v1/live/rooms/{room_id}/deals",
                headers=host.headers,
                json={
                    "product_id": product["id"],
                    "variant_id": variant,
                    "price": {"amount": -1, "currency": "EUR"},
                    "quantity": 2,
                },
            ),
            422,
        )

        assert api.post(f"/api/v1/live/rooms/{room_id}/end", headers=host.headers).json()["state"] == "ended"
        assert _next(b, "room_state")["state"] == "ended"
        _chat(b, "still there?")
        assert _next(b, "error")["code"] == "conflict"
    room = api.get(f"/api/v1/live/rooms/{room_id}").json()
    assert room["like_count"] == 25 and room["state"] == "ended"
    listed = api.get("/api/v1/live/rooms", params={"state": "ended"}).json()["items"]
    assert [r["id"] for r in listed] == [room_id]


def test_bad_sockets_and_bad_rooms(api, factory, live_server):
    host = factory.user("shopper", "creator")
    flooder = factory.user("shopper")
    room_id = _room(factory, host)
    with _ws(live_server, room_id, "etl_not-a-real-token") as ws:
        assert _next(ws, "error")["code"] == "unauthorized"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd.code == 4401
    with _ws(live_server, "lrm_01M8NOPE0000000000000000000") as ws:
        assert _next(ws, "error")["code"] == "not-found"
    with _ws(live_server, room_id, flooder.token) as ws:
        _next(ws, "hello")
        ws.send("not json")
        assert _next(ws, "error")["code"] == "bad-request"
        ws.send("x" * 10_000)
        assert _next(ws, "error")["code"] == "too-large"
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(100):
                ws.send(json.dumps({"type": "ping"}))
            while True:
                ws.recv(timeout=5)
        assert closed.value.rcvd.code == 1008

    # Rooms: an HLS source must be an https playlist; a clip must be one of your ready videos.
    is_problem(
        api.post(
            "/api/v1/live/rooms",
            headers=host.headers,
            json={"title": "Live", "source": {"kind": "hls", "url": "http://insecure.example.com/a.m3u8"}},
        ),
        422,
    )
    other = make_video(factory, factory.user("shopper", "creator"))
    is_problem(
        api.post(
            "/api/v1/live/rooms",
            headers=host.headers,
            json={"title": "Live", "source": {"kind": "clip", "video_id": other}},
        ),
        422,
    )
    is_problem(
        api.post(
            "/api/v1/live/rooms",
            headers=flooder.headers,
            json={"title": "Live", "source": {"kind": "hls", "url": "https://cdn.example.com/live/x.m3u8"}},
        ),
        403,
    )
    made = api.post(
        "/api/v1/live/rooms",
        headers=host.headers,
        json={
            "title": "Friday drop",
            "source": {"kind": "hls", "url": "https://cdn.example.com/live/x.m3u8"},
        },
    )
    assert made.status_code == 201 and made.json()["state"] == "scheduled"
    assert made.json()["playback_kind"] == "hls" and made.json()["loop"] is False
    is_problem(api.post(f"/api/v1/live/rooms/{made.json()['id']}/start", headers=flooder.headers), 403)
    assert (
        api.post(f"/api/v1/live/rooms/{made.json()['id']}/start", headers=host.headers).json()["state"]
        == "live"
    )
