"""The served log's stored form: columnar in the database, one dict per item for every reader."""

from __future__ import annotations

import numpy as np
import orjson
from sqlalchemy import delete

from etalage.db import new_id, utcnow
from etalage.feed import served
from etalage.feed.models import FeedServed
from etalage.feed.parameters import OUTCOMES, preset
from etalage.feed.pipeline import heads as H
from etalage.feed.served_format import FEATURES, SIGNALS, LoggedItem, item_ids, pack, unpack
from etalage.feed.training import LABEL_KINDS, fit_heads


def _why(k: int) -> dict:
    reasons = [{"code": "taste", "text": "Matches your taste", "contribution": 0.2 + k, "because_of": f"vid_b{k}"}]
    if k % 2:
        reasons.append({"code": "trending", "text": "Trending in Spain", "contribution": None, "because_of": None})
    return {"source": "collaborative" if k else "trending", "score": 0.5 - k / 10, "reasons": reasons,
            "value": {o: k + j / 10 for j, o in enumerate(OUTCOMES)},
            "adjustments": {"quality": -0.01 * k, "exploration": 0.02, "diversity": 0.0}}  # fmt: skip


def _page(n: int = 3) -> tuple[list[LoggedItem], dict[str, list[float]]]:
    items = [LoggedItem(f"vid_{k}", "video" if k else "live_room", f"vid_b{k}" if k else None, k == 2,
                        {"factor": 0.9, "return_rate": 0.1} if k else None, _why(k)) for k in range(n)]  # fmt: skip
    names = [*(f"p_{o}" for o in OUTCOMES), *(f"rate_{o}" for o in OUTCOMES), *SIGNALS, *FEATURES]
    figures = {name: [j + k / 100 for k in range(n)] for j, name in enumerate(names)}
    return items, figures


def _per_item(items: list[LoggedItem], figures: dict[str, list[float]]) -> list[dict]:
    """The record as one object per item, written out field by field: what readers expect."""
    out = []
    for k, it in enumerate(items):
        f = {name: v[k] for name, v in figures.items()}
        out.append({
            "position": k, "item_id": it.item_id, "kind": it.kind, "source": it.why["source"],
            "because_of": it.because_of, "score": it.why["score"], "explore_slot": it.explore_slot,
            "predictions": {o: f[f"p_{o}"] for o in OUTCOMES}, "rates": {o: f[f"rate_{o}"] for o in OUTCOMES},
            "signals": {s: f[s] for s in SIGNALS},
            "features": {"trend": f["trend"], "age_h": f["age_h"], "impressions": f["impressions"],
                         "quality": it.quality, "worth": f["worth"]},
            "value": it.why["value"], "adjustments": it.why["adjustments"],
            "reasons": [{k2: r[k2] for k2 in ("code", "contribution", "because_of")} for r in it.why["reasons"]],
        })  # fmt: skip
    return out


def test_packed_items_read_back_as_one_dict_per_item() -> None:
    items, figures = _page()
    stored = orjson.loads(orjson.dumps(pack(items, figures)))  # through JSON, as the database keeps it
    assert unpack(stored) == _per_item(items, figures)
    assert list(item_ids(stored)) == ["vid_0", "vid_1", "vid_2"]
    assert unpack(pack([], {name: [] for name in figures})) == []
    # the names once per page instead of once per item
    assert len(orjson.dumps(stored)) < 0.7 * len(orjson.dumps(_per_item(items, figures)))


def test_records_of_either_form_read_back_from_the_database(db) -> None:  # type: ignore[no-untyped-def]
    items, figures = _page()
    legacy = _per_item(items, figures)  # written before the columnar form
    rows = [
        {"id": new_id("srv"), "chain_id": "srv_chain", "page": page, "pseudonym": "p" * 64, "mode": "personalised",
         "region": "ES", "preset": "balanced", "params_version": "v1", "items": stored, "created_at": utcnow()}
        for page, stored in enumerate([legacy, pack(items[:2], {k: v[:2] for k, v in figures.items()})])
    ]  # fmt: skip
    log = served.ServedLog(db)
    with db.session() as s:
        s.connection().execute(served._INSERT_SERVED, rows[:1])
    log.add(rows[1])  # still in the buffer: answered from there
    with db.read() as s:
        assert served.load(s, log, rows[0]["id"])["items"] == legacy
        assert served.load(s, log, rows[1]["id"])["items"] == legacy[:2]
        assert served.chain_items(s, log, "srv_chain") == {"vid_0", "vid_1", "vid_2"}
    assert log.flush() == 1
    with db.read() as s:
        assert served.load(s, log, rows[1]["id"])["items"] == legacy[:2]
        assert s.get(FeedServed, rows[1]["id"]).items == legacy[:2]
        assert served.chain_items(s, None, "srv_chain") == {"vid_0", "vid_1", "vid_2"}


