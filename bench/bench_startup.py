"""How fast ``etalage serve`` answers /healthz from a cold start on the embedded default (target < 2 s)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

from bench.common import BenchContext, free_port, row

REPEATS = 5


def run(ctx: BenchContext) -> list[dict]:
    times = []
    for fresh in [True, False] * (2 if ctx.quick else REPEATS):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, ETALAGE_DATA_DIR=tmp)
            env.pop("ETALAGE_DATABASE_URL", None)
            if not fresh:  # an existing, migrated database
                subprocess.run(
                    [sys.executable, "-m", "etalage.cli", "db", "upgrade"],
                    env=env,
                    check=True,
                    capture_output=True,
                )
            port = free_port()
            start = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-m", "etalage.cli", "serve", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                while True:
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.02)
                times.append((fresh, time.perf_counter() - start))
            finally:
                proc.terminate()
                proc.wait(10)
    rows = []
    for fresh in (True, False):
        runs = sorted(t for f, t in times if f == fresh)
        rows.append(
            row(
                "startup",
                "healthz after start (" + ("new data folder" if fresh else "existing database") + "), median",
                round(statistics.median(runs), 2),
                "s",
                target="< 2 s",
                backend="sqlite",
                notes=f"{len(runs)} starts: " + ", ".join(f"{t:.2f}" for t in runs) + " s",
            )
        )
    return rows
