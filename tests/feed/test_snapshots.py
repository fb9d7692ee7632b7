"""Model snapshots: the periodic refit writes a versioned snapshot that every server swaps in; a corrupt or
foreign one is refused and the last good one keeps serving; a restart resumes from the newest good
snapshot plus the events logged since its offset."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sqlalchemy import select

from etalage.core import bus
from etalage.feed import jobs, registry
from etalage.feed.counters import F
from etalage.feed.engine import FeedEngine
from etalage.feed.models import FeedModelVersion
from etalage.feed.settings import get_feed_settings, model_dir
from tests.feed import world
from tests.feed.world import DemoWorld, wait_for

demo_world = world.demo_world  # the module-scoped demo marketplace fixture


def _refit(world: DemoWorld, settings) -> dict:  # type: ignore[no-untyped-def]
    engine = world.engine
    return jobs.refit(world.db, settings.data_dir, engine.event_log)


def test_refit_writes_a_versioned_snapshot_that_the_server_swaps_in(demo_world: DemoWorld, settings) -> None:
    engine = demo_world.engine
    manifest = _refit(demo_world, settings)
    assert manifest["event_offset"] == engine.event_log.last_offset()
    evaluation = manifest["evaluation"]
    assert evaluation["interactions"] > 0 and "model_recall@20" in evaluation["time_split"]
    with demo_world.db.read() as s:
        row = s.get(FeedModelVersion, manifest["version"])
        assert row.status == "ready" and row.event_offset == manifest["event_offset"]
    assert wait_for(lambda: engine.state.model_version == manifest["version"], 10)
    page = demo_world.page(demo_world.new_shopper())
    assert page["model_version"] == manifest["version"]


def test_a_corrupt_or_foreign_snapshot_is_refused_and_the_last_good_one_keeps_serving(
    demo_world: DemoWorld, settings
) -> None:
    engine = demo_world.engine
    good = _refit(demo_world, settings)
    assert wait_for(lambda: engine.state.model_version == good["version"], 10)
    root = model_dir(settings.data_dir)
    corrupt, foreign = f"{good['version']}-x", f"{good['version']}-y"  # names that sort as newer
    for name in (corrupt, foreign):
        shutil.copytree(root / good["version"], root / name)
        manifest = json.loads((root / name / "serving.json").read_text())
        manifest["version"] = name
        if name == foreign:
            manifest["format_version"] = 99
        (root / name / "serving.json").write_text(json.dumps(manifest))
    with (root / corrupt / "model" / "arrays.npz").open("r+b") as fh:
        fh.seek(200)
        fh.write(b"\x00garbage\x00")
    bus.publish_now("feed.model.published", {"version": corrupt})

    def refused() -> dict[str, str]:
        with demo_world.db.read() as s:
            rows = s.scalars(select(FeedModelVersion).where(FeedModelVersion.status == "refused"))
            return {r.version: r.reason for r in rows}

    reasons = wait_for(lambda: len(refused()) >= 2 and refused(), 10)
    assert "checksum" in reasons[corrupt] and "version" in reasons[foreign]
    assert engine.state.model_version == good["version"]
    assert demo_world.page(demo_world.new_shopper())["model_version"] == good["version"]
    # and a restart skips them too
    snap = registry.latest_good(demo_world.db, root)
    assert snap is not None and snap.version == good["version"]
    for name in (corrupt, foreign):
        shutil.rmtree(root / name)


def test_a_restart_resumes_from_the_snapshot_plus_the_events_since(demo_world: DemoWorld, settings) -> None:
    live = demo_world.engine
    manifest = _refit(demo_world, settings)
    offset = manifest["event_offset"]
    video = demo_world.page(limit=50)["items"][-1]["id"]
    snap = registry.latest_good(demo_world.db, model_dir(settings.data_dir))
    assert snap is not None and snap.event_offset == offset
    saved_likes = float(snap.counters["rates"][F["like_share"], snap.counters["ids"].index(video)])
    saved_model_count = float(snap.model.pos_counts[snap.model.item_index(video)])
    shoppers = [demo_world.new_shopper() for _ in range(4)]
    for s in shoppers:
        demo_world.watched(s, [video])
    assert live.event_log.last_offset() > offset
    fs = get_feed_settings().model_copy(update={"learn_seconds": 0.05})
    restarted = FeedEngine(demo_world.db, settings.data_dir, fs, live.event_log)
    restarted.start()
    try:
        assert restarted.snapshot_offset == offset and restarted.state.model_version == manifest["version"]
        assert restarted.wait_caught_up(10)
        i = restarted.index.pos[video]
        rates = restarted.index.stats.rates
        now = restarted.index.stats.last_ms
        likes = rates.values[F["like_share"], i] * rates.factor(now)
        saved_now = saved_likes * 2.0 ** (-(now - snap.counters["rates_t_ref"]) / rates.half_life)
        assert likes == pytest.approx(saved_now + len(shoppers), rel=1e-6)
        # the learner folds them into a new serving copy (perhaps already before start() returned)
        model = wait_for(lambda: (m := restarted.state.model) is not None
                         and float(m.pos_counts[m.item_index(video)]) > saved_model_count and m, 10)  # fmt: skip
        assert model, "the events since the snapshot did not reach the model"
        assert np.isfinite(model.score_history([model.item_index(video)])).all()
    finally:
        restarted.stop()
