"""What other domains (web pages, compliance) and the API call. No HTTP here.

    feed_page(session, viewer, mode=None, region=None, cursor=None, limit=None) -> dict   (one page)
    served_record(session, viewer, served_id) -> dict      (a served page and its reconstruction)
    served_item(session, viewer, served_id, item_id) -> dict  (one item: the model's exact breakdown)
    get_settings(session, viewer) / put_settings(session, viewer, mode=..., region=...)
    ranking_parameters() -> dict / transparency() -> str    (generated from the live configuration)
    forget(session, pseudonym) -> dict                      (erasure: everything the feed keeps on a key)
    export_pseudonym(session, pseudonym) -> dict            (GDPR export: the same, as data)

The viewer is ``core.auth.Principal`` (never the accounts domain): the feed knows a person only by
``Principal.pseudonym`` and their coarse ``age_band``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from etalage.core.auth import Principal
from etalage.core.errors import InvalidInput, NotFound, ServiceUnavailable, Unauthorized
from etalage.db import utcnow
from etalage.feed import catalogue, served
from etalage.feed import transparency as tr
from etalage.feed.engine import FeedEngine
from etalage.feed.models import FeedBought, FeedFollow, FeedHidden, FeedHistory, FeedServed, FeedSetting
from etalage.feed.pages import serve_page
from etalage.feed.pipeline.context import MODES

_engines: list[FeedEngine] = []  # running engines of this process (one per app; tests run several)
_secret = "dev-insecure-change-me"


def set_engine(
    engine: FeedEngine | None, secret: str | None = None, *, remove: FeedEngine | None = None
) -> None:
    """Register a started engine (the first one running is the process's), or ``remove`` a stopped one."""
    global _secret
    if engine is not None and engine not in _engines:
        _engines.append(engine)
    if remove is not None and remove in _engines:
        _engines.remove(remove)
    if secret:
        _secret = secret


def _current() -> FeedEngine | None:
    return _engines[0] if _engines else None


def engine(which: FeedEngine | None = None) -> FeedEngine:
    eng = which or _current()
    if eng is None or not eng.started:
        raise ServiceUnavailable("The feed is starting; retry in a moment.", headers={"Retry-After": "2"})
    return eng


def feed_page(session: Session, viewer: Principal | None, *, mode: str | None = None, region: str | None = None,
              cursor: str | None = None, limit: int | None = None, engine_: FeedEngine | None = None
              ) -> dict[str, Any]:  # fmt: skip
    eng = engine(engine_)
    limit = limit or eng.fs.page_size
    if not 1 <= limit <= eng.fs.max_page_size:
        raise InvalidInput(f"limit must be between 1 and {eng.fs.max_page_size}.", field="limit")
    return serve_page(
        eng, session, viewer, mode=mode, region=region, cursor=cursor, limit=limit, secret=_secret
    )


def _is_auditor(viewer: Principal | None) -> bool:
    return viewer is not None and viewer.has_scope("moderation")


def _own_or_audit(session: Session, viewer: Principal | None, served_id: str, eng: FeedEngine | None
                  ) -> dict[str, Any]:  # fmt: skip
    if viewer is None:
        raise Unauthorized("Sign in to see why you were shown a page.")
    record = served.load(session, eng.served if eng else None, served_id)
    if record is None:
        raise NotFound(f"No served page {served_id}.")
    mine = record.get("pseudonym") is not None and record.get("pseudonym") == viewer.pseudonym
    if not mine and not _is_auditor(viewer):
        raise NotFound(
            f"No served page {served_id}."
        )  # someone else's page reveals nothing, not even existence
    return record


def served_record(session: Session, viewer: Principal | None, served_id: str, engine_: FeedEngine | None = None
                  ) -> dict[str, Any]:  # fmt: skip
    record = _own_or_audit(session, viewer, served_id, engine_ or _current())
    out = {k: v for k, v in record.items() if k != "pseudonym"}
    out["created_at"] = record["created_at"].isoformat() if record.get("created_at") else None
    out["viewer"] = "you" if record.get("pseudonym") == (viewer.pseudonym if viewer else None) else (
        "a signed-in shopper" if record.get("pseudonym") else "an anonymous visitor")  # fmt: skip
    out["reconstruction"] = served.reconstruct(record)
    return out


def served_item(session: Session, viewer: Principal | None, served_id: str, item_id: str,
                engine_: FeedEngine | None = None) -> dict[str, Any]:  # fmt: skip
    """One served item in full; with the model that served it still loaded, its exact breakdown into the
    model's components ("because you watched X": per history item), from the logged history."""
    eng = engine_ or _current()
    record = _own_or_audit(session, viewer, served_id, eng)
    item = next((i for i in record.get("items", []) if i["item_id"] == item_id), None)
    if item is None:
        raise NotFound(f"{item_id} was not on served page {served_id}.")
    out: dict[str, Any] = {"served_id": served_id, "item": item, "model": None}
    model = eng.state.model if eng is not None else None
    if model is None or eng is None or record.get("model_version") != eng.state.model_version:
        out["model_note"] = (
            "The model that served this page is no longer loaded; the logged figures are the record."
        )
        return out
    hist = record.get("history") or []
    midx = model.item_indices([h[0] for h in hist])
    j = model.item_indices([item_id])[0]
    if j < 0 or not len(hist):
        out["model_note"] = (
            "No personal history or the item is not in the model: only its record and quality counted."
        )
        return out
    why = model.explain(midx, int(j), np.array([h[1] for h in hist], np.float32),
                        np.array([h[2] / 1000.0 for h in hist]))  # fmt: skip
    out["model"] = why
    out["model_note"] = ("The model has learned online since this page was served; the breakdown is for its "
                         "current state." if eng.learner.applied else None)  # fmt: skip
    return out


def get_settings(session: Session, viewer: Principal) -> dict[str, Any]:
    if not viewer.pseudonym:
        raise Unauthorized("This account has no feed settings.")
    row = session.get(FeedSetting, viewer.pseudonym)
    return {"mode": row.mode if row else "personalised", "region": row.region if row else None,
            "remembered": row is not None, "minor": viewer.age_band == "minor"}  # fmt: skip


def put_settings(
    session: Session, viewer: Principal, *, mode: str | None, region: str | None
) -> dict[str, Any]:
    if not viewer.pseudonym:
        raise Unauthorized("This account has no feed settings.")
    if mode is not None and mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}.", field="mode")
    if region is not None and not catalogue.is_region(region.upper()):
        raise InvalidInput(f"Etalage does not serve region {region!r}.", field="region")
    row = session.get(FeedSetting, viewer.pseudonym)
    if row is None:
        row = FeedSetting(pseudonym=viewer.pseudonym)
        session.add(row)
    if mode is not None:
        row.mode = mode
    if region is not None:
        row.region = region.upper()
    row.updated_at = utcnow()
    session.flush()
    for eng in _engines:
        eng.viewers.pop(viewer.pseudonym, None)
    return get_settings(session, viewer)


