"""With ETALAGE_REDIS_URL, a room spans server processes: two real `etalage serve` processes, one viewer
on each, see each other's chat and the room's total viewer count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import ROOT, free_port
from tests.content.test_live import _next

REDIS = os.environ.get("ETALAGE_TEST_REDIS_URL")
pytestmark = [
    pytest.mark.db_agnostic,  # its own SQLite database, shared by the two processes
    pytest.mark.skipif(not REDIS, reason="Redis not configured: set ETALAGE_TEST_REDIS_URL (the CI sets it)"),
]


def _serve(tmp_path, port: int) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = dict(
        os.environ,
        ETALAGE_DATA_DIR=str(tmp_path / "data"),
        ETALAGE_REDIS_URL=REDIS or "",
        ETALAGE_INPROCESS_WORKER="false",
        ETALAGE_AUTO_MIGRATE="true",
    )
    env.pop("ETALAGE_DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "etalage.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(url: str, proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "server did not come up"
        time.sleep(0.1)


def _token(url: str, email: str, creator: bool = False) -> str:
    password = "correct-horse-battery"
    r = httpx.post(
        f"{url}/api/v1/accounts",
        json={"email": email, "password": password, "display_name": email[:3], "as_creator": creator},
    )
    assert r.status_code == 201, r.text
    r = httpx.post(f"{url}/api/v1/auth/token", json={"email": email, "password": password})
    return r.json()["token"]


def test_a_room_spans_two_server_processes(tmp_path):
    ports = [free_port(), free_port()]
    first = _serve(tmp_path, ports[0])
    try:
        _wait(f"http://127.0.0.1:{ports[0]}", first)  # it creates and migrates the database alone
        second = _serve(tmp_path, ports[1])
        try:
            urls = [f"http://127.0.0.1:{p}" for p in ports]
            _wait(urls[1], second)
            host = _token(urls[0], "host@example.com", creator=True)
            ann, bob = _token(urls[0], "ann@example.com"), _token(urls[1], "bob@example.com")
            room = httpx.post(
                f"{urls[0]}/api/v1/live/rooms",
                headers={"Authorization": f"Bearer {host}"},
                json={
                    "title": "Across processes",
                    "start_now": True,
                    "source": {"kind": "hls", "url": "https://cdn.example.com/live/a.m3u8"},
                },
            ).json()
            ws_urls = [u.replace("http://", "ws://") + f"/api/v1/live/rooms/{room['id']}/ws" for u in urls]
            with connect(f"{ws_urls[0]}?token={ann}") as a, connect(f"{ws_urls[1]}?token={bob}") as b:
                _next(a, "hello"), _next(b, "hello")
                b.send(json.dumps({"type": "chat", "text": "hello from process two"}))
                assert _next(a, "chat", text="hello from process two")["author"] == "bob"
                a.send(json.dumps({"type": "chat", "text": "and back from one"}))
                assert _next(b, "chat", text="and back from one")["author"] == "ann"
                assert _next(a, "viewer_count", timeout=8, count=2)["count"] == 2
                assert _next(b, "viewer_count", timeout=8, count=2)["count"] == 2
        finally:
            second.terminate()
            second.wait(10)
    finally:
        first.terminate()
        first.wait(10)
