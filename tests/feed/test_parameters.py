"""The operator's changes to the published ranking parameters: checked by name and type, merged into tables
entry by entry, part of the version, and shown on the transparency page."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from etalage.feed.parameters import configured, preset, with_overrides


def test_an_operator_changes_parameters_and_the_version_says_so() -> None:
    base = preset("quality")
    changed = with_overrides(base, {"quality_return_weight": 2, "outcome_weights": {"purchase": 1.5}})
    assert changed.quality_return_weight == 2.0 and isinstance(changed.quality_return_weight, float)
    assert changed.outcome_weights == {**base.outcome_weights, "purchase": 1.5}  # the other weights kept
    assert changed.version != base.version
    assert base.quality_return_weight == 4.0 and base.outcome_weights["purchase"] == 1.0  # the preset untouched
    assert with_overrides(base, {}) is base
    assert configured("quality", {"quality_return_weight": 2}) == with_overrides(base, {"quality_return_weight": 2.0})


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"quality_retur_weight": 1}, "no ranking parameter 'quality_retur_weight'"),
        ({"preset": "engagement"}, "no ranking parameter 'preset'"),
        ({"max_per_creator": 1.5}, "max_per_creator takes a whole number"),
        ({"quality_enabled": 1}, "quality_enabled takes true or false"),
        ({"quality_return_weight": "high"}, "quality_return_weight takes a number"),
        ({"exploration_share": -0.1}, "exploration_share cannot be negative"),
        ({"outcome_weights": {"purchas": 1}}, "outcome_weights takes a table with some of the keys"),
        ({"outcome_weights": 3}, "outcome_weights takes a table"),
        ({"source_quota": {"fresh": 2.5}}, "source_quota.fresh takes a whole number"),
    ],
)
def test_a_wrong_change_is_refused_with_what_is_wrong(change: dict, says: str) -> None:
    with pytest.raises(ValueError, match=says.replace("(", r"\(")):
        with_overrides(preset("quality"), change)
    with pytest.raises(ValueError, match="ETALAGE_FEED_RANKING_OVERRIDES"):
        configured("quality", change)


def said(output: str) -> str:
    """The CLI's error text without the box it is drawn in (it wraps at the terminal's width)."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())


def test_the_transparency_page_and_simulate_read_the_configured_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    from etalage.cli import app
    from etalage.feed.settings import get_feed_settings

    monkeypatch.setenv("ETALAGE_FEED_RANKING_OVERRIDES", '{"max_per_creator": 1}')
    get_feed_settings.cache_clear()
    try:
        page = CliRunner().invoke(app, ["feed", "transparency"])
        assert page.exit_code == 0, page.output
        assert "| `max_per_creator` | 1 |" in page.output
        assert configured("quality", {"max_per_creator": 1}).version in page.output
        monkeypatch.setenv("ETALAGE_FEED_RANKING_OVERRIDES", '{"max_per_creator": 1.5}')
        get_feed_settings.cache_clear()
        refused = CliRunner().invoke(app, ["feed", "transparency"])
        assert refused.exit_code != 0 and "max_per_creator takes a whole number" in said(refused.output)
        # simulate checks --set before it builds anything
        bad = CliRunner().invoke(app, ["simulate", "--set", "quality_return_weight=lots"])
        assert bad.exit_code != 0 and "quality_return_weight takes a number" in said(bad.output)
        bad = CliRunner().invoke(app, ["simulate", "--set", "quality_return_weight"])
        assert bad.exit_code != 0 and "NAME=VALUE" in said(bad.output)
    finally:
        get_feed_settings.cache_clear()


def test_the_server_refuses_to_start_on_a_wrong_change(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``etalage serve`` checks the changes before it migrates or starts a worker, and says what is wrong."""
    from etalage.cli import app
    from etalage.feed.settings import get_feed_settings

    monkeypatch.setenv("ETALAGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ETALAGE_DATABASE_URL", f"sqlite:///{tmp_path}/never.db")
    for name, value, says in (("ETALAGE_FEED_RANKING_OVERRIDES", '{"quality_return_weight": "x"}',
                               "ETALAGE_FEED_RANKING_OVERRIDES: quality_return_weight takes a number"),
                              ("ETALAGE_FEED_RANKER", "nope", "ETALAGE_FEED_RANKER: unknown ranking preset")):  # fmt: skip
        monkeypatch.setenv(name, value)
        get_feed_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, ["serve", "--port", "1"])
        finally:
            monkeypatch.delenv(name)
            get_feed_settings.cache_clear()
        assert result.exit_code == 2 and says in said(result.output), result.output
    assert not (tmp_path / "never.db").exists()  # nothing was migrated
