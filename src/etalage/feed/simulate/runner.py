"""Running the simulation: the same shoppers through each configuration, round after round."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from etalage.feed.parameters import preset
from etalage.feed.simulate import shoppers as sh
from etalage.feed.simulate import world

CONFIGS = {  # name -> (ranking preset of the server, feed mode the shoppers ask for)
    "quality-aware": ("quality", None),
    "engagement-only": ("engagement", None),
    "non-profiled": ("quality", "non_profiled"),
}


@dataclass
class SimOptions:
    shoppers: int = 100
    rounds: int = 4
    seed: int = 7
    url: str | None = None  # drive this running server (one configuration) instead of starting copies
    psp_url: str | None = None
    configs: tuple[str, ...] = tuple(CONFIGS)
    workers: int = 8
    keep: Path | None = None  # keep the template and copies here (default: a temporary folder)
    # Runs of each configuration on the same world: two runs of one world differ (the server's timing
    # moves what the online learner has seen when), by ~10 % of GMV, so one run cannot settle 5 %
    repeat: int = 1
    # Changes to the quality preset's parameters for its copies (``--set``), to see a change's effect before
    # publishing it; the engagement-only copies always run their preset as published
    overrides: dict[str, Any] = field(default_factory=dict)
    # The servers' periodic full refit (model and heads), in seconds; None: as configured (hourly), which a
    # run of minutes never reaches, so the heads keep their starting values
    refit_seconds: float | None = None


@dataclass
class ConfigResult:
    name: str
    total: sh.Tally
    per_round: list[sh.Tally] = field(default_factory=list)
    seconds: float = 0.0
    run: int = 1  # which repetition
    parameters: dict[str, Any] = field(default_factory=dict)  # what the server ranked with (its version)


@dataclass
class Report:
    options: SimOptions
    results: list[ConfigResult]
    missing: list[str]
    notes: list[str] = field(default_factory=list)


def _has_returns_api(client: httpx.Client) -> bool:
    """Whether the platform offers after-sale returns (older builds do not)."""
    paths = client.get("/api/v1/openapi.json").json().get("paths", {})
    return "post" in paths.get("/api/v1/orders/{order_id}/returns", {})


def live_parameters(client: httpx.Client) -> dict[str, Any]:
    """The ranking parameters the server runs with: their version and where they differ from its preset as
    published, so a run's figures can be matched with the exact parameters behind them."""
    live = client.get("/api/v1/feed/ranking-parameters")
    live.raise_for_status()
    body = live.json()
    published = preset(body["preset"]).as_dict()
    values = {p["name"]: p["value"] for p in body["parameters"]}
    return {"preset": body["preset"], "version": body["version"], "heads": body.get("heads"),
            "model": (body.get("model") or {}).get("version"),
            "changed": {n: v for n, v in values.items() if n in published and published[n] != v}}  # fmt: skip


def run_config(name: str, url: str, psp_url: str, opts: SimOptions, say: Callable[[str], None]) -> tuple[ConfigResult, list[str]]:  # fmt: skip
    started = time.perf_counter()
    missing: list[str] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        ranked_with = live_parameters(client)
        products: dict[str, dict[str, Any]] = {}
        for region in world.EUR_REGIONS:
            products.update(world.catalogue(client, region))
        slugs = world.category_slugs(client)
        truth = {pid: world.truth_for(opts.seed, p, slugs) for pid, p in products.items()}
        topics = sorted({t.topic for t in truth.values()}) or ["none"]
        shops = sh.merchant_tokens(client, world.SCALE["merchants"]) if _has_returns_api(client) else None
        if shops is None:
            missing.append("after-sale returns API: returns are counted by the simulator (the shopper's decision); "
                           "the platform only sees the unhappy comment that goes with each return")  # fmt: skip
        elif not shops:
            missing.append("no shop owner could sign in (not the demo marketplace?): returns are counted by the "
                           "simulator and not recorded by the platform")  # fmt: skip
        mode = CONFIGS.get(name, ("quality", None))[1]
        people = sh.make_shoppers(opts.shoppers, opts.seed, topics, world.EUR_REGIONS)
        tag = f"{name}-{opts.seed}-{int(time.time())}" if opts.url else name
        with ThreadPoolExecutor(opts.workers) as pool:
            list(pool.map(lambda s: sh.register(client, psp_url, s, tag), people))
            if mode:
                list(pool.map(lambda s: client.put("/api/v1/feed/settings", headers=s.headers,
                                                   json={"mode": mode}).raise_for_status(), people))  # fmt: skip
            result = ConfigResult(name, sh.Tally(), parameters=ranked_with)
            for rnd in range(opts.rounds):
                tally = sh.Tally()
                for t in pool.map(lambda s: sh.after_sale(client, s, shops), people):
                    tally.add(t)
                for t in pool.map(lambda s, r=rnd: sh.Session(client, s, truth, mode, r).run(), people):
                    tally.add(t)
                result.per_round.append(tally)
                result.total.add(tally)
                say(f"{name}: round {rnd + 1}/{opts.rounds}: {tally.impressions} clips, {tally.purchases} purchases, "
                    f"{tally.returns} returns")  # fmt: skip
            for t in pool.map(lambda s: sh.after_sale(client, s, shops), people):  # the last deliveries
                result.total.add(t)
                result.per_round[-1].add(t)
        at_end = live_parameters(client)  # refitted during the run?
        result.parameters.update(heads_at_end=at_end["heads"], model_at_end=at_end["model"])
    result.seconds = time.perf_counter() - started
    return result, missing


def run_simulation(opts: SimOptions, say: Callable[[str], None] = print) -> Report:
    """Each configuration ``repeat`` times, alternating (q, e, n, q, e, n, ...) so that a drift in the
    machine's speed falls on every configuration alike."""
    results: list[ConfigResult] = []
    missing: set[str] = set()
    runs = range(1, max(opts.repeat, 1) + 1)
    if opts.url:
        for run in runs:
            for name in opts.configs:
                res, miss = run_config(name, opts.url, opts.psp_url or "http://127.0.0.1:8765", opts, say)
                res.run = run
                results.append(res)
                missing.update(miss)
        return Report(opts, results, sorted(missing), ["drove the server at " + opts.url])
    root = opts.keep or Path(tempfile.mkdtemp(prefix="etalage-simulate-"))
    try:
        template = root / "template"
        if not (template / "etalage.db").exists():
            say("building the marketplace (demo builder, simulation scale)")
            world.build_template(template, opts.seed)
        for run in runs:
            for name in opts.configs:
                ranker = CONFIGS[name][0]
                label = name if opts.repeat <= 1 else f"{name} (run {run}/{opts.repeat})"
                say(f"{label}: starting a copy of the marketplace (ranker preset '{ranker}')")
                copy = root / (name if opts.repeat <= 1 else f"{name}-{run}")
                changes = opts.overrides if ranker == "quality" else {}
                with world.platform(template, copy, ranker=ranker, overrides=changes,
                                    refit_seconds=opts.refit_seconds) as plat:  # fmt: skip
                    res, miss = run_config(name, plat.url, plat.psp_url, opts, say)
                res.run = run
                results.append(res)
                missing.update(miss)
                if opts.keep is None:
                    shutil.rmtree(copy, ignore_errors=True)
    finally:
        if opts.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return Report(opts, results, sorted(missing))
