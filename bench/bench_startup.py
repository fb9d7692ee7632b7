"""How fast ``etalage serve`` answers /healthz from a cold start on the embedded default (target < 2 s)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import httpx

from bench.common import BenchContext, free_port, row


def run(ctx: BenchContext) -> list[dict]:
    times = []
    for fresh in (True, False):
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
    return [
        row(
            "startup",
            "healthz after start (" + ("new data folder" if fresh else "existing database") + ")",
            round(t, 2),
            "s",
            target="< 2 s",
            backend="sqlite",
        )
        for fresh, t in times
    ]
