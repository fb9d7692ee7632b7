"""Run the benchmarks: ``python -m bench [name ...] [--quick] [--backend sqlite|postgres]``.

Each ``bench/bench_<name>.py`` exposes ``run(ctx: BenchContext) -> list[dict]`` (rows made with
``bench.common.row``). Prints one table and writes ``bench/results/<name>-<time>.json`` and
``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import time
import traceback
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.common import BenchContext, postgres_available, row

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(
        m.name[len("bench_") :] for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_")
    )


def main() -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(available())})"
    )
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke check")
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    console = Console()
    backends = args.backend or (["sqlite", "postgres"] if postgres_available() else ["sqlite"])
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    ctx = BenchContext(quick=args.quick, backends=backends, results_dir=results_dir)
    rows: list[dict] = []
    for name in args.names or available():
        console.rule(f"bench {name}")
        module = importlib.import_module(f"bench.bench_{name}")
        started = time.perf_counter()
        try:
            rows += module.run(ctx)
        except Exception as exc:
            traceback.print_exc()
            rows.append(row(name, "error", None, "", notes=f"{exc.__class__.__name__}: {exc}"))
        console.print(f"{name} took {time.perf_counter() - started:.0f} s")

    table = Table(title="Etalage benchmarks")
    for col in ("bench", "backend", "metric", "value", "unit", "target", "notes"):
        table.add_column(col, overflow="fold")
    for r in rows:
        value = r["value"]
        shown = "" if value is None else (f"{value:,.2f}" if isinstance(value, float) else f"{value:,}")
        table.add_row(
            r["bench"],
            r.get("backend", ""),
            r["metric"],
            shown,
            r["unit"],
            r.get("target", ""),
            r.get("notes", ""),
        )
    console.print(table)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    report = {
        "created_at": stamp,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "quick": args.quick,
        "rows": rows,
    }
    label = "-".join(args.names) if args.names else "all"
    for path in (results_dir / f"{label}-{stamp}.json", results_dir / "latest.json"):
        path.write_text(json.dumps(report, indent=2, default=str))
    console.print(f"wrote {results_dir / f'{label}-{stamp}.json'}")
    return 1 if any(r["metric"] == "error" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
