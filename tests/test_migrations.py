"""One linear migration history that builds the whole schema and takes it down again, on both backends."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from etalage.db import Base, alembic_config, downgrade, import_all_models, upgrade


def test_history_is_linear(settings):
    script = ScriptDirectory.from_config(alembic_config(settings.db_url))
    assert len(script.get_heads()) == 1, "parallel migration heads: merge them into one line"
    for rev in script.walk_revisions():
        assert not isinstance(rev.down_revision, tuple), f"{rev.revision} is a merge point"


def test_upgrade_from_empty_matches_models_and_downgrades_cleanly(scratch_database_url):
    upgrade(scratch_database_url)
    engine = sa.create_engine(scratch_database_url)
    import_all_models()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == [], f"models and migrations differ; run 'etalage db revision -m ...': {diff}"
    tables = set(sa.inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables

    downgrade(scratch_database_url, "base")
    left = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    assert left == set(), f"downgrade left tables behind: {left}"
    upgrade(scratch_database_url)  # and it goes up again after coming down
    engine.dispose()
