"""Test harness: a real database (SQLite file or a fresh PostgreSQL database), a real HTTP server.

The backend comes from ``ETALAGE_TEST_DB``: ``sqlite`` (default) or ``postgres`` (needs
``ETALAGE_TEST_DATABASE_URL``, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``). For PostgreSQL a
new database is created for the session and dropped at the end, so a developer's data is never touched.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
_TMP = Path(tempfile.mkdtemp(prefix="etalage-tests-"))
_PG_ADMIN_URL: str | None = None
_PG_DBNAME: str | None = None


def backend() -> str:
    return os.environ.get("ETALAGE_TEST_DB", "sqlite")


def _create_pg_database(admin_url: str) -> str:
    import sqlalchemy as sa

    global _PG_ADMIN_URL, _PG_DBNAME
    name = f"etalage_test_{secrets.token_hex(4)}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    _PG_ADMIN_URL, _PG_DBNAME = admin_url, name
    return admin_url.rsplit("/", 1)[0] + "/" + name


def pytest_configure(config: pytest.Config) -> None:
    os.environ["ETALAGE_DATA_DIR"] = str(_TMP / "data")
    os.environ["ETALAGE_INPROCESS_WORKER"] = "false"
    os.environ["ETALAGE_AUTO_MIGRATE"] = "false"
    # Cheap password hashing keeps the suite fast; production uses the OWASP minimum or more.
    os.environ["ETALAGE_ARGON2_TIME_COST"] = "1"
    os.environ["ETALAGE_ARGON2_MEMORY_KIB"] = "1024"
    os.environ["ETALAGE_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if backend() == "postgres":
        admin = os.environ.get("ETALAGE_TEST_DATABASE_URL")
        if not admin:
            raise pytest.UsageError("ETALAGE_TEST_DB=postgres needs ETALAGE_TEST_DATABASE_URL")
        os.environ["ETALAGE_DATABASE_URL"] = _create_pg_database(admin)
    else:
        os.environ["ETALAGE_DATABASE_URL"] = f"sqlite:///{_TMP / 'data' / 'etalage.db'}"
    from etalage.config import get_settings

    get_settings.cache_clear()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _PG_ADMIN_URL and _PG_DBNAME:
        import sqlalchemy as sa

        engine = sa.create_engine(_PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{_PG_DBNAME}" WITH (FORCE)')
        engine.dispose()
    shutil.rmtree(_TMP, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if backend() != "sqlite":
        skip = pytest.mark.skip(reason="database-independent; runs once, in the SQLite pass")
        for item in items:
            if "db_agnostic" in item.keywords:
                item.add_marker(skip)


# --- database --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def settings():  # type: ignore[no-untyped-def]
    from etalage.config import get_settings

    s = get_settings()
    s.ensure_dirs()
    return s


@pytest.fixture(scope="session")
def database(settings):  # type: ignore[no-untyped-def]
    from etalage.db import Database, upgrade

    upgrade(settings.db_url)
    db = Database(settings.db_url)
    yield db
    db.dispose()


def _truncate_all(db) -> None:  # type: ignore[no-untyped-def]
    from etalage.db import Base, import_all_models

    import_all_models()
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if db.is_sqlite:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for name in tables:
                conn.exec_driver_sql(f'DELETE FROM "{name}"')
            conn.commit()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    else:
        from sqlalchemy.exc import DBAPIError

        # A test's late after-commit work (a webhook, a job) may still hold a row lock while TRUNCATE asks
        # for every table: PostgreSQL then breaks the deadlock by failing one of them. Wait and retry.
        for attempt in range(20):
            try:
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
                    conn.exec_driver_sql(
                        "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                    )
                return
            except DBAPIError as exc:
                if attempt == 19 or getattr(exc.orig, "sqlstate", None) not in ("40P01", "55P03"):
                    raise
                time.sleep(0.1 * (attempt + 1))


@pytest.fixture
def db(database):  # type: ignore[no-untyped-def]
    """The test database, emptied after the test."""
    yield database
    _truncate_all(database)


# --- a real HTTP server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, app, port: int) -> None:  # type: ignore[no-untyped-def]
        import uvicorn

        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            ws="websockets-sansio",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def live_server(settings, database) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    from etalage.app import create_app

    app = create_app(settings, database)
    server = LiveServer(app, free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(live_server, db):  # type: ignore[no-untyped-def]
    """An HTTP client against the live server; the database is emptied after the test."""
    import httpx

    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def factory(db):  # type: ignore[no-untyped-def]
    from tests.factories import Factory

    return Factory(db)


@pytest.fixture
def scratch_database_url(settings, tmp_path):  # type: ignore[no-untyped-def]
    """An empty database of the backend under test, for migration and CLI tests."""
    if settings.is_sqlite:
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    import sqlalchemy as sa

    admin = settings.db_url
    name = f"scratch_{secrets.token_hex(4)}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield admin.rsplit("/", 1)[0] + "/" + name
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300):  # type: ignore[no-untyped-def]
    """Run the real ``etalage`` command in a subprocess."""
    import subprocess
    import sys

    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "etalage.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=ROOT)
