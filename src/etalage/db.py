"""Data layer: declarative base, column types, engines and sessions for SQLite and PostgreSQL.

SQLite rules (embedded default): WAL, foreign keys on, a busy timeout, and write transactions that start
with ``BEGIN IMMEDIATE`` so that two writers never deadlock while upgrading a read lock. Reads use a
separate engine whose transactions start deferred, so readers never queue behind writers.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, String, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware UTC datetimes (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Etalage stores UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str) -> str:
    """A prefixed, time-ordered, unguessable id (ULID layout: 48-bit ms time + 80 random bits)."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


ID_LENGTH = 40


def IdColumn(prefix: str) -> Mapped[str]:  # noqa: N802 - reads like a column type
    return mapped_column(String(ID_LENGTH), primary_key=True, default=lambda: new_id(prefix))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    def __init__(self, **kwargs: Any) -> None:
        # Apply Python-side column defaults at construction, not at flush, so a new object returned
        # before the flush already has its id and timestamps.
        for attr in self.__mapper__.column_attrs:
            if attr.key in kwargs or len(attr.columns) != 1:
                continue
            default = attr.columns[0].default
            if default is None:
                continue
            if default.is_scalar:
                kwargs[attr.key] = default.arg
            elif default.is_callable:
                kwargs[attr.key] = default.arg(None)
        cls = type(self)
        for key, value in kwargs.items():
            if not hasattr(cls, key):
                raise TypeError(f"{key!r} is an invalid keyword argument for {cls.__name__}")
            setattr(self, key, value)

    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        list[str]: JSON(),
        # 64-bit everywhere; on SQLite plain INTEGER so integer primary keys alias the rowid.
        int: BigInteger().with_variant(Integer(), "sqlite"),
    }


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- engines and sessions ---------------------------------------------------------------------------------


def insert_unless_present(table: Any, key: list[str], *returning: Any) -> dict[str, Any]:
    """``INSERT … ON CONFLICT (key) DO NOTHING [RETURNING …]``, built once per dialect (run the one for
    ``session.get_bind().dialect.name``): the insert itself says whether the row was new."""
    from sqlalchemy.dialects import postgresql, sqlite

    out = {}
    for name, ins in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert)):
        stmt = ins(table).on_conflict_do_nothing(index_elements=key)
        out[name] = stmt.returning(*returning) if returning else stmt
    return out


def _json_text(value: Any) -> str:
    # orjson: JSON columns (the feed's served log above all) serialise several times faster than with the
    # standard library, and hold the GIL that much less; non-string keys become strings as json.dumps does.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()


JSON_CODEC: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def _sqlite_engine(url: str, begin: str, pool_size: int) -> Engine:
    engine = create_engine(
        url,
        **JSON_CODEC,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=False,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # NORMAL in WAL survives a process crash (only power loss can roll back the last commits).
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    writers = _writer_lock(url) if begin == "BEGIN IMMEDIATE" else None

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if writers is not None:
            # One SQLite writer at a time anyway: queue this process's writers here rather than in SQLite's
            # busy handler, whose growing sleeps (up to 100 ms) made the tail latency of concurrent writes.
            if not writers.acquire(timeout=30):
                raise sqlite3.OperationalError("database is locked (waited 30 s for the other writers)")
            conn.info["etalage_writer"] = True
        try:
            conn.exec_driver_sql(begin)
        except BaseException:
            _release_writer(conn, writers)
            raise

    if writers is not None:
        event.listen(engine, "commit", lambda conn: _release_writer(conn, writers))
        event.listen(engine, "rollback", lambda conn: _release_writer(conn, writers))

    return engine


_writer_locks: dict[str, threading.Lock] = {}


def _writer_lock(url: str) -> threading.Lock:
    """One lock per database file and process, shared by every engine on that file."""
    return _writer_locks.setdefault(url, threading.Lock())


def _release_writer(conn: Any, lock: threading.Lock | None) -> None:
    if lock is not None and conn.info.pop("etalage_writer", False):
        lock.release()


class Database:
    """Owns the engines; hands out sessions with a single commit point."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = _sqlite_engine(url, "BEGIN IMMEDIATE", pool_size)
            self.read_engine = _sqlite_engine(url, "BEGIN", pool_size)
        else:
            self.engine = create_engine(
                url, pool_size=pool_size, max_overflow=pool_size * 2, echo=echo, pool_pre_ping=True, **JSON_CODEC
            )
            self.read_engine = self.engine
        self._write = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session whose transaction commits when the block ends without error, else rolls back."""
        factory = self._write if write else self._read
        session = factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def read(self) -> Any:
        return self.session(write=False)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()

    def ping(self) -> None:
        with self.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))


# --- after-commit hooks (events are published only once their transaction is durable) -------------------


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    session.info.setdefault("on_commit", []).append(callback)


@event.listens_for(Session, "after_commit")
def _commit_reached(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT was released; the real commit is still to come
        return
    session.info["on_commit_due"] = session.info.pop("on_commit", [])


@event.listens_for(Session, "after_transaction_end")
def _run_on_commit(session: Session, transaction: Any) -> None:
    # Only once the outermost transaction is over and its connection is back in the pool: a callback that
    # opens a session of its own must never wait for the connection its caller still holds.
    if transaction.parent is not None:
        return
    callbacks = session.info.pop("on_commit_due", [])
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a failing subscriber must not undo a committed change
            import logging

            logging.getLogger("etalage.db").exception("after-commit callback failed")


@event.listens_for(Session, "after_rollback")
def _drop_on_commit(session: Session) -> None:
    if session.in_nested_transaction():  # only a SAVEPOINT rolled back; the transaction goes on
        return
    session.info.pop("on_commit", None)


# --- migrations ---------------------------------------------------------------------------------------------

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    with _migration_lock(url):
        command.upgrade(alembic_config(url), revision)


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """Serialise upgrades of one SQLite file across processes (the server's start waits for an upgrade
    running beside it). PostgreSQL upgrades are run once, before the workers start."""
    import fcntl

    from sqlalchemy.engine import make_url

    database = make_url(url).database if url.startswith("sqlite") else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*['"]?([\w-]+)['"]?""", re.M)


def head_revision_from_files() -> str | None:
    """The head of the (linear) migration history, read from the files' revision lines, without Alembic."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for key, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (revisions if key == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(url: str) -> bool:
    """Whether the database is at the newest migration, by one query (no Alembic: it takes a third of a
    second to load, and the server asks on every start)."""
    head = head_revision_from_files()
    if head is None:
        return False
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    except Exception:  # no version table yet: a new database
        return False
    finally:
        engine.dispose()


def upgrade_if_behind(url: str) -> bool:
    """Upgrade to head unless the database already is there; True when migrations ran here."""
    if at_head(url):
        return False
    with _migration_lock(url):
        if at_head(url):  # another process upgraded it while we waited for the lock
            return False
        from alembic import command

        command.upgrade(alembic_config(url), "head")
    return True


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(url: str) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def import_all_models() -> None:
    """Import every domain's models so the metadata is complete (for Alembic and tests)."""
    import importlib
    import pkgutil

    import etalage

    for module in pkgutil.iter_modules(etalage.__path__):
        if module.ispkg and (Path(etalage.__path__[0]) / module.name / "models.py").exists():
            importlib.import_module(f"etalage.{module.name}.models")
