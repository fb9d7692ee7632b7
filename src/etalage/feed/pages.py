"""Serving one page: resolve mode and region, read the history, run the pipeline, build the answer
(with video, product and explanation for each item), log it, and hand back the next cursor.

Cursors are signed (HMAC with the server secret, bound to the viewer), so a forged or someone else's
cursor is refused with a 400; a scroll ends after ``max_pages`` pages with ``end_reason: page_limit``
(never an unbounded deep page), and a page whose items ran out says why in ``end_reason``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from sqlalchemy import String, bindparam, cast, literal, select, union_all
from sqlalchemy.orm import Session

from etalage.core.auth import Principal
from etalage.core.errors import BadRequest, InvalidInput
from etalage.db import new_id, utcnow
from etalage.events import service as events
from etalage.events.log import StoredEvent
from etalage.feed import catalogue, served, served_format
from etalage.feed.index import KINDS
from etalage.feed.models import FeedBought, FeedFollow, FeedHidden, FeedHistory, FeedSetting
from etalage.feed.parameters import OUTCOMES
from etalage.feed.pipeline import run
from etalage.feed.pipeline.context import MODES, NON_PROFILED, PERSONALISED, FeedRequest, History
from etalage.feed.pipeline.explain import explain_item
from etalage.feed.pipeline.history import read_history
from etalage.feed.quality import describe_item

if TYPE_CHECKING:
    from etalage.feed.engine import FeedEngine

VIEWER_TTL = 5.0  # seconds a process trusts its copy of a viewer's settings, follows and hidden items
# The figures a served record keeps per item, to 6 significant digits (full float precision made the record a
# fifth larger; the heads' refit and a reconstruction read them, and a rare purchase chance keeps its digits).
_LOGGED = (*(f"p_{o}" for o in OUTCOMES), *(f"rate_{o}" for o in OUTCOMES), *served_format.SIGNALS,
           *served_format.FEATURES)  # fmt: skip


def significant(a: np.ndarray, digits: int = 6) -> list[Any]:
    """Each value rounded to ``digits`` significant digits (so JSON writes it short), as (nested) lists;
    one call for a page's figures (a dozen numpy calls per array were a visible share of a page)."""
    a = np.asarray(a, np.float64)
    with np.errstate(all="ignore"):  # zeros, infinities and NaN come back unchanged
        exponent = digits - 1 - np.floor(np.log10(np.abs(a)))
        exponent = np.where(np.isfinite(exponent), exponent, 0).astype(np.int64)
        up = np.power(10.0, np.maximum(exponent, 0))  # exact powers of ten: the quotient is the nearest double
        down = np.power(10.0, np.maximum(-exponent, 0))
        out = np.where(exponent >= 0, np.round(a * up) / up, np.round(a / down) * down)
    return np.where(np.isfinite(out), out, a).tolist()


REGION_NAMES = {"BE": "Belgium", "NL": "the Netherlands", "FR": "France", "DE": "Germany", "ES": "Spain",
                "GB": "the United Kingdom", "US": "the United States", "ID": "Indonesia"}  # fmt: skip


# --- cursors ---------------------------------------------------------------------------------------------


def _mac(secret: str, body: str, viewer: str) -> str:
    return hmac.new(secret.encode(), f"{body}|{viewer}".encode(), hashlib.sha256).hexdigest()[:20]


def encode_cursor(secret: str, viewer: str, chain_id: str, page: int) -> str:
    body = base64.urlsafe_b64encode(orjson.dumps([chain_id, page])).decode().rstrip("=")
    return f"{body}.{_mac(secret, body, viewer)}"


def decode_cursor(secret: str, viewer: str, cursor: str) -> tuple[str, int]:
    body, _, mac = cursor.partition(".")
    if not body or not hmac.compare_digest(mac, _mac(secret, body, viewer)):
        raise BadRequest("The cursor is not one this API issued to you; start again without a cursor.",
                         reason="bad_cursor")  # fmt: skip
    try:
        chain_id, page = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except Exception as exc:  # a valid MAC over garbage cannot happen; still, never a 500
        raise BadRequest("The cursor is not one this API issued.", reason="bad_cursor") from exc
    return str(chain_id), int(page)


# --- the viewer ------------------------------------------------------------------------------------------


# Prebuilt Core statements: they run on most personalised pages, and building one cost more than running it.
_fs, _ff, _fh, _fb = (m.__table__.c for m in (FeedSetting, FeedFollow, FeedHidden, FeedBought))
_VIEWER_STATE = union_all(  # one round trip for the four (most viewers have none of them)
    select(literal("s"), _fs.mode, _fs.region).where(_fs.pseudonym == bindparam("pseudonym")),
    select(literal("f"), _ff.creator_id, literal("")).where(_ff.pseudonym == bindparam("pseudonym")),
    select(literal("h"), _fh.item_id, _fh.kind).where(_fh.pseudonym == bindparam("pseudonym")),
    select(literal("b"), _fb.product_id, cast(_fb.bought_ms, String(20))).where(
        _fb.pseudonym == bindparam("pseudonym")
    ),
)
_STORED_HISTORY = select(FeedHistory.__table__.c.events).where(
    FeedHistory.__table__.c.pseudonym == bindparam("pseudonym")
)


