"""Comment sentiment: accuracy per language on labelled shopper comments, printed and held to a floor.

Three files, written by hand as shoppers write (slang, emoji, negation, sarcasm), 3 classes:
- ``sentiment_sample.csv`` (60 a language): the lexicons were tuned on it, so its figure is a fit;
- ``sentiment_holdout.csv`` (40 a language): measured once untouched (en 0.725, nl 0.85, fr 0.65,
  es 0.75), then used to fill general gaps, so its figure is optimistic too;
- ``sentiment_test.csv`` (30 a language): written after all tuning and never tuned on: the honest figure.
Each is scored from the text alone (the language detected), as the strictest case; in production the
video's language is the fallback for texts too short to tell.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from etalage.content.sentiment import detect_language, score

DATA = Path(__file__).parent / "data"
LANGS = ("en", "nl", "fr", "es")
# name -> (floor per language, floor overall): what the scorer reaches, minus a small margin
FLOORS = {"sentiment_sample": (0.95, 0.97), "sentiment_holdout": (0.9, 0.94), "sentiment_test": (0.55, 0.65)}


def _evaluate(name: str) -> tuple[dict[str, float], float, Counter]:
    rows = list(csv.DictReader((DATA / f"{name}.csv").open(encoding="utf-8")))
    right, total, confusion = Counter(), Counter(), Counter()
    for row in rows:
        got = score(row["text"]).label
        total[row["language"]] += 1
        right[row["language"]] += got == row["label"]
        confusion[(row["label"], got)] += 1
    per = {lang: right[lang] / total[lang] for lang in LANGS}
    return per, sum(right.values()) / len(rows), confusion


@pytest.mark.db_agnostic
@pytest.mark.parametrize("name", list(FLOORS))
def test_accuracy_per_language(name):
    per, overall, confusion = _evaluate(name)
    sizes = Counter(r["language"] for r in csv.DictReader((DATA / f"{name}.csv").open(encoding="utf-8")))
    assert all(sizes[lang] >= 30 for lang in LANGS)
    print(
        f"\n{name}: "
        + ", ".join(f"{lang} {per[lang]:.3f} (n={sizes[lang]})" for lang in LANGS)
        + f"; overall {overall:.3f}"
    )
    flips = confusion[("positive", "negative")] + confusion[("negative", "positive")]
    print(f"  opposite-sign errors: {flips} of {sum(confusion.values())}; confusion {dict(confusion)}")
    floor, floor_all = FLOORS[name]
    assert min(per.values()) >= floor and overall >= floor_all, per
    # For ranking, the costly mistake is reading praise as a complaint or back: keep it rare.
    assert flips <= 0.05 * sum(confusion.values())


@pytest.mark.db_agnostic
def test_the_tuning_sample_has_at_least_50_comments_a_language():
    sizes = Counter(
        r["language"] for r in csv.DictReader((DATA / "sentiment_sample.csv").open(encoding="utf-8"))
    )
    assert all(sizes[lang] >= 50 for lang in LANGS), sizes


@pytest.mark.db_agnostic
@pytest.mark.parametrize(
    ("text", "fallback", "language"),
    [
        ("Ik vind het echt heel mooi", None, "nl"),
        ("C'est trop beau, j'adore", None, "fr"),
        ("¿Lo tienen en negro?", None, "es"),
        ("this is the one", None, "en"),
        ("top!!", "nl", "nl"),  # too short to tell: the video's language decides
        ("🔥🔥🔥", "es", "es"),
    ],
)
def test_language_detection(text, fallback, language):
    assert detect_language(text, fallback) == language


@pytest.mark.db_agnostic
@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("not bad at all", "positive"),  # negated negative
        ("not good", "negative"),
        ("It's NOT worth it", "negative"),
        ("ça ne marche pas", "negative"),  # French negation around the verb
        ("werkt niet", "negative"),  # Dutch negation after it
        ("no me gusta nada", "negative"),
        ("Great quality... fell apart in two days 🙄", "negative"),  # praise with an eye-roll
        ('Love how it "lasts all day", gone in an hour', "negative"),  # a quoted claim, contradicted
        ("supertevreden", "positive"),  # Dutch compound
        ("rapidísimo", "positive"),  # Spanish superlative
        ("sooooo cute", "positive"),
        ("10/10", "positive"),
        ("2/10 would not buy", "negative"),
        ("does it come in blue?", "neutral"),
        ("", "neutral"),
    ],
)
def test_rules(text, label):
    assert score(text).label == label, score(text)


@pytest.mark.db_agnostic
def test_scores_are_bounded():
    for text in ("love " * 200, "hate " * 200, "😍" * 500, "!!!!!!!!!!" * 50, "NOT BAD " * 30):
        assert -1.0 <= score(text).score <= 1.0
