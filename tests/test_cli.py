"""The real ``etalage`` command: serve, users create, db upgrade/downgrade, demo."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import ROOT, free_port, run_cli


def _env(tmp_path, url: str) -> dict[str, str]:
    return {"ETALAGE_DATA_DIR": str(tmp_path / "data"), "ETALAGE_DATABASE_URL": url,
            "ETALAGE_AUTO_MIGRATE": "true"}


@pytest.mark.db_agnostic
def test_serve_answers_healthz_on_the_embedded_default(tmp_path):
    """Starts with no database at all: it creates and migrates it, then answers."""
    port = free_port()
    env = dict(os.environ, ETALAGE_DATA_DIR=str(tmp_path / "fresh"), ETALAGE_INPROCESS_WORKER="true")
    env.pop("ETALAGE_DATABASE_URL", None)
    env.pop("ETALAGE_AUTO_MIGRATE", None)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "etalage.cli", "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        while True:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() - started < 30, "server did not come up"
                time.sleep(0.05)
        assert resp.json() == {"status": "ok"}
        print(f"healthz answered {time.monotonic() - started:.2f}s after start")
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ready"
        assert (tmp_path / "fresh" / "etalage.db").exists() and (tmp_path / "fresh" / "media").is_dir()
    finally:
        proc.terminate()
        proc.wait(10)


def test_users_create_and_db_commands(tmp_path, scratch_database_url):
    env = _env(tmp_path, scratch_database_url)
    assert run_cli("db", "upgrade", env=env).returncode == 0
    ok = run_cli("users", "create", "root@example.com", "--password", "a-long-password", "--role", "admin",
                 "--role", "shopper", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "roles=admin,shopper" in ok.stdout
    dup = run_cli("users", "create", "root@example.com", "--password", "a-long-password", env=env)
    assert dup.returncode == 1 and "already exists" in dup.stdout
    bad = run_cli("users", "create", "not-an-email", "--password", "a-long-password", env=env)
    assert bad.returncode == 2 and "Invalid input" in bad.stdout
    weak = run_cli("users", "create", "x@example.com", "--password", "short", env=env)
    assert weak.returncode == 2
    current = run_cli("db", "current", env=env)
    assert current.returncode == 0
    rev = current.stdout.split("head:")[1].strip()
    assert f"current: {rev}" in current.stdout
    assert run_cli("db", "downgrade", "base", env=env).returncode == 0
    engine = sa.create_engine(scratch_database_url)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_demo_small_builds_a_marketplace(tmp_path, scratch_database_url):
    env = _env(tmp_path, scratch_database_url)
    result = run_cli("demo", "--scale", "small", env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo ready" in result.stdout
    engine = sa.create_engine(scratch_database_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM users").scalar() >= 60
        assert conn.exec_driver_sql("SELECT count(*) FROM organisations").scalar() == 4
    engine.dispose()
    again = run_cli("demo", "--scale", "small", env=env)
    assert again.returncode == 1 and "already has data" in again.stdout
