"""The simulated world: one marketplace template copied for each configuration, the servers that serve
it, and the hidden truth about every product (how engaging, how often returned).

The template is built once by the demo builder (the platform's own, in a subprocess with its own data
folder): merchants, products with stock and prices, videos, a history of interactions and the feed's
first model. Each configuration gets an identical copy, its own test PSP and ``etalage serve`` process.
The hidden truth is a function of the seed and what the builder makes the same for the same seed (a product's
title and SKUs, its category's slug), not of generated ids: every configuration, and every run with that seed,
meets the same products.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

SCALE = {"merchants": 8, "products": 160, "videos": 600, "rendered_clips": 4, "shoppers": 120, "creators": 24,
         "interactions_per_shopper": 12}  # fmt: skip
EUR_REGIONS = ("BE", "NL", "FR", "DE", "ES")
BAIT_SHARE = 0.15


@dataclass(frozen=True)
class ProductTruth:
    id: str
    topic: str
    appeal: float  # how engaging its clips and page are (bait: very)
    return_prob: float  # chance a buyer sends it back (bait: often)
    bait: bool


def truth_for(seed: int, product: dict[str, Any], category_slugs: dict[str, str] | None = None) -> ProductTruth:
    skus = ",".join(sorted(v.get("sku", "") for v in product.get("variants") or []))
    name = f"{product.get('title', '')}|{skus}" if skus else product["id"]
    rng = np.random.default_rng((zlib.crc32(name.encode()) ^ seed) & 0xFFFFFFFF)
    bait = rng.random() < BAIT_SHARE
    appeal = float(rng.normal(0.0, 0.5)) + (1.6 if bait else 0.0)
    returns = 0.55 if bait else float(rng.uniform(0.02, 0.1))
    category = product.get("category_id")
    topic = (category_slugs or {}).get(category, category) if category else "none"
    return ProductTruth(product["id"], topic, appeal, returns, bait)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_template(folder: Path, seed: int) -> None:
    """The demo marketplace at the simulation's scale, in ``folder`` (a subprocess: its own settings)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, ETALAGE_DATA_DIR=str(folder), ETALAGE_DATABASE_URL=f"sqlite:///{folder / 'etalage.db'}",
               ETALAGE_ARGON2_TIME_COST="1", ETALAGE_ARGON2_MEMORY_KIB="1024", ETALAGE_LOG_LEVEL="WARNING")  # fmt: skip
    script = (
        "import sys; from rich.console import Console; from etalage import demo; from etalage.config import "
        "get_settings; from etalage.db import Database, upgrade\n"
        f"demo.SCALES['simulation'] = {SCALE!r}\n"
        "s = get_settings(); s.ensure_dirs(); upgrade(s.db_url); db = Database(s.db_url)\n"
        f"demo.build(db, s, scale='simulation', seed={seed}, console=Console(quiet=True)); db.dispose()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"building the simulation's marketplace failed:\n{done.stderr[-3000:]}")


@dataclass
class Platform:
    url: str
    psp_url: str
    data_dir: Path
    processes: list[subprocess.Popen[bytes]]


@contextlib.contextmanager
def platform(template: Path, run_dir: Path, *, ranker: str, overrides: dict[str, Any] | None = None,
             refit_seconds: float | None = None, workers: int = 1) -> Iterator[Platform]:  # fmt: skip
    """A copy of the template served by its own PSP and ``etalage serve`` with the given ranking preset and
    changes to its parameters (none by default, whatever the caller's environment says)."""
    if run_dir.exists():
        shutil.rmtree(run_dir)
    shutil.copytree(template, run_dir)
    psp_port = free_port()
    port = free_port()
    while port == psp_port:  # a port just released can be handed out again at once
        port = free_port()
    env = dict(
        os.environ,
        ETALAGE_DATA_DIR=str(run_dir),
        ETALAGE_DATABASE_URL=f"sqlite:///{run_dir / 'etalage.db'}",
        ETALAGE_PSP_URL=f"http://127.0.0.1:{psp_port}",
        ETALAGE_BASE_URL=f"http://127.0.0.1:{port}",
        ETALAGE_FEED_RANKER=ranker,
        ETALAGE_FEED_RANKING_OVERRIDES=json.dumps(overrides or {}),
        ETALAGE_FEED_REFRESH_SECONDS="2",  # quality signals (comments, returns) reach the ranking quickly
        ETALAGE_FEED_LEARN_SECONDS="2",
        ETALAGE_ARGON2_TIME_COST="1",
        ETALAGE_ARGON2_MEMORY_KIB="1024",
        ETALAGE_LOG_LEVEL="WARNING",
        ETALAGE_INPROCESS_WORKER="true",  # its jobs (payments, after-sale) run as in any single-process install
        ETALAGE_EVENTS_PER_MINUTE="100000",
        ETALAGE_LOGIN_ATTEMPTS_PER_MINUTE="100000",  # every shopper signs in from this one address
        ETALAGE_EVENT_BATCHES_PER_MINUTE="10000",
    )
    if refit_seconds is not None:
        env["ETALAGE_FEED_REFIT_SECONDS"] = str(refit_seconds)
    cli = [sys.executable, "-m", "etalage.cli"]
    logs = (run_dir / "psp.log").open("wb"), (run_dir / "server.log").open("wb")
    procs = [
        subprocess.Popen([*cli, "payments", "psp", "--port", str(psp_port), "--data", str(run_dir / "psp.db")],
                         env=env, stdout=logs[0], stderr=subprocess.STDOUT),
        subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                         stdout=logs[1], stderr=subprocess.STDOUT),
    ]  # fmt: skip
    try:
        for url in (f"http://127.0.0.1:{psp_port}/v1/test/payments", f"http://127.0.0.1:{port}/api/v1/feed"):
            _wait(url, procs)
        yield Platform(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{psp_port}", run_dir, procs)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        for fh in logs:
            fh.close()


def _wait(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"a simulation process exited early; see its log next to the data ({url})")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def category_slugs(client: httpx.Client) -> dict[str, str]:
    """Category id -> slug (ids are generated anew with every build; slugs are not)."""
    answer = client.get("/api/v1/categories")
    return {c["id"]: c["slug"] for c in answer.json()} if answer.status_code == 200 else {}


def catalogue(client: httpx.Client, region: str) -> dict[str, dict[str, Any]]:
    """Every product on sale in ``region`` (the public catalogue API), by id."""
    out: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"region": region, "limit": 200}
        if cursor:
            params["cursor"] = cursor
        answer = client.get("/api/v1/products", params=params)
        answer.raise_for_status()  # say which request failed, not that an empty body is not JSON
        page = answer.json()
        for p in page.get("items", []):
            out[p["id"]] = p
        cursor = page.get("next_cursor")
        if not cursor:
            return out
