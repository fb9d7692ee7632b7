"""What ``etalage feed evaluate`` can be asked for, in a module without the numerical libraries, so the
CLI (and every ``etalage`` command, ``serve`` included) starts without importing them."""

from __future__ import annotations

ALL_MODELS = ("etalage", "popularity", "itemknn", "ease", "als")
# Low-rank sizes tried for Etalage (picked on the tuning split before the blend is tuned).
ETALAGE_RANKS = (128, 512)
