"""The interactions.csv loader and the tuning-split protocol."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from etalage.feed.dataset import DataFormatError, load_interactions
from etalage.feed.protocol import holdout_rows, tuning_setup, valid_is_useful

from .conftest import HEADER, write_csv

pytestmark = pytest.mark.db_agnostic


def test_any_event_name_and_caller_weights(tmp_path: Path):
    p = write_csv(
        tmp_path / "i.csv",
        [
            ("u1", "x", "like", 1, "train"),
            ("u1", "y", "share", 2, "train"),
            ("u1", "z", "negative", 3, "train"),
            ("u2", "x", "like", 1, "test"),
        ],
    )
    d = load_interactions(p, event_weights={"like": 1.0, "share": 2.0})
    assert set(d.event_names) == {"like", "share", "negative"}
    w = d.matrix("train", "weight").toarray()
    ux, uy = d.item_ids.index("x"), d.item_ids.index("y")
    assert w[0, ux] == 1.0 and w[0, uy] == 2.0
    assert w[0, d.item_ids.index("z")] == 0.0  # unmapped events weigh 0 ...
    assert d.matrix("train", "any").nnz == 3  # ... but still count as shown


def test_default_weights_negatives_kept_but_not_positive(tmp_path: Path):
    p = write_csv(
        tmp_path / "i.csv",
        [
            ("1", "a", "positive", 0, "train"),
            ("1", "b", "negative", 0, "train"),
            ("1", "c", "cart", 0, "train"),
        ],
    )
    d = load_interactions(p)
    tv = d.train_view()
    assert tv.weights.nnz == 2 and tv.negatives.nnz == 1 and tv.exposure.nnz == 3
    assert sorted(tv.weights.data.tolist()) == [0.5, 1.0]


def test_duplicates_keep_strongest_and_sequences_follow_timestamps(tmp_path: Path):
    p = write_csv(
        tmp_path / "i.csv",
        [
            ("u", "b", "cart", 5, "train"),
            ("u", "a", "purchase", 9, "train"),
            ("u", "b", "purchase", 1, "train"),
            ("u", "c", "collect", 3, "train"),
        ],
    )
    d = load_interactions(p)
    w = d.matrix("train").toarray()[0]
    assert w[d.item_ids.index("b")] == 1.0
    items, _, ts = d.sequences().of(0)
    assert [d.item_ids[i] for i in items] == ["b", "c", "b", "a"]
    assert ts.tolist() == [1, 3, 5, 9]
    assert d.is_ordered()


def test_directory_or_file_path(tmp_path: Path):
    write_csv(tmp_path / "interactions.csv", [("u", "i", "positive", 0, "train")])
    assert load_interactions(tmp_path).n_users == 1


def test_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="interactions.csv"):
        load_interactions(tmp_path / "nowhere")


def test_bad_header_is_a_clear_error(tmp_path: Path):
    p = tmp_path / "i.csv"
    p.write_text("user,item,event,ts,split\nu,i,positive,0,train\n")
    with pytest.raises(DataFormatError, match="bad header.*expected 'user_id,item_id,event,timestamp,split'"):
        load_interactions(p)


def test_bad_split_and_timestamp_name_the_line(tmp_path: Path):
    p = tmp_path / "i.csv"
    p.write_text(HEADER + "u,i,positive,0,train\nu,j,positive,1,training\n")
    with pytest.raises(DataFormatError, match=r":3: bad split value 'training'"):
        load_interactions(p)
    p.write_text(HEADER + "u,i,positive,yesterday,train\n")
    with pytest.raises(DataFormatError, match=r":2: timestamp 'yesterday' is not an integer"):
        load_interactions(p)


def test_valid_split_useless_falls_back_to_holdout(tmp_path: Path):
    rows = []
    for u in range(5):
        for t, it in enumerate(["a", "b", "c"]):
            rows.append((f"u{u}", it, "positive", t, "train"))
        rows.append((f"u{u}", "a", "positive", 9, "valid"))  # already a train pair: useless
        rows.append((f"u{u}", "d", "positive", 10, "test"))
    d = load_interactions(write_csv(tmp_path / "i.csv", rows))
    assert not valid_is_useful(d)
    held = holdout_rows(d)
    assert len(held) == 5 and set(d.timestamps[held].tolist()) == {2}  # the latest train row
    setup = tuning_setup(d)
    assert setup.holdout and "held out 5" in setup.note
    assert setup.target.relevant.nnz == 5
    assert setup.train.weights.nnz == 10
    # the held-out item is rankable for tuning, the remaining train items are not
    assert setup.target.exclude.multiply(setup.target.relevant).nnz == 0


def test_subsample_users_is_deterministic(clustered):
    a, b = clustered.subsample_users(10, seed=3), clustered.subsample_users(10, seed=3)
    assert a.user_ids == b.user_ids and a.n_users == 10
    assert np.array_equal(a.items, b.items)
    assert a.items.max() < a.n_items
