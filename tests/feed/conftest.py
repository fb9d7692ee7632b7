"""Shared fixtures for the feed tests: small synthetic interaction files with known structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from etalage.feed.dataset import InteractionData, load_interactions
from tests.payments.psp import psp, psp_server  # noqa: F401  (the test PSP, a real subprocess)

HEADER = "user_id,item_id,event,timestamp,split\n"


def write_csv(path: Path, rows: list[tuple]) -> Path:
    path.write_text(HEADER + "".join(",".join(str(v) for v in r) + "\n" for r in rows))
    return path


def clustered_rows(n_users: int = 60, seed: int = 0) -> list[tuple]:
    """Two taste clusters (items a0..a9 and b0..b9); each user watches, in order, 6 items of one
    cluster, then one valid and one test item of the same cluster. Item x9 is never watched."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        cluster = "a" if u % 2 == 0 else "b"
        items = [f"{cluster}{i}" for i in rng.permutation(9)[:8]]
        for t, it in enumerate(items):
            split = "train" if t < 6 else ("valid" if t == 6 else "test")
            rows.append((f"u{u}", it, "positive", t, split))
        other = "b" if cluster == "a" else "a"
        rows.append((f"u{u}", f"{other}{rng.integers(9)}", "negative", 0, "train"))
    return rows


@pytest.fixture
def clustered(tmp_path: Path) -> InteractionData:
    return load_interactions(write_csv(tmp_path / "interactions.csv", clustered_rows()))


KUAIREC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "kuairec"


@pytest.fixture(scope="session")
def kuairec_dir() -> Path:
    if not (KUAIREC / "interactions.csv").is_file():
        pytest.skip(f"shared data set not available at {KUAIREC}")
    return KUAIREC