def _refit_world(rng: np.random.Generator, pages: int = 40) -> tuple[list[tuple], dict]:
    """Served pages with figures, and what their viewers did within the hour (more with more affinity)."""
    now = utcnow()
    records, labels = [], {}
    for page in range(pages):
        pseudonym = f"{page % 7:064d}"
        items, figures = _page(10)
        items = [it._replace(item_id=f"vid_{page}_{k}") for k, it in enumerate(items)]
        figures = {name: rng.uniform(0.01, 0.9, 10).round(6).tolist() for name in figures}
        t0 = now.timestamp() * 1000
        for k, it in enumerate(items):
            seen = [("impression", t0 + 60_000)]  # a minute after the page (written below, after this)
            seen += [(kind, t0 + 90_000) for kind in LABEL_KINDS if rng.random() < figures["affinity"][k]]
            labels[(pseudonym, it.item_id)] = seen
        records.append((pseudonym, items, figures))
    return records, labels


def test_the_heads_refit_reads_either_stored_form_alike(db) -> None:  # type: ignore[no-untyped-def]
    records, labels = _refit_world(np.random.default_rng(3))
    base = H.Heads()
    fitted = []
    for form in (_per_item, pack):
        with db.session() as s:
            s.execute(delete(FeedServed))
            s.connection().execute(served._INSERT_SERVED, [
                {"id": new_id("srv"), "chain_id": f"srv_{n}", "page": 0, "pseudonym": pseudonym,
                 "mode": "personalised", "region": "ES", "preset": "balanced", "params_version": "v1",
                 "items": form(items, figures), "created_at": utcnow()}
                for n, (pseudonym, items, figures) in enumerate(records)])  # fmt: skip
        fitted.append(fit_heads(db, labels, base, preset("quality")).as_dict())
    assert fitted[0] == fitted[1]
    assert fitted[0]["fitted_rows"] == 400 and fitted[0]["beta"] != base.as_dict()["beta"]


def test_the_heads_learn_a_signal_from_differences_within_a_page(db) -> None:  # type: ignore[no-untyped-def]
    """Early in a visit a shopper buys more and has little history (low session similarity); later they
    buy less and everything looks similar to the session. Within each page, though, the more similar item
    sells better. Fitted across pages the similarity looked harmful (δ < 0, seen on a simulation's served
    pages); fitted within pages it is what it is, and the mean predicted chance still matches the data."""
    rng = np.random.default_rng(5)
    now, t0 = utcnow(), utcnow().timestamp() * 1000
    rows, labels, outcomes = [], {}, []
    for page in range(120):
        pseudonym = f"{page % 11:064d}"
        early = page % 2 == 0
        items, figures = _page(10)
        items = [it._replace(item_id=f"vid_{page}_{k}") for k, it in enumerate(items)]
        session = rng.uniform(0.0, 0.3, 10) if early else rng.uniform(0.6, 0.9, 10)
        figures = {name: [0.2] * 10 for name in figures} | {"affinity": [0.0] * 10, "follow": [0.0] * 10,
                                                             "session": session.round(6).tolist()}  # fmt: skip
        lo = session.min()
        for k, it in enumerate(items):
            chance = (0.6 if early else 0.1) * (0.4 + 2.0 * (session[k] - lo))
            did = rng.random() < min(chance, 0.95)
            outcomes.append(did)
            labels[(pseudonym, it.item_id)] = [("impression", t0 + 60_000)] + (
                [("purchase", t0 + 90_000)] if did else []
            )
        rows.append({"id": new_id("srv"), "chain_id": f"srv_{page}", "page": 0, "pseudonym": pseudonym,
                     "mode": "personalised", "region": "ES", "preset": "quality", "params_version": "v1",
                     "items": pack(items, figures), "created_at": now})  # fmt: skip
    with db.session() as s:
        s.execute(delete(FeedServed))
        s.connection().execute(served._INSERT_SERVED, rows)
    heads = fit_heads(db, labels, H.Heads(), preset("quality"))
    assert heads.fitted_rows == 1200
    assert heads.delta["purchase"] > 0.5  # across pages this came out below zero
    sig = np.array([s for r in rows for s in unpack(r["items"]) for s in [s["signals"]["session"]]])
    predicted = H.sigmoid(H.logit(np.full(len(sig), 0.2)) + heads.alpha["purchase"] + heads.delta["purchase"] * sig)
    assert abs(predicted.mean() - np.mean(outcomes)) < 0.2 * np.mean(outcomes)
