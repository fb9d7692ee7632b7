"""``etalage serve --workers N``: connections opened together are spread over the workers, a dead worker is
replaced, a taken port is refused, and SIGTERM stops everything."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from bench.common import children

from tests.commerce.helpers import eventually
from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.db_agnostic
CONNECTIONS = 24  # all on one of two workers by chance: 2 × 2⁻²⁴


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _tcp_sockets(port: int) -> dict[str, str]:
    """inode -> state ('0A' listening, '01' established) of the sockets on ``port`` on this side."""
    out = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                out[fields[9]] = fields[3]
    return out


def _workers(pid: int, port: int) -> dict[int, int]:
    """Each worker process (a child listening on ``port``) -> how many connections it holds."""
    sockets = _tcp_sockets(port)
    out = {}
    for child in children(pid):
        try:
            mine = [sockets[i] for i in _socket_inodes(child) if i in sockets]
        except OSError:  # gone meanwhile
            continue
        if "0A" in mine:
            out[child] = mine.count("01")
    return out


@pytest.fixture
def two_workers(tmp_path) -> Iterator[tuple[subprocess.Popen, int]]:  # type: ignore[type-arg]
    port = free_port()
    env = dict(os.environ, ETALAGE_DATA_DIR=str(tmp_path / "data"), ETALAGE_INPROCESS_WORKER="false",
               ETALAGE_AUTO_MIGRATE="true", ETALAGE_WORKER_TIMEOUT_SECONDS="3", ETALAGE_DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'etalage.db'}")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "etalage.cli", "serve", "--port", str(port), "--workers", "2"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        eventually(lambda: proc.poll() is not None or len(_workers(proc.pid, port)) == 2, timeout=60)
        assert proc.poll() is None, proc.stdout.read().decode()  # type: ignore[union-attr]
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(40)


def _open_together(port: int, n: int = CONNECTIONS) -> list[socket.socket]:
    """``n`` keep-alive connections opened at once, each answered once (so each is held by a worker)."""

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: _open_one(port), range(n)))


def _open_one(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    return sock


def test_connections_opened_together_are_spread_over_the_workers(two_workers):
    """Keep-alive connections live long, so which worker accepts one decides its load for minutes. On one
    shared socket, the worker that happened to be free at that instant took every connection waiting (here:
    the other worker is stopped, as a worker busy with requests is for a moment under load). The kernel now
    spreads them by address: the busy worker's share waits for it, a moment."""
    proc, port = two_workers
    busy, _free = _workers(proc.pid, port)
    os.kill(busy, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(CONNECTIONS) as pool:
            pending = [pool.submit(_open_one, port) for _ in range(CONNECTIONS)]
            time.sleep(0.5)
            os.kill(busy, signal.SIGCONT)
            held = [f.result() for f in pending]
    finally:
        os.kill(busy, signal.SIGCONT)
    try:
        per_worker = _workers(proc.pid, port)
        assert sum(per_worker.values()) == CONNECTIONS
        assert all(n >= 2 for n in per_worker.values()), per_worker  # one shared socket: 0 and 24
    finally:
        for sock in held:
            sock.close()


def test_a_dead_worker_is_replaced_and_no_connection_waits_for_it(two_workers):
    proc, port = two_workers
    victim = next(iter(_workers(proc.pid, port)))
    os.kill(victim, signal.SIGKILL)
    eventually(lambda: list(_workers(proc.pid, port)) != [victim] and victim not in _workers(proc.pid, port),
               timeout=10)  # the killed worker's socket is closed  # fmt: skip
    # while it is down, every new connection goes to the worker still listening
    assert len(_workers(proc.pid, port)) == 1  # its replacement starts a second later
    for sock in _open_together(port):
        sock.close()
    eventually(lambda: len(_workers(proc.pid, port)) == 2 and victim not in _workers(proc.pid, port), timeout=60)
    with httpx.Client() as client:
        assert client.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}


def test_a_hung_worker_is_killed_and_replaced(two_workers):
    proc, port = two_workers
    hung = next(iter(_workers(proc.pid, port)))
    os.kill(hung, signal.SIGSTOP)  # alive, holding its socket, answering nothing
    try:
        eventually(lambda: hung not in _workers(proc.pid, port) and len(_workers(proc.pid, port)) == 2,
                   timeout=30)  # the hung worker's replacement  # fmt: skip
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(hung, signal.SIGCONT)
    for sock in _open_together(port):
        sock.close()


def test_workers_stop_when_the_supervisor_is_killed(two_workers):
    proc, port = two_workers
    workers = list(_workers(proc.pid, port))
    proc.kill()  # no chance to stop them itself
    proc.wait(10)
    eventually(lambda: not any(_alive(w) for w in workers), timeout=40)  # the orphaned workers exit


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_taken_port_is_refused_and_sigterm_stops_every_worker(two_workers, tmp_path):
    proc, port = two_workers
    env = dict(os.environ, ETALAGE_DATA_DIR=str(tmp_path / "other"), ETALAGE_INPROCESS_WORKER="false")
    env.pop("ETALAGE_DATABASE_URL", None)
    second = subprocess.run([sys.executable, "-m", "etalage.cli", "serve", "--port", str(port), "--workers", "2"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert second.returncode == 2, second.stdout + second.stderr
    assert "already in use" in second.stdout
    any_port = subprocess.run([sys.executable, "-m", "etalage.cli", "serve", "--port", "0", "--workers", "2"],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert any_port.returncode == 2 and "one worker only" in any_port.stdout, any_port.stdout + any_port.stderr
    workers = list(_workers(proc.pid, port))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(40) == 0
    eventually(lambda: not any(_alive(w) for w in workers), timeout=10)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
