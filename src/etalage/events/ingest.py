"""From a request body to events ready for the log: parse, validate one by one, correct the clock, check ids.

One bad event rejects only itself, with its index and a reason; the batch as a whole is refused only when
it is not a batch at all (not JSON, wrong shape, too many events). Times follow Snowplow's rule: the
device's clock may be wrong but its intervals are right, so an event's time is the server's receive time
minus (device send time - device event time). What is stored is the pseudonymous user key, the event's
own fields and a coarse platform; never an IP address, a user agent or anything from the account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from etalage.core.errors import InvalidInput, PayloadTooLarge, Problem
from etalage.events import ids
from etalage.events.schemas import NEEDS_MEDIA, envelope_adapter, events_adapter

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
SKEW_TOLERANCE_MS = 1000  # an event may be stamped up to 1 s after its batch was sent (clock jitter)


class MalformedJson(Problem):
    status, code, title = 400, "malformed-json", "Malformed JSON"


def epoch_ms(value: datetime) -> int:
    return (value - _EPOCH) // _MS


@dataclass
class Prepared:
    received_ms: int
    events: list[dict[str, Any]] = field(default_factory=list)  # ready for the log
    indexes: list[int] = field(default_factory=list)  # each one's index in the request
    rejected: list[dict[str, Any]] = field(default_factory=list)
    skew_ms: int | None = None


def _event_id(raw: Any) -> str | None:
    value = raw.get("event_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and len(value) <= 64 else None


def _reason(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"][2:])  # loc = (index, event type, field...)
    return f"{where}: {err['msg']}" if where else err["msg"]


def parse_batch(body: bytes, *, max_events: int) -> tuple[dict[str, Any], list[Any]]:
    """The envelope and its raw events, or a 400/413/422 problem for the batch as a whole."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedJson(f"The request body is not valid JSON: {exc}.") from None
    if isinstance(doc, dict) and isinstance(doc.get("events"), list) and len(doc["events"]) > max_events:
        raise PayloadTooLarge(
            f"A batch holds at most {max_events} events; this one has {len(doc['events'])}. "
            "Split it; nothing of it was stored.",
            max_events=max_events,
        )
    try:
        envelope = envelope_adapter.validate_python(doc)
    except ValidationError as exc:
        errors = [
            {"loc": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False)
        ]
        raise InvalidInput(
            "The body must be an object {sent_at?, platform?, app_version?, events: [...]}.", errors=errors
        ) from None
    raw_events = envelope.pop("events")
    if not raw_events:
        raise InvalidInput("The batch has no events.")
    return envelope, raw_events


def prepare(
    body: bytes,
    *,
    user_key: str,
    received: datetime,
    max_events: int,
    max_age_s: int,
    max_future_s: int,
) -> Prepared:
    envelope, raw_events = parse_batch(body, max_events=max_events)
    out = Prepared(received_ms=epoch_ms(received))
    recv = out.received_ms
    sent_at = envelope.get("sent_at")
    sent_ms = epoch_ms(sent_at) if sent_at is not None else None
    skew = recv - sent_ms if sent_ms is not None else 0
    out.skew_ms = skew if sent_ms is not None else None
    oldest, newest = recv - max_age_s * 1000, recv + max_future_s * 1000
    context = {k: v for k, v in envelope.items() if v is not None and k in ("platform", "app_version")}

    def reject(index: int, raw: Any, reason: str) -> None:
        out.rejected.append({"index": index, "event_id": _event_id(raw), "reason": reason})

    prefixes = ids.field_prefixes()  # once per batch: (field, "pfx_") for the kinds that registered one
    candidates: list[tuple[int, Any]] = []
    for i, raw in enumerate(raw_events):
        if isinstance(raw, dict) and raw.get("type") == "purchase":
            reject(i, raw, "type: purchase events are written by the server when an order is paid")
        else:
            candidates.append((i, raw))
    try:
        valid = events_adapter.validate_python([raw for _, raw in candidates])
    except ValidationError as exc:
        bad: dict[int, str] = {}
        for err in exc.errors(include_url=False):
            bad.setdefault(err["loc"][0], _reason(err))
        for pos in sorted(bad):
            reject(*candidates[pos], bad[pos])
        candidates = [c for pos, c in enumerate(candidates) if pos not in bad]
        valid = events_adapter.validate_python([raw for _, raw in candidates])

    for (i, raw), event in zip(candidates, valid, strict=True):
        client_ts = epoch_ms(event.pop("occurred_at"))
        if sent_ms is not None and client_ts > sent_ms + SKEW_TOLERANCE_MS:
            reject(i, raw, "occurred_at: after the batch's sent_at; the event cannot happen after sending")
            continue
        ts = client_ts + skew
        if ts > newest:
            reject(i, raw, f"occurred_at: more than {max_future_s} s in the future (after clock correction)")
            continue
        if ts < oldest:
            reject(
                i, raw, f"occurred_at: older than {max_age_s} s (after clock correction); too late to count"
            )
            continue
        problem = _target_problem(event, prefixes)
        if problem:
            reject(i, raw, problem)
            continue
        event["user"] = user_key
        event["ts"] = ts
        event["client_ts"] = client_ts
        event["recv"] = recv
        if context:
            event.update(context)
        out.events.append(event)
        out.indexes.append(i)
    out.rejected.sort(key=lambda r: r["index"])
    return out


def _target_problem(event: dict[str, Any], prefixes: list[tuple[str, str]]) -> str | None:
    kind = event["type"]
    media = ("video_id" in event) + ("live_room_id" in event)
    if media > 1:
        return "name either video_id or live_room_id, not both"
    if kind in NEEDS_MEDIA and media == 0:
        return f"{kind} needs a video_id or a live_room_id"
    if kind in ("share", "not_interested") and media == 0 and "product_id" not in event:
        return f"{kind} needs a video_id, a live_room_id or a product_id"
    for name, prefix in prefixes:
        value = event.get(name)
        if value is not None and not value.startswith(prefix):
            return f"{name}: {value} {ids.wrong_prefix(ids.FIELD_KINDS[name], value)}"
    return None


def ids_to_check(prepared: Prepared) -> dict[str, set[str]]:
    """The ids of the batch that an owning domain must confirm (cheap: no database here)."""
    wanted: dict[str, set[str]] = {}
    events = prepared.events
    for name, kind in ids.FIELD_KINDS.items():
        if ids.has_validator(kind):
            values = {e[name] for e in events if name in e}
            if values:
                wanted[kind] = values
    return ids.to_check(wanted) if wanted else {}


def drop_unknown_ids(prepared: Prepared, missing: set[str]) -> None:
    """Reject the events naming an id that the owning domain says does not exist (or was removed)."""
    if not missing:
        return
    keep_events, keep_indexes = [], []
    for event, index in zip(prepared.events, prepared.indexes, strict=True):
        unknown = next((n for n in ids.FIELD_KINDS if event.get(n) in missing), None)
        if unknown:
            what = unknown[:-3].replace("_", " ")
            prepared.rejected.append(
                {
                    "index": index,
                    "event_id": event["event_id"],
                    "reason": f"{unknown}: no such {what} {event[unknown]}",
                }
            )
        else:
            keep_events.append(event)
            keep_indexes.append(index)
    prepared.events, prepared.indexes = keep_events, keep_indexes
    prepared.rejected.sort(key=lambda r: r["index"])
