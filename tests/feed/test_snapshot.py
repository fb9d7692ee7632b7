"""Model snapshots: round trip, and refusal of anything that cannot be trusted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from etalage.feed.model import EtalageConfig, EtalageModel
from etalage.feed.snapshot import ARRAYS_FILE, FORMAT_VERSION, MANIFEST_FILE, SnapshotError, load_model

pytestmark = pytest.mark.db_agnostic


@pytest.fixture
def saved(clustered, tmp_path: Path) -> tuple[EtalageModel, Path]:
    model = EtalageModel(EtalageConfig(rank=8, decay=0.7)).fit(clustered.train_view(), clustered.item_ids)
    model.partial_fit([("u0", "a1", "positive", 50), ("u0", "new-video", "positive", 51)])
    path = tmp_path / "snap"
    model.save(str(path), evaluation={"ndcg@20": 0.5})
    return model, path


def test_round_trip_reproduces_scores_and_metadata(saved):
    model, path = saved
    loaded = EtalageModel.load(str(path))
    hist = [model.item_index("a0"), model.item_index("new-video")]
    assert np.allclose(loaded.score_history(hist, None, [0, 1]), model.score_history(hist, None, [0, 1]))
    assert loaded.item_ids == model.item_ids and loaded.config.decay == 0.7
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["evaluation"] == {"ndcg@20": 0.5}
    assert len(manifest["arrays_sha256"]) == 64 and manifest["created_at"]
    assert manifest["config"]["rank"] == 8
    # nothing in the arrays needs pickle
    with np.load(path / ARRAYS_FILE, allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)


def test_corrupt_arrays_are_refused(saved):
    _, path = saved
    raw = bytearray((path / ARRAYS_FILE).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (path / ARRAYS_FILE).write_bytes(bytes(raw))
    with pytest.raises(SnapshotError, match="checksum mismatch"):
        load_model(path)


def test_other_format_version_is_refused(saved):
    _, path = saved
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (path / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(SnapshotError, match="format version"):
        load_model(path)


def test_garbage_manifest_and_missing_snapshot_are_refused(saved, tmp_path: Path):
    _, path = saved
    (path / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(SnapshotError, match="unreadable manifest"):
        load_model(path)
    with pytest.raises(SnapshotError, match="no manifest.json"):
        load_model(tmp_path / "empty")