def forget(session: Session, pseudonym: str) -> dict[str, int]:
    """Delete everything the feed keeps under a pseudonymous key (served pages, settings, follows, hidden
    items, products bought, latest interactions) and drop it from this process's memory. Snapshots hold no per-person data."""
    eng = _current()
    counts = {"served": served.forget(session, eng.served if eng else None, pseudonym)}
    for name, model in (("settings", FeedSetting), ("follows", FeedFollow), ("hidden", FeedHidden),
                        ("bought", FeedBought), ("history", FeedHistory)):  # fmt: skip
        counts[name] = int(session.execute(delete(model).where(model.pseudonym == pseudonym)).rowcount or 0)
    for e in _engines:
        for cache in (e.viewers, e.user_region):
            cache.pop(pseudonym, None)
    return counts


def export_pseudonym(session: Session, pseudonym: str) -> dict[str, Any]:
    """What the feed keeps under a pseudonymous key, for the person's data export (compliance calls it)."""
    for e in _engines:
        e.served.flush()
    setting = session.get(FeedSetting, pseudonym)
    pages = session.scalars(
        select(FeedServed).where(FeedServed.pseudonym == pseudonym).order_by(FeedServed.created_at)
    )
    return {
        "settings": {"mode": setting.mode, "region": setting.region} if setting else None,
        "follows": list(session.scalars(select(FeedFollow.creator_id).where(FeedFollow.pseudonym == pseudonym))),
        "not_interested": [{"item_id": i, "kind": k} for i, k in session.execute(
            select(FeedHidden.item_id, FeedHidden.kind).where(FeedHidden.pseudonym == pseudonym))],
        "bought_recently": [{"product_id": p, "bought_at_ms": t} for p, t in session.execute(
            select(FeedBought.product_id, FeedBought.bought_ms).where(FeedBought.pseudonym == pseudonym))],
        "latest_interactions": session.scalar(
            select(FeedHistory.events).where(FeedHistory.pseudonym == pseudonym)) or [],
        "served_pages": [{"id": p.id, "served_at": p.created_at.isoformat(), "mode": p.mode, "region": p.region,
                          "history_read": p.history, "items": [{"item_id": i["item_id"], "source": i["source"],
                                                                "score": i["score"], "reasons": i["reasons"]}
                                                               for i in p.items]} for p in pages],
    }  # fmt: skip


def ranking_parameters(engine_: FeedEngine | None = None) -> dict[str, Any]:
    eng = engine_ or _current()
    if eng is None:
        from etalage.feed.parameters import configured
        from etalage.feed.pipeline.heads import Heads

        params = configured()
        return tr.ranking_parameters(params, Heads.defaults(params), {"version": None})
    return tr.ranking_parameters(eng.state.params, eng.state.heads, tr.model_info(eng))


def transparency(engine_: FeedEngine | None = None) -> str:
    eng = engine_ or _current()
    if eng is None:
        return tr.default_document()
    return tr.markdown(eng.state.params, eng.state.heads, tr.model_info(eng))