@dataclass(frozen=True)
class ViewerState:
    stored: tuple[str, str | None] | None = None  # remembered (mode, region)
    follows: tuple[str, ...] = ()
    hidden: tuple[tuple[str, str], ...] = ()  # (item id, kind)
    bought: tuple[tuple[str, float], ...] = ()  # (product id, epoch ms)


def viewer_state(engine: FeedEngine, session: Session, pseudonym: str) -> ViewerState:
    """What the feed's tables keep for a pseudonym, cached for a few seconds (a purchase or a mark made
    since is in the in-memory tail of events, which every page reads)."""
    hit = engine.viewers.get(pseudonym)
    if hit is not None and time.monotonic() - hit[0] < VIEWER_TTL:
        return hit[1]
    rows = session.connection().execute(_VIEWER_STATE, {"pseudonym": pseudonym}).all()
    state = ViewerState(
        next(((a, b) for t, a, b in rows if t == "s"), None),
        tuple(a for t, a, _b in rows if t == "f"),
        tuple((a, b) for t, a, b in rows if t == "h"),
        tuple((a, float(b)) for t, a, b in rows if t == "b"),
    )
    engine.viewers.put(pseudonym, (time.monotonic(), state))
    return state


def with_stored_history(session: Session, pseudonym: str, recent: list[Any], limit: int) -> list[Any]:
    """The in-memory tail's events (newest first), then, up to ``limit``, the older ones the feed's consumer
    stored: a shopper back after their events left the tail keeps a personal feed."""
    if len(recent) >= limit:
        return recent
    stored = session.connection().execute(_STORED_HISTORY, {"pseudonym": pseudonym}).scalar()
    if not stored:
        return recent
    oldest = min((float(e.data.get("ts", 0)) for e in recent), default=float("inf"))
    older = [StoredEvent(0, d) for d in reversed(stored) if float(d.get("ts", 0)) < oldest]
    return recent + older[: limit - len(recent)]


def resolve(viewer: Principal | None, stored: tuple[str, str | None] | None, mode: str | None,
            region: str | None, default_region: str) -> tuple[str, str, str]:  # fmt: skip
    """(mode, why that mode, region)."""
    if mode is not None and mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}.", field="mode")
    region = (region or (stored[1] if stored else None) or default_region).upper()
    if not catalogue.is_region(region):
        raise InvalidInput(f"Etalage does not serve region {region!r}.", field="region")
    if viewer is None or not viewer.pseudonym:
        return NON_PROFILED, "anonymous", region
    if viewer.age_band == "minor":  # DSA Art. 28: no profiling-based commercial content for minors
        return NON_PROFILED, "minor_protection", region
    if mode is not None:
        return mode, "requested", region
    if stored is not None:
        return stored[0], "remembered", region
    return PERSONALISED, "default", region


# --- one page --------------------------------------------------------------------------------------------


def _cards(engine: FeedEngine, session: Session, ids: list[str], kinds: dict[str, int]) -> dict[str, dict]:
    out, videos, rooms = {}, [], []
    for i in ids:
        card = engine.cards.get(i) if kinds.get(i) == 0 else None
        if card is not None:
            out[i] = card
        elif kinds.get(i) == 1:
            rooms.append(i)
        else:
            videos.append(i)
    if videos:
        for vid, card in catalogue.video_cards(session, videos).items():
            engine.cards.put(vid, card)
            out[vid] = card
    if rooms:
        out.update(catalogue.room_cards(session, rooms))
    return out


def _product(engine: FeedEngine, pid: str, region: str) -> dict[str, Any] | None:
    f = engine.index.products.get(pid)
    if f is None or region not in f.regions:
        return None
    price = f.prices.get(region)
    return {"id": f.id, "title": f.title, "merchant_id": f.merchant_id, "image_url": f.image,
            "price": {"amount": price[0], "currency": price[1]} if price else None}  # fmt: skip


