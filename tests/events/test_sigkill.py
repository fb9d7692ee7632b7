"""Kill the real server with SIGKILL while events stream in: what was acknowledged survives, once.

``etalage serve`` runs as a subprocess on a scratch data folder and database; two client threads stream
batches and remember which were acknowledged (200). After the kill and a restart the clients resend every
batch whose answer they never got, and a few acknowledged ones too (a client that lost the answer);
the log must then hold every acknowledged event exactly once and nothing twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from tests.conftest import ROOT, free_port, run_cli
from tests.events.conftest import BACKENDS, nats_url_or_skip, new_stream

pytestmark = pytest.mark.slow


def _start(env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "etalage.cli", "serve", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else ""
        assert time.monotonic() < deadline, "server did not come up"
        time.sleep(0.05)


def _tokens(database_url: str, n: int) -> list[str]:
    from etalage.accounts import service as accounts
    from etalage.db import Database

    db = Database(database_url)
    tokens = []
    try:
        for i in range(n):
            with db.session() as s:
                user = accounts.register_user(
                    s, email=f"kill{i}@test.example.com", password_hash="x", display_name=f"K {i}"
                )
                s.flush()
                token, _ = accounts.create_api_token(s, accounts.principal_for_user(s, user.id), name="t")
            tokens.append(token)
    finally:
        db.dispose()
    return tokens


def _batch(client: int, n: int, size: int = 100) -> list[dict]:
    # Scrolls name no item, so no existence check is involved: this test is about the log.
    now = datetime.now(UTC).isoformat()
    return [
        {"type": "scroll", "event_id": f"c{client}-b{n}-{i}", "occurred_at": now, "velocity": 100.0 + i,
         "position": i}
        for i in range(size)
    ]  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
def test_acknowledged_events_survive_a_sigkill_exactly_once(backend, tmp_path, scratch_database_url):
    env = dict(
        os.environ,
        ETALAGE_DATA_DIR=str(tmp_path / "data"),
        ETALAGE_DATABASE_URL=scratch_database_url,
        ETALAGE_AUTO_MIGRATE="true",
        ETALAGE_INPROCESS_WORKER="false",
        ETALAGE_EVENTS_PER_MINUTE="100000000",
        ETALAGE_EVENT_BATCHES_PER_MINUTE="1000000",
    )
    env.pop("ETALAGE_NATS_URL", None)
    stream = None
    if backend == "nats":
        stream = new_stream()
        env.update(ETALAGE_NATS_URL=nats_url_or_skip(), ETALAGE_EVENTS_NATS_STREAM=stream)
    assert run_cli("db", "upgrade", env=env).returncode == 0
    tokens = _tokens(scratch_database_url, 2)
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/events"
    proc = _start(env, port)

    acked: list[tuple[int, list[dict]]] = []
    unanswered: list[tuple[int, list[dict]]] = []
    lock = threading.Lock()
    killed = threading.Event()

    def stream_events(client: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[client]}"}
        with httpx.Client(timeout=10) as http:
            for n in range(10_000):
                batch = _batch(client, n)
                try:
                    resp = http.post(url, json={"events": batch}, headers=headers)
                    ok = resp.status_code == 200 and resp.json()["accepted"] == len(batch)
                except httpx.TransportError:
                    ok = False
                with lock:
                    (acked if ok else unanswered).append((client, batch))
                if killed.is_set():
                    return

    threads = [threading.Thread(target=stream_events, args=(c,)) for c in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 30:
        assert time.monotonic() < deadline, "too few batches acknowledged before the kill"
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: requests are in flight
    killed.set()
    proc.wait(10)
    for t in threads:
        t.join(30)
    acked_before_kill = [e["event_id"] for _, batch in acked for e in batch]

    proc = _start(env, port)
    try:
        with httpx.Client(timeout=30) as http:
            for client, batch in [*unanswered, acked[0], acked[-1]]:  # some resent after a lost answer
                resp = http.post(
                    url, json={"events": batch}, headers={"Authorization": f"Bearer {tokens[client]}"}
                )
                assert resp.status_code == 200, resp.text
                body = resp.json()
                assert body["accepted"] + body["duplicates"] == len(batch)
                if (client, batch) in acked:
                    assert body["duplicates"] == len(batch)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)

    if backend == "nats":
        from etalage.events.log.nats import NatsEventLog

        log = NatsEventLog(env["ETALAGE_NATS_URL"], stream=stream or "")
    else:
        from etalage.events.log.embedded import EmbeddedEventLog

        log = EmbeddedEventLog(tmp_path / "data" / "events" / "log.db")
    try:
        stored, offset = [], 1
        while batch := log.read(offset, 5000):
            stored += [e.event_id for e in batch]
            offset = batch[-1].offset + 1
    finally:
        if backend == "nats":
            log.delete_stream()
        log.close()
    copies = Counter(stored)
    assert not [k for k, n in copies.items() if n > 1], "an event was stored twice"
    missing = [k for k in acked_before_kill if k not in copies]
    assert not missing, f"{len(missing)} acknowledged events lost"
    resent = {e["event_id"] for _, batch in unanswered for e in batch}
    assert resent <= copies.keys()
    assert len(copies) == len(acked_before_kill) + len(resent - set(acked_before_kill))
    print(f"{backend}: {len(acked)} batches acknowledged before the kill, {len(unanswered)} resent after it")
