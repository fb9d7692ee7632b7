"""The demo marketplace: ``etalage demo`` builds it, ``etalage run`` serves it.

Each domain contributes a step (a module in this package with ``STEP = (order, title, function)``); steps
run in order and share a :class:`DemoContext`, so the demo grows with every domain that lands.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from etalage.config import Settings
from etalage.db import Database

DEMO_PASSWORD = "demo-password"

SCALES: dict[str, dict[str, int]] = {
    # The believable marketplace the README promises.
    "full": {
        "merchants": 20,
        "products": 500,
        "videos": 2000,
        "rendered_clips": 24,
        "shoppers": 5000,
        "creators": 60,
        "interactions_per_shopper": 12,
    },
    # Enough of everything for tests and quick looks.
    "small": {
        "merchants": 4,
        "products": 40,
        "videos": 60,
        "rendered_clips": 4,
        "shoppers": 60,
        "creators": 6,
        "interactions_per_shopper": 8,
    },
}


@dataclass
class DemoContext:
    db: Database
    settings: Settings
    scale: dict[str, int]
    rng: random.Random
    progress: Progress
    data: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    # Work a step left running in the background (e.g. ffmpeg renders), awaited after the last step.
    pending: list[Callable[[], None]] = field(default_factory=list)

    def task(self, title: str, total: int) -> Any:
        return self.progress.add_task(title, total=total)


def _steps() -> list[tuple[int, str, Any]]:
    steps = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "STEP"):
            steps.append(module.STEP)
        steps.extend(getattr(module, "STEPS", ()))  # a module with steps at two points of the build
    return sorted(steps, key=lambda s: s[0])


def is_empty(db: Database) -> bool:
    from etalage.accounts.models import User

    with db.read() as s:
        return (s.scalar(select(func.count()).select_from(User)) or 0) == 0


def build(
    db: Database, settings: Settings, *, scale: str = "full", seed: int = 7, console: Console | None = None
) -> dict[str, int]:
    if scale not in SCALES:
        raise ValueError(f"unknown demo scale {scale!r}; choose from {', '.join(SCALES)}")
    console = console or Console()
    columns = (TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        ctx = DemoContext(db, settings, SCALES[scale], random.Random(seed), progress)
        for _order, title, fn in _steps():
            started = time.perf_counter()
            fn(ctx)
            ctx.counts[f"seconds:{title}"] = round(time.perf_counter() - started, 1)
        for wait in ctx.pending:
            wait()
    return {k: v for k, v in ctx.counts.items() if not k.startswith("seconds:")}
