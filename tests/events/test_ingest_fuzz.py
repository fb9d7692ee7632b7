"""Whatever a client sends, ingest answers with a 4xx problem or a per-event verdict, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etalage.core.errors import Problem
from etalage.db import new_id
from etalage.events.ingest import prepare
from etalage.events.schemas import CLIENT_EVENT_TYPES

pytestmark = pytest.mark.db_agnostic
NOW = datetime.now(UTC)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
times = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.isoformat()) | st.sampled_from(
    [(NOW - timedelta(seconds=5)).isoformat(), "yesterday", "", 12]
)
fields = {
    "type": st.sampled_from([*CLIENT_EVENT_TYPES, "purchase", "nope"]) | json_values,
    "event_id": st.text(min_size=0, max_size=70) | json_values,
    "occurred_at": times,
    "video_id": st.just(new_id("vid")) | st.text(max_size=40),
    "live_room_id": st.just(new_id("lrm")),
    "product_id": st.just(new_id("prd")),
    "creator_id": st.just(new_id("usr")),
    "dwell_ms": st.integers(min_value=-(10**12), max_value=10**12) | json_values,
    "watch_ratio": st.floats(allow_nan=False, allow_infinity=False) | json_values,
    "velocity": st.floats(allow_nan=False, allow_infinity=False),
    "quantity": st.integers(min_value=-5, max_value=200),
    "reason": st.sampled_from(["spam", "other", "bogus"]),
    "position": st.integers(min_value=-3, max_value=20_000),
    "extra": json_values,
}
events = st.fixed_dictionaries({}, optional=fields) | json_values
batches = (
    st.fixed_dictionaries(
        {"events": st.lists(events, max_size=12)},
        optional={
            "sent_at": times,
            "platform": st.sampled_from(["ios", "web", "tv"]),
            "app_version": st.text(max_size=40),
        },
    )
    | json_values
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches)
def test_ingest_never_crashes_and_accounts_for_every_event(batch):
    body = orjson.dumps(batch)
    try:
        out = prepare(
            body, user_key="psn_fuzz", received=NOW, max_events=500, max_age_s=86_400, max_future_s=300
        )
    except Problem as problem:
        assert 400 <= problem.status < 500
        return
    n = len(batch["events"])
    seen = sorted(out.indexes + [r["index"] for r in out.rejected])
    assert seen == list(range(n)), "every event is either stored or rejected, once"
    for event in out.events:
        assert event["user"] == "psn_fuzz" and "occurred_at" not in event
        assert NOW.timestamp() * 1000 - 86_400_000 <= event["ts"] <= NOW.timestamp() * 1000 + 300_000 + 1
    for rejected in out.rejected:
        assert rejected["reason"]


def test_garbage_bytes_are_a_400():
    for body in (b"\xff\xfe", b"", b"{" * 10_000, b'{"events": [1e999]}'):
        with pytest.raises(Problem) as info:
            prepare(body, user_key="k", received=NOW, max_events=500, max_age_s=86_400, max_future_s=300)
        assert 400 <= info.value.status < 500