def serve_page(engine: FeedEngine, session: Session, viewer: Principal | None, *, mode: str | None,
               region: str | None, cursor: str | None, limit: int, secret: str) -> dict[str, Any]:  # fmt: skip
    started = time.perf_counter()
    engine.settle()
    pseudonym = viewer.pseudonym if viewer is not None else None
    vs = viewer_state(engine, session, pseudonym) if pseudonym else ViewerState()
    mode, reason, region = resolve(viewer, vs.stored, mode, region, engine.fs.default_region)
    chain_id, page = (None, 0)
    if cursor:
        chain_id, page = decode_cursor(secret, pseudonym or "anonymous", cursor)
    served_id = new_id("srv")
    chain_id = chain_id or served_id
    now_ms = time.time() * 1000
    state = engine.state
    base = {"served_id": served_id, "chain_id": chain_id, "page": page, "mode": mode, "mode_reason": reason,
            "region": region, "personalised": mode == PERSONALISED, "model_version": state.model_version,
            "params_version": state.params.version, "preset": state.params.preset}  # fmt: skip
    if page >= engine.fs.max_pages:
        return {**base, "served_id": None, "items": [], "next_cursor": None, "end_reason": "page_limit"}
    exclude = engine.chains.get(chain_id)
    if exclude is None:
        exclude = served.chain_items(session, engine.served, chain_id) if page > 0 else set()
    req = FeedRequest(pseudonym, mode, reason, region, viewer.age_band if viewer else "unknown", limit, page,
                      chain_id, set(exclude), now_ms)  # fmt: skip
    if req.personal:
        engine.user_region.put(pseudonym, region)
        recent = events.recent_events(pseudonym, state.params.history_events, log=engine.event_log)
        recent = with_stored_history(session, pseudonym, recent, state.params.history_events)
        hist = read_history(recent, engine.index, state.params, now_ms, vs.follows, vs.hidden, vs.bought)
    else:
        hist = History.empty()
    result = run(req, hist, engine.index, state)
    c, index = result.cands, engine.index
    picks = result.picks
    page_ids = [index.ids[int(c.idx[p.row])] for p in picks]
    because_ids = [index.ids[int(c.because[p.row])] if c.because[p.row] >= 0 else None for p in picks]
    kinds = {index.ids[int(c.idx[p.row])]: int(c.feats["kind"][p.row]) for p in picks}
    kinds.update({b: 0 for b in because_ids if b})

    def cards_for(lo: int, hi: int) -> dict[str, dict]:
        wanted = page_ids[lo:hi] + [b for b in because_ids[lo:hi] if b]
        return _cards(engine, session, list(dict.fromkeys(wanted)), kinds)

    cards = cards_for(0, limit)  # the spare picks' cards only if one of these cannot be served
    rows = np.array([p.row for p in picks], np.int64)
    logged_figures = dict(zip(_LOGGED, significant(np.stack([c.feats[name][rows] for name in _LOGGED])), strict=True))
    items: list[dict[str, Any]] = []
    kept: list[int] = []  # which picks were served (a removed card's spare takes its place)
    logged: list[served_format.LoggedItem] = []
    region_name = REGION_NAMES.get(region, region)
    for k, (pick, item_id, because_id) in enumerate(zip(picks, page_ids, because_ids, strict=True)):
        if len(items) == limit:
            break
        if k == limit:
            cards.update(cards_for(limit, len(picks)))
        card = cards.get(item_id)
        if card is None or index.is_removed(item_id):
            if card is None and kinds.get(item_id) == 0:
                index.remove(item_id)  # not (or no longer) a published video: stop proposing it
            continue  # removed or unpublished since the candidates were drawn: a spare takes its place
        row = pick.row
        i = int(c.idx[row])
        effects = {name: float(v[k]) for name, v in result.effects.items()}
        q = describe_item(state.quality, i, state.params)
        why = explain_item(c, pick, effects, req, state.params, cards, because_id, q, region_name,
                           state.heads.global_rates)  # fmt: skip
        kind = KINDS[int(c.feats["kind"][row])]
        figures = {name: values[k] for name, values in logged_figures.items()}
        predictions = {o: figures[f"p_{o}"] for o in OUTCOMES}
        pids = card.get("product_ids") or (
            [card["pinned_product_id"]] if card.get("pinned_product_id") else []
        )
        products = [p for p in (_product(engine, pid, region) for pid in pids) if p]
        position = len(items)
        items.append({"position": position, "kind": kind, "id": item_id,
                      "video": card if kind == "video" else None, "live_room": card if kind == "live_room" else None,
                      "products": products, "source": why["source"], "score": why["score"],
                      "predictions": predictions, "explanation": why})  # fmt: skip
        kept.append(k)
        logged.append(served_format.LoggedItem(item_id, kind, because_id, pick.explore_slot, q, why))
    end_reason = result.end_reason
    next_cursor = None
    if items and end_reason not in ("exhausted", "nothing_available"):
        next_cursor = encode_cursor(secret, pseudonym or "anonymous", chain_id, page + 1)
    engine.chains.put(chain_id, set(exclude) | {it["id"] for it in items})
    latency = (time.perf_counter() - started) * 1000
    engine.served.add({
        "id": served_id, "chain_id": chain_id, "page": page, "pseudonym": pseudonym, "mode": mode,
        "mode_reason": reason, "region": region, "age_band": req.age_band, "preset": state.params.preset,
        "params_version": state.params.version, "model_version": state.model_version,
        "history": hist.logged[: state.params.history_events],
        "items": served_format.pack(logged, {name: [v[k] for k in kept] for name, v in logged_figures.items()}),
        "context": {"heads": state.heads.as_dict(), "outcome_weights": dict(state.params.outcome_weights),
                    "by_source": result.by_source, "filtered": result.filtered},
        "candidates": result.candidates, "end_reason": end_reason, "latency_ms": round(latency, 3),
        "created_at": utcnow(),
    })  # fmt: skip
    return {**base, "items": items, "next_cursor": next_cursor, "end_reason": end_reason}
