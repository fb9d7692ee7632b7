"""What every benchmark needs: a real server process on a fresh database, and result rows."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = (
    os.environ.get("ETALAGE_BENCH_DATABASE_URL")
    or os.environ.get("ETALAGE_TEST_DATABASE_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def row(
    bench: str,
    metric: str,
    value: float | int | None,
    unit: str,
    *,
    target: str = "",
    backend: str = "",
    notes: str = "",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "bench": bench,
        "backend": backend,
        "metric": metric,
        "value": value,
        "unit": unit,
        "target": target,
        "notes": notes,
        **extra,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_available() -> bool:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A fresh, empty database URL for ``backend`` ('sqlite' or 'postgres'), removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="etalage-bench-") as tmp:
            yield f"sqlite:///{tmp}/etalage.db"
        return
    import sqlalchemy as sa

    name = f"etalage_bench_{secrets.token_hex(4)}"
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (a server's workers)."""
    with contextlib.suppress(Exception):
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]
    return []


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class ServerProcess:
    url: str
    proc: subprocess.Popen[bytes]
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    def rss_mb(self) -> float:
        """Resident memory of the server and its worker processes."""
        total = 0
        for pid in [self.proc.pid, *children(self.proc.pid)]:
            with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return round(total / 1024, 1)

    def cpu_seconds(self) -> dict[int, float]:
        """CPU seconds used so far by each child process: the workers' balance under load."""
        out = {}
        for pid in children(self.proc.pid):
            with contextlib.suppress(OSError, IndexError, ValueError):
                out[pid] = cpu_seconds(pid)
        return out

    def cpu_split(self, before: dict[int, float]) -> str:
        """Each worker's CPU seconds since ``before``, e.g. '20.5 / 20.2 s' (busiest first)."""
        used = sorted((s - before.get(pid, 0.0) for pid, s in self.cpu_seconds().items()), reverse=True)
        return " / ".join(f"{u:.1f}" for u in used if u >= 0.05) + " s"


@contextlib.contextmanager
def server(
    database_url: str, *, workers: int = 2, env: dict[str, str] | None = None, data_dir: Path | None = None
) -> Iterator[ServerProcess]:
    """``etalage serve`` in its own process(es), migrated, answering /healthz."""
    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="etalage-bench-data-")
        data_dir = Path(tmp.name)
    port = free_port()
    full_env = dict(
        os.environ,
        ETALAGE_DATA_DIR=str(data_dir),
        ETALAGE_DATABASE_URL=database_url,
        ETALAGE_LOG_LEVEL="WARNING",
        ETALAGE_INPROCESS_WORKER="false",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        **(env or {}),
    )
    subprocess.run(
        [sys.executable, "-m", "etalage.cli", "db", "upgrade"], env=full_env, check=True, capture_output=True
    )
    # stderr to a file, not a pipe: nobody reads a pipe during the run, and a full one would stall the server
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below, after the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "etalage.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=full_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )

    def stderr_tail() -> str:
        errors.seek(0)
        return errors.read().decode(errors="replace")[-3000:]

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start: {stderr_tail()}")
        time.sleep(0.05)
    try:
        yield ServerProcess(url, proc, data_dir, full_env)
        if proc.poll() is not None:  # died during the run: say why instead of reporting zeros
            raise RuntimeError(f"the server exited with {proc.returncode} during the run: {stderr_tail()}")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        errors.close()
        if tmp is not None:
            tmp.cleanup()


@dataclass
class BenchContext:
    quick: bool
    backends: list[str]
    results_dir: Path

    def duration(self, full: float) -> float:
        return max(2.0, full / 5) if self.quick else full
