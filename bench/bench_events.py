"""Interaction events: ingest over HTTP, straight into the log, and event-to-consumer latency.

- HTTP ingest: ``etalage serve --workers 2`` on a fresh SQLite database; the load generator in its own
  process posts batches of 500 distinct events (each body is used once, so no run is flattered by
  de-duplication) for many users; saturation throughput (closed loop) and latency at a fixed arrival rate
  (open loop). The log is counted afterwards to confirm what was stored.
- Append: batches of 500 straight into the embedded log and into JetStream.
- Where the time goes: validation and preparation per event in one process, for comparison.
- Event-to-consumer: a separate process appends at a steady rate; a tailing reader here records how long
  each event took from the append call to its delivery (p50/p99).

NATS rows run when a server answers at ``ETALAGE_BENCH_NATS_URL`` (default nats://127.0.0.1:4222).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from bench.common import ROOT, BenchContext, row, scratch_database, server
from bench.loadgen import Request, closed_loop, open_loop

BATCH = 500
NATS_URL = os.environ.get("ETALAGE_BENCH_NATS_URL", "nats://127.0.0.1:4222")
VIDEO = "vid_01JD0000000000000000000000"


def nats_available() -> bool:
    parts = urlsplit(NATS_URL)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=1).close()
        return True
    except OSError:
        return False


def log_events(n: int, tag: str) -> list[dict]:
    now = int(time.time() * 1000)
    return [
        {"type": "view_end", "event_id": f"{tag}-{i}", "user": f"psn_bench{i % 997:04d}", "client_ts": now + i // 100,
         "ts": now + i // 100, "recv": now, "video_id": VIDEO, "dwell_ms": 4200 + i % 9000,
         "watch_ratio": round((i % 150) / 100, 2), "platform": "ios", "surface": "for_you"}
        for i in range(n)
    ]  # fmt: skip


def append_rate(log, n: int, threads: int = 1) -> float:  # type: ignore[no-untyped-def]
    events = log_events(n, secrets.token_hex(3))
    chunks = [events[i : i + BATCH] for i in range(0, n, BATCH)]
    started = time.perf_counter()
    if threads == 1:
        for chunk in chunks:
            log.append(chunk)
    else:

        def work(part: list) -> None:  # fmt: skip
            for chunk in part:
                log.append(chunk)

        pool = [threading.Thread(target=work, args=(chunks[t::threads],)) for t in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    return n / (time.perf_counter() - started)


def http_bodies(n_batches: int, tag: str, videos: list[str]) -> list[bytes]:
    now = datetime.now(UTC).isoformat()
    bodies = []
    for b in range(n_batches):
        events = [
            {"type": "view_end", "event_id": f"{tag}{b}.{i}", "occurred_at": now,
             "video_id": videos[(b * 7 + i) % len(videos)],
             "dwell_ms": 4200 + i, "watch_ratio": 0.5, "position": i % 50, "surface": "for_you"}
            for i in range(BATCH)
        ]  # fmt: skip
        bodies.append(orjson.dumps({"sent_at": now, "platform": "ios", "events": events}))
    return bodies


def make_world(database_url: str, n_users: int, n_videos: int) -> tuple[list[str], list[str]]:
    """Users with tokens, and published videos for their events to name (existence is checked)."""
    from sqlalchemy import insert

    from etalage.accounts import service as accounts
    from etalage.content.models import Video
    from etalage.db import Database, new_id, utcnow

    db = Database(database_url)
    tokens = []
    with db.session() as s:
        for i in range(n_users):
            user = accounts.register_user(
                s, email=f"b{i}@bench.example.com", password_hash="x", display_name=f"B{i}"
            )
            s.flush()
            token, _ = accounts.create_api_token(s, accounts.principal_for_user(s, user.id), name="bench")
            tokens.append(token)
        # Rows straight into the content table: the benchmark needs ids that exist, not the upload pipeline.
        videos = [
            dict(id=new_id("vid"), uploader_id=user.id, state="published", published_at=utcnow())
            for _ in range(n_videos)
        ]
        s.execute(insert(Video), videos)
    db.dispose()
    return tokens, [v["id"] for v in videos]


def log_count(backend: str, data_dir: Path, stream: str, *, drop: bool = False) -> int:
    if backend == "nats":
        from etalage.events.log.nats import NatsEventLog

        log = NatsEventLog(NATS_URL, stream=stream)
        n = log.count()
        if drop:
            log.delete_stream()
    else:
        from etalage.events.log.embedded import EmbeddedEventLog

        log = EmbeddedEventLog(data_dir / "events" / "log.db")
        n = log.count()
    log.close()
    return n


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (the server and its worker processes)."""
    pids = [pid] + [
        int(p)
        for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    ]
    total = 0
    for p in pids:
        with open(f"/proc/{p}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def bench_http(ctx: BenchContext, backend: str) -> list[dict]:
    duration = ctx.duration(10.0)
    expected = 120_000 if backend == "embedded" else 60_000  # events/s, to size the distinct bodies
    n_batches = int(expected * (duration + 1.5) / BATCH) + 50
    stream = f"ETALAGE_BENCH_{secrets.token_hex(3).upper()}"
    env = {
        "ETALAGE_EVENTS_PER_MINUTE": "1000000000",
        "ETALAGE_EVENT_BATCHES_PER_MINUTE": "100000000",
        "ETALAGE_MAX_BODY_BYTES": str(4 * 1024 * 1024),
    }
    if backend == "nats":
        env |= {"ETALAGE_NATS_URL": NATS_URL, "ETALAGE_EVENTS_NATS_STREAM": stream}
    rows = []
    with scratch_database("sqlite") as url, server(url, workers=2, env=env) as srv:
        tokens, videos = make_world(url, 200, 500)
        bodies = http_bodies(n_batches, secrets.token_hex(2), videos)
        requests = [
            Request("POST", "/api/v1/events", {"Authorization": f"Bearer {tokens[i % len(tokens)]}",
                    "Content-Type": "application/json"}, body)
            for i, body in enumerate(bodies)
        ]  # fmt: skip
        cpu_before, count_before = cpu_seconds(srv.proc.pid), log_count(backend, srv.data_dir, stream)
        sat = closed_loop(srv.url, requests, concurrency=16, duration=duration, warmup=1.0)
        cpu_used = cpu_seconds(srv.proc.pid) - cpu_before
        stored_by_sat = log_count(backend, srv.data_dir, stream) - count_before
        events_per_s = sat["throughput_ok_per_s"] * BATCH
        open_rate = 40 if backend == "embedded" else 20  # batches/s: 20,000 / 10,000 events/s
        lat = open_loop(srv.url, requests[-int(open_rate * 5) - 5 :], rate=open_rate, duration=5.0)
        stored = log_count(backend, srv.data_dir, stream, drop=True)
        non_2xx = {s: n for s, n in sat["status_counts"].items() if s != 200}
        rows.append(
            row("events", "HTTP ingest, batches of 500 (closed loop, 16 clients, 2 server workers)",
                round(events_per_s), "events/s", target=">= 50,000 events/s", backend=backend,
                notes=f"{sat['throughput_ok_per_s']:.0f} batches/s, p50 {sat['p50_ms']} ms, p99 {sat['p99_ms']} "
                      f"ms; log holds {stored:,} events (incl. warm-up and open loop); other statuses {non_2xx}")
        )  # fmt: skip
        # Machine-independent: the server's own CPU per event, so other work on the machine (or the load
        # generator's share of the two cores) does not hide what one core of server buys.
        per_core = stored_by_sat / cpu_used if cpu_used else 0
        rows.append(
            row("events", "HTTP ingest per core of server CPU (closed loop above)", round(per_core), "events/s/core",
                backend=backend, notes=f"{cpu_used:.1f} CPU-s for {stored_by_sat:,} stored events "
                f"({1e6 * cpu_used / max(1, stored_by_sat):.1f} µs per event, HTTP + auth + validation + append)")
        )  # fmt: skip
        rows.append(
            row("events", f"HTTP ingest latency at {open_rate * BATCH:,} events/s (open loop)", lat["p99_ms"],
                "ms p99", backend=backend, notes=f"p50 {lat['p50_ms']} ms, max {lat['max_ms']} ms, "
                f"{lat['ok']}/{lat['sent']} ok, late starts {lat['late_starts']}")
        )  # fmt: skip
    return rows


def bench_append(ctx: BenchContext, backend: str) -> list[dict]:
    n = 100_000 if ctx.quick else 400_000
    if backend == "nats":
        from etalage.events.log.nats import NatsEventLog

        log = NatsEventLog(NATS_URL, stream=f"ETALAGE_BENCH_{secrets.token_hex(3).upper()}")
        try:
            one = append_rate(log, n // 4)
            four = append_rate(log, n // 4, threads=4)
        finally:
            log.delete_stream()
            log.close()
        return [
            row("events", "append into the log, batches of 500, one writer", round(one), "events/s", backend="nats"),
            row("events", "append into the log, batches of 500, four writers", round(four), "events/s",
                backend="nats", notes="PubAck awaited for every event before append returns"),
        ]  # fmt: skip
    from etalage.events.log.embedded import EmbeddedEventLog

    with tempfile.TemporaryDirectory() as tmp:
        log = EmbeddedEventLog(Path(tmp) / "log.db")
        rate = append_rate(log, n)
        retry = log_events(BATCH, "retry")
        log.append(retry)
        started = time.perf_counter()
        for _ in range(50):
            log.append(retry)
        dup_rate = 50 * BATCH / (time.perf_counter() - started)
        log.close()
    return [
        row("events", "append into the log, batches of 500", round(rate), "events/s",
            target=">= 200,000 events/s", backend="embedded",
            notes=f"de-duplication included; a retried batch (all duplicates) {dup_rate:,.0f} events/s"),
    ]  # fmt: skip


def bench_prepare() -> dict:
    from etalage.events.ingest import prepare

    body = http_bodies(1, "p", [VIDEO])[0]
    received = datetime.now(UTC)
    prepare(body, user_key="psn_x", received=received, max_events=500, max_age_s=86400, max_future_s=300)
    started = time.perf_counter()
    rounds = 40
    for _ in range(rounds):
        prepare(body, user_key="psn_x", received=received, max_events=500, max_age_s=86400, max_future_s=300)
    per_s = rounds * BATCH / (time.perf_counter() - started)
    return row("events", "parse + validate + prepare, one core (in-process, no HTTP, no log)", round(per_s),
               "events/s", backend="-", notes="orjson + one Pydantic pass over a TypedDict union + skew/age checks")  # fmt: skip


def bench_latency(ctx: BenchContext, backend: str) -> dict:
    rate, duration, size = 5_000, ctx.duration(10.0), 50
    stream = f"ETALAGE_BENCH_{secrets.token_hex(3).upper()}"
    with tempfile.TemporaryDirectory() as tmp:
        location = NATS_URL if backend == "nats" else str(Path(tmp) / "log.db")
        if backend == "nats":
            from etalage.events.log.nats import NatsEventLog

            log = NatsEventLog(NATS_URL, stream=stream)
        else:
            from etalage.events.log.embedded import EmbeddedEventLog

            log = EmbeddedEventLog(location)
        latencies: list[float] = []
        errors: list[str] = []
        stop = threading.Event()

        def tail() -> None:
            offset = 1
            while not stop.is_set():
                try:
                    batch = log.read(offset, 5000, wait=0.5)
                except Exception as exc:  # a read that timed out under load: note it and go on reading
                    errors.append(exc.__class__.__name__)
                    continue
                for event in batch:
                    latencies.append((time.time_ns() - event.data["sent_ns"]) / 1e6)
                    offset = event.offset + 1

        reader = threading.Thread(target=tail)
        reader.start()
        proc = subprocess.run(
            [sys.executable, "-m", "bench.events_latency", backend, location, stream, str(rate), str(duration), str(size)],
            cwd=ROOT, capture_output=True, text=True, timeout=duration + 60,
        )  # fmt: skip
        time.sleep(1.0)
        stop.set()
        reader.join(10)
        if backend == "nats":
            log.delete_stream()
        log.close()
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    appended = int(proc.stdout.split()[0])
    latencies.sort()
    pct = lambda p: round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 2)  # noqa: E731
    return row("events", f"event-to-consumer latency at {rate:,} events/s (appender in its own process)", pct(99),
               "ms p99", target="<= 250 ms", backend=backend,
               notes=f"p50 {pct(50)} ms, max {latencies[-1]:.1f} ms; {len(latencies):,} of {appended:,} appended events received "
                     f"(target {int(rate * duration):,}), batches of {size}"
                     + (f"; reader errors {dict(Counter(errors))}" if errors else ""))  # fmt: skip


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def run(ctx: BenchContext) -> list[dict]:
    """Each row's notes end with the machine's 1-minute load average when it finished: other work on
    this 2-core machine (test suites, other benchmarks) shows up there and in the figures."""
    backends = ["embedded"] + (["nats"] if nats_available() else [])
    rows: list[dict] = []

    def add(*new: dict) -> None:
        for r in new:
            r["notes"] = f"{r['notes']}; {_load()}".lstrip("; ")
        rows.extend(new)

    add(bench_prepare())
    for backend in backends:
        add(*bench_append(ctx, backend))
        add(bench_latency(ctx, backend))
        add(*bench_http(ctx, backend))
    if "nats" not in backends:
        rows.append(row("events", "NATS rows", None, "", notes=f"skipped: no NATS server at {NATS_URL}"))
    return rows
