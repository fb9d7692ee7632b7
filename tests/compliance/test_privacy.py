"""Data export (everything of the person from every domain, nothing of anyone else) and erasure (no e-mail,
name or address left anywhere in the database, orders' amounts and VAT kept, events unlinkable)."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from etalage.commerce.models import Order
from etalage.compliance import erasure, exports
from etalage.compliance.models import DataExport, ErasureRequest
from etalage.content import live_chat
from etalage.core import jobs
from etalage.core.ratelimit import MemoryRateLimiter
from etalage.events import service as events
from tests.compliance.helpers import ILLEGAL, notice, order, post_events, problem, scan
from tests.factories import PASSWORD, make_room


def phone_of(name: str) -> str:
    return f"+32 470 {len(name):02d} {ord(name[0]):03d}"


def _person(api, factory, db, name: str, shop, variant_id: str, product_id: str, room_id: str):  # type: ignore[no-untyped-def]
    person = factory.shopper()
    with db.session() as s:
        from etalage.accounts import service as accounts
        from etalage.commerce.models import Address

        accounts.get_user(s, person.id).display_name = name
        address = s.get(Address, person.extra["address_id"])
        address.recipient, address.line1, address.phone = name, f"{name} lane 7", phone_of(name)
    person.extra["order_id"] = order(factory, person, variant_id)
    live_chat.post_chat(db, person.principal, room_id, f"hello from {name}", MemoryRateLimiter())
    post_events(api, person, product_id, n=3)
    assert notice(api, person, "product", product_id, "counterfeit", **ILLEGAL).status_code in (200, 201)
    return person


def _world(api, factory, db):  # type: ignore[no-untyped-def]
    shop = factory.verified_merchant()
    item = factory.product(shop, stock=20)
    room_id = make_room(factory, factory.user("shopper", "creator"))
    alice = _person(api, factory, db, "Alicia Quixote", shop, item["variant_id"], item["product_id"], room_id)
    bob = _person(api, factory, db, "Bartholomew Zed", shop, item["variant_id"], item["product_id"], room_id)
    return shop, item, alice, bob


def test_export_holds_everything_of_the_person_and_nothing_of_anyone_else(api, factory, db):
    _shop, _item, alice, bob = _world(api, factory, db)
    started = api.post("/api/v1/me/exports", headers=alice.headers)
    assert started.status_code == 202, started.text
    export_id = started.json()["id"]
    assert started.json()["status"] == "queued" and started.json()["download_url"] is None
    problem(api.post("/api/v1/me/exports", headers=alice.headers), 409)  # one at a time
    problem(api.get(f"/api/v1/me/exports/{export_id}", headers=bob.headers), 404)
    jobs.drain(db)
    ready = api.get(f"/api/v1/me/exports/{export_id}", headers=alice.headers).json()
    assert ready["status"] == "ready" and ready["progress"] == 100 and ready["download_url"]
    problem(api.get(ready["download_url"], headers=bob.headers), 404)
    problem(api.get(ready["download_url"]), 401)
    resp = api.get(ready["download_url"], headers=alice.headers)
    assert resp.status_code == 200 and resp.headers["cache-control"] == "private, no-store"
    zf = zipfile.ZipFile(io.BytesIO(resp.content))
    assert sorted(zf.namelist()) == ["README.txt", "data.json", "events.jsonl"]
    data = json.loads(zf.read("data.json"))["sections"]
    assert data["accounts"]["profile"]["email"] == alice.email
    assert data["accounts"]["profile"]["display_name"] == "Alicia Quixote"
    assert [t["prefix"] for t in data["accounts"]["api_tokens"]] and "token_hash" not in str(data["accounts"])
    assert [a["line1"] for a in data["commerce"]["addresses"]] == ["Alicia Quixote lane 7"]
    assert [o["id"] for o in data["commerce"]["orders"]] == [alice.extra["order_id"]]
    assert data["commerce"]["orders"][0]["lines"] and data["commerce"]["orders"][0]["tax_amount"] > 0
    [method] = data["payments"]["payment_methods"]
    assert method["last4"] == "4242" and method["token_reference"].count("…") == 1
    assert [m["text"] for m in data["content"]["live_chat"]] == ["hello from Alicia Quixote"]
    assert [n["category"] for n in data["compliance"]["notices"]] == ["counterfeit"]
    lines = [json.loads(x) for x in zf.read("events.jsonl").splitlines()]
    assert len(lines) == 3 and {e["user"] for e in lines} == {alice.principal.pseudonym}
    assert data["events"]["count"] == 3
    everything = resp.content + zf.read("data.json") + zf.read("events.jsonl")
    for secret in (bob.email, "Bartholomew", bob.principal.pseudonym or "?", bob.extra["order_id"]):
        assert secret.encode() not in everything, secret
    with db.session() as s:  # a week later the file is gone
        s.get(DataExport, export_id).expires_at = exports.utcnow()
    exports.expire(db, export_id)
    gone = api.get(f"/api/v1/me/exports/{export_id}", headers=alice.headers).json()
    assert gone["status"] == "expired" and gone["download_url"] is None
    assert not list(exports.export_dir().glob(f"{export_id}*"))


def test_erasure_leaves_nothing_personal_and_keeps_the_tax_record(api, factory, db, monkeypatch):
    shop, item, alice, bob = _world(api, factory, db)
    pseudonym = alice.principal.pseudonym
    assert pseudonym and any(e.data["user"] == pseudonym for e in events.event_log().read(1, 100000))
    with db.read() as s:
        kept = s.execute(select(Order.total_amount, Order.tax_amount, Order.currency, Order.region_code)
                         .where(Order.id == alice.extra["order_id"])).one()  # fmt: skip
    export_id = api.post("/api/v1/me/exports", headers=alice.headers).json()["id"]
    jobs.drain(db)
    assert list(exports.export_dir().glob(f"{export_id}*"))
    body = {"password": PASSWORD, "confirm": True}

    problem(
        api.post("/api/v1/me/erasure", json={**body, "password": "wrong-password"}, headers=alice.headers),
        403,
    )
    problem(api.post("/api/v1/me/erasure", json={"password": PASSWORD}, headers=alice.headers), 422)
    pending = order(factory, alice, item["variant_id"], to="paid")
    blocked = problem(api.post("/api/v1/me/erasure", json=body, headers=alice.headers), 409)
    assert blocked["blockers"][0]["order_id"] == pending and "delivered" in blocked["detail"]
    owner_block = problem(api.post("/api/v1/me/erasure", json=body, headers=shop.headers), 409)
    assert owner_block["blockers"][0]["reason"] == "sole_owner" and "owner" in owner_block["detail"]
    with db.session() as s:
        from etalage.commerce import orders

        orders.transition(s, s.get(Order, pending), "cancelled", actor="system", reason="test")

    # a crash half-way: the job stops after two steps, and the next run finishes without redoing them
    real_steps, calls = erasure.steps(), []

    def crashing_steps():  # type: ignore[no-untyped-def]
        def boom(session, user_id):  # type: ignore[no-untyped-def]
            raise RuntimeError("the power went out")

        return [*real_steps[:2], ("crash", boom)]

    monkeypatch.setattr(erasure, "steps", crashing_steps)
    accepted = api.post("/api/v1/me/erasure", json=body, headers=alice.headers)
    assert accepted.status_code == 202, accepted.text
    assert "tax law" in accepted.json()["retention"]
    problem(api.get("/api/v1/me", headers=alice.headers), 401)  # stopped at once
    jobs.run_pending(db)
    with db.read() as s:
        req = s.scalar(select(ErasureRequest).where(ErasureRequest.user_id == alice.id))
        assert req.status == "running" and req.steps_done == [n for n, _ in real_steps[:2]]
    monkeypatch.setattr(erasure, "steps", lambda: [(n, _counting(fn, n, calls)) for n, fn in real_steps])
    erasure.run(db, req.id)
    assert [n for n in calls] == [n for n, _ in real_steps[2:]]
    erasure.run(db, req.id)  # again: nothing to do
    with db.read() as s:
        req = s.get(ErasureRequest, req.id)
        assert req.status == "done" and req.completed_at is not None

    hits = scan(db, [alice.email, "Alicia", "Quixote", phone_of("Alicia Quixote"), pseudonym])
    assert hits == [], hits
    assert scan(db, [bob.email, "Bartholomew", bob.principal.pseudonym or "?"]), "the control is untouched"
    with db.read() as s:
        assert s.execute(select(Order.total_amount, Order.tax_amount, Order.currency, Order.region_code)
                         .where(Order.id == alice.extra["order_id"])).one() == kept  # fmt: skip
        assert s.get(Order, alice.extra["order_id"]).ship_to == {"country": "BE", "state": None}
    # the events are still in the log, under a key nothing in the database leads to any more
    assert any(e.data["user"] == pseudonym for e in events.event_log().read(1, 100000))
    assert not list(exports.export_dir().glob(f"{export_id}*"))  # the export went with the account
    problem(api.post("/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD}), 401)
    again = api.post("/api/v1/me/erasure", json=body, headers=alice.headers)
    assert again.status_code == 401


def _counting(fn, name, calls):  # type: ignore[no-untyped-def]
    def wrapped(session, user_id):  # type: ignore[no-untyped-def]
        calls.append(name)
        return fn(session, user_id)

    return wrapped
