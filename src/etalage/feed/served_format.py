"""How a served page's items are stored: one list per field (columnar), not one object per item.

Readers never see the stored form: ``ServedItems`` (the ``feed_served.items`` column's type) hands back
one dict per item, the shape the explanation, the reconstruction, the heads' refit and the data export
read. Storing the field names once per page instead of once per item made a record 40 % smaller, and
building it from the page's arrays costs less than one nested dict per item; the served log's writes share
the GIL with the pages being answered, so every byte and object it saves shortens a page's tail.

Records written before this format (a list of item objects) read back unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import JSON
from sqlalchemy.types import TypeDecorator

from etalage.feed.parameters import OUTCOMES
from etalage.feed.pipeline.heads import SIGNALS

FORMAT = 2
FEATURES = ("trend", "age_h", "impressions", "worth")  # the logged features besides quality
ADJUSTMENTS = ("quality", "exploration", "diversity")
_SCALARS = ("item_id", "kind", "source", "because_of", "score", "explore_slot")  # one value per item


class LoggedItem(NamedTuple):
    item_id: str
    kind: str
    because_of: str | None
    explore_slot: bool
    quality: dict[str, Any] | None
    why: dict[str, Any]  # the explanation: source, score, value parts, adjustments, reasons


def pack(items: Sequence[LoggedItem], figures: dict[str, list[float]]) -> dict[str, Any]:
    """A page's served items, columnar; ``figures`` holds the logged figures by name (``p_<outcome>``,
    ``rate_<outcome>``, the signals and features), one value per served item."""
    whys = [it.why for it in items]
    return {
        "format": FORMAT,
        "item_id": [it.item_id for it in items],
        "kind": [it.kind for it in items],
        "source": [w["source"] for w in whys],
        "because_of": [it.because_of for it in items],
        "score": [w["score"] for w in whys],
        "explore_slot": [it.explore_slot for it in items],
        "predictions": {o: figures[f"p_{o}"] for o in OUTCOMES},
        "rates": {o: figures[f"rate_{o}"] for o in OUTCOMES},
        "signals": {s: figures[s] for s in SIGNALS},
        "features": {**{f: figures[f] for f in FEATURES}, "quality": [it.quality for it in items]},
        "value": {o: [w["value"][o] for w in whys] for o in OUTCOMES},
        "adjustments": {a: [w["adjustments"][a] for w in whys] for a in ADJUSTMENTS},
        # [code, contribution, because_of] per reason: the texts are in the page's answer, not the record
        "reasons": [[[r["code"], r["contribution"], r["because_of"]] for r in w["reasons"]] for w in whys],
    }


def unpack(stored: Any) -> list[dict[str, Any]]:
    """One dict per item, whichever form the record was stored in."""
    if not isinstance(stored, dict):
        return list(stored or [])
    out = []
    for k, item_id in enumerate(stored["item_id"]):
        out.append({
            "position": k, "item_id": item_id, **{name: stored[name][k] for name in _SCALARS[1:]},
            "predictions": {o: v[k] for o, v in stored["predictions"].items()},
            "rates": {o: v[k] for o, v in stored["rates"].items()},
            "signals": {s: v[k] for s, v in stored["signals"].items()},
            "features": {f: v[k] for f, v in stored["features"].items()},  # quality included
            "value": {o: v[k] for o, v in stored["value"].items()},
            "adjustments": {a: v[k] for a, v in stored["adjustments"].items()},
            "reasons": [{"code": c, "contribution": w, "because_of": b} for c, w, b in stored["reasons"][k]],
        })  # fmt: skip
    return out


def item_ids(stored: Any) -> Sequence[str]:
    """The served items' ids, without unpacking the rest."""
    if isinstance(stored, dict):
        return stored["item_id"]
    return [i["item_id"] for i in stored or []]


def signals_and_rates(stored: Any) -> tuple[Sequence[str], dict[str, list[float]], dict[str, list[float]]]:
    """What the heads' refit reads of a record: item ids, signals by name, rates by outcome (lists per item)."""
    if isinstance(stored, dict):
        return stored["item_id"], stored["signals"], stored["rates"]
    items = stored or []
    return ([i["item_id"] for i in items], {s: [i["signals"][s] for i in items] for s in SIGNALS},
            {o: [i["rates"][o] for i in items] for o in OUTCOMES})  # fmt: skip


class ServedItems(TypeDecorator[Any]):
    """JSON in the database; the list of item dicts in Python (either stored form reads back as that)."""

    impl = JSON
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return unpack(value)
