"""An HTTP/1.1 load generator that runs in its own process.

Two modes, as the benchmarks report them:
- ``closed_loop``: N clients, each sending its next request when the previous answer arrives; the
  throughput at saturation.
- ``open_loop``: requests start on a fixed schedule (``rate`` per second) whatever the server does, and
  latency is measured from the *scheduled* start, so a slow server cannot hide its queueing
  (no coordinated omission).

It speaks just enough HTTP/1.1 over raw asyncio streams (keep-alive, Content-Length and chunked bodies)
to stay far cheaper per request than the servers it measures.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


class _Conn:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked, close = None, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = await self.reader.readexactly(length or 0)
        if close:
            self.close()
        return status, body

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        """``request``, and once more on a new connection if a kept-alive one had been closed by the server
        (its idle timeout) before any byte of the answer, as HTTP clients do: that is no server error. Every
        POST here carries an Idempotency-Key, so sending it again is safe."""
        reused = self.writer is not None
        try:
            return await self.request(raw)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.close()
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            return await self.request(raw)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _summary(
    latencies: list[float],
    statuses: dict[int, int],
    errors: int,
    elapsed: float,
    sent: int,
    mode: str,
    **extra: Any,
) -> dict[str, Any]:
    lat = sorted(latencies)

    def pct(p: float) -> float | None:
        if not lat:
            return None
        return round(lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))] * 1000.0, 2)

    ok = sum(n for s, n in statuses.items() if 200 <= s < 300)
    return {
        "mode": mode,
        "sent": sent,
        "ok": ok,
        "errors": errors,
        "status_counts": statuses,
        "elapsed_s": round(elapsed, 3),
        "throughput_ok_per_s": round(ok / elapsed, 1) if elapsed else 0.0,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
        "max_ms": pct(100),
        **extra,
    }


async def _closed(url: str, raws: list[bytes], concurrency: int, duration: float, warmup: float) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    counter = 0
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration

    async def client() -> None:
        nonlocal counter, errors
        conn = _Conn(host, port)
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                break
            raw = raws[counter % len(raws)]
            counter += 1
            t0 = time.perf_counter()
            try:
                status, _ = await conn.send(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                conn.close()
                if t0 >= measure_from:
                    errors += 1
                continue
            if t0 >= measure_from:
                latencies.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    elapsed = time.perf_counter() - measure_from
    return _summary(
        latencies, statuses, errors, elapsed, len(latencies) + errors, "closed", concurrency=concurrency
    )


async def _open(url: str, raws: list[bytes], rate: float, duration: float, max_conns: int) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    idle: list[_Conn] = []
    open_conns = 0
    total = int(rate * duration)
    start = time.perf_counter() + 0.05
    in_flight: set[asyncio.Task[None]] = set()
    late_starts = 0

    async def one(i: int, scheduled: float) -> None:
        nonlocal errors, open_conns
        conn = idle.pop() if idle else None
        if conn is None:
            open_conns += 1
            conn = _Conn(host, port)
        try:
            status, _ = await conn.send(raws[i % len(raws)])
        except (OSError, asyncio.IncompleteReadError, ValueError):
            conn.close()
            open_conns -= 1
            errors += 1
            return
        latencies.append(time.perf_counter() - scheduled)  # from the schedule, not the send
        statuses[status] = statuses.get(status, 0) + 1
        idle.append(conn)

    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.01:
            late_starts += 1
        while len(in_flight) >= max_conns:  # bounded, but counted: latency keeps the waiting time
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(one(i, scheduled))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.wait(in_flight, timeout=60)
    elapsed = time.perf_counter() - start
    for conn in idle:
        conn.close()
    return _summary(
        latencies,
        statuses,
        errors,
        elapsed,
        total,
        "open",
        target_rate=rate,
        late_starts=late_starts,
        max_connections=max_conns,
    )


def _child_main() -> None:
    """Entry point of the generator's own process: arguments arrive pickled on stdin."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    kind, args = pickle.loads(sys.stdin.buffer.read())
    coro = _closed(*args) if kind == "closed" else _open(*args)
    sys.stdout.write(json.dumps(asyncio.run(coro)))


def _in_process(kind: str, args: tuple, timeout: float) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "bench.loadgen"],
        input=pickle.dumps((kind, args)),
        capture_output=True,
        timeout=timeout,
        cwd=root,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.decode()[-2000:]}")
    result = json.loads(done.stdout)
    result["status_counts"] = {int(k): v for k, v in result["status_counts"].items()}
    return result


def closed_loop(
    base_url: str,
    requests: list[Request],
    *,
    concurrency: int = 50,
    duration: float = 10.0,
    warmup: float = 1.0,
) -> dict[str, Any]:
    """Saturation: ``concurrency`` clients back to back for ``duration`` seconds (after a warm-up)."""
    host = urlsplit(base_url).netloc
    raws = [r.encode(host) for r in requests]
    return _in_process("closed", (base_url, raws, concurrency, duration, warmup), duration + warmup + 120)


def open_loop(
    base_url: str, requests: list[Request], *, rate: float, duration: float = 10.0, max_conns: int = 512
) -> dict[str, Any]:
    """Fixed arrival rate; latency from each request's scheduled start."""
    host = urlsplit(base_url).netloc
    raws = [r.encode(host) for r in requests]
    return _in_process("open", (base_url, raws, rate, duration, max_conns), duration + 180)


if __name__ == "__main__":
    _child_main()
