"""Alembic environment: one linear history for SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine, event, pool
from sqlalchemy.types import TypeDecorator

from etalage.db import Base

config = context.config
# The models' tables are in this metadata only once their modules are imported: autogenerate's callers
# import them all first (``import_all_models``); upgrades need none of them (0.5 s less per upgrade).
target_metadata = Base.metadata


def _render_item(kind: str, obj: Any, _autogen_context: Any) -> str | bool:
    """Autogenerate writes an application column type (a TypeDecorator outside ``etalage.db``, which every
    migration imports) as the type it stores, so a migration never imports application code."""
    if kind == "type" and isinstance(obj, TypeDecorator) and type(obj).__module__ != "etalage.db":
        return f"sa.{obj.impl_instance!r}"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable, url)
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    if url.startswith("sqlite"):
        _transactional_sqlite(engine)
    with engine.connect() as connection:
        _run(connection, url)
    engine.dispose()


def _transactional_sqlite(engine: Any) -> None:
    """SQLite can roll back DDL, but only if pysqlite stops managing transactions itself."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA busy_timeout=30000")
        dbapi_conn.execute("PRAGMA foreign_keys=OFF")  # batch migrations copy tables; checked below

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _run(connection: Any, url: str) -> None:
    is_sqlite = url.startswith("sqlite")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite,
        compare_type=True,
        transaction_per_migration=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
    if is_sqlite:
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.commit()
        if problems:
            raise RuntimeError(f"migration left foreign-key violations: {problems[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
