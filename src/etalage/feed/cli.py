"""``etalage feed ...`` commands. Mounted by the main CLI; also runnable as
``python -m etalage.feed.cli evaluate --data ../shared/data/kuairec``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from etalage.feed.threads import cpu_count, pin_env

# Before numpy loads its BLAS when this is the entry point; harmless otherwise (setdefault).
pin_env(cpu_count())

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from etalage.feed.evaluate_choices import ALL_MODELS, ETALAGE_RANKS  # noqa: E402

if TYPE_CHECKING:
    from etalage.feed.evaluate import EvaluationReport

app = typer.Typer(help="Feed recommender: offline evaluation and model tools.", no_args_is_help=True)


@app.callback()
def _feed() -> None:
    """Feed recommender: offline evaluation and model tools."""


def _fmt(v: object, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _params_text(p: dict) -> str:
    parts = []
    for k, v in p.items():
        if isinstance(v, dict):
            v = " ".join(f"{kk}:{_fmt(vv, 2)}" for kk, vv in v.items())
            parts.append(f"{k}=({v})")
        else:
            parts.append(f"{k}={_fmt(v, 3) if isinstance(v, float) else v}")
    return ", ".join(parts) or "-"


def build_table(report: EvaluationReport) -> Table:
    title = (
        f"Feed models on {report.data or 'data'} (test split; {report.n_users} users, {report.n_items} items)"
    )
    table = Table(title=title, caption=report.tuning_note)
    table.add_column("model", style="bold")
    for k in report.ks:
        table.add_column(f"Recall@{k}", justify="right")
    for k in report.ks:
        table.add_column(f"NDCG@{k}", justify="right")
    table.add_column("Coverage@20", justify="right")
    if report.has_auc:
        table.add_column("AUC", justify="right")
    table.add_column("fit s", justify="right")
    table.add_column("hyperparameters (chosen on the tuning split)", overflow="fold", min_width=30)
    for r in report.results:
        row = [r.name]
        row += [_fmt(r.metrics[f"recall@{k}"]) for k in report.ks]
        row += [_fmt(r.metrics[f"ndcg@{k}"]) for k in report.ks]
        row.append(_fmt(r.metrics["coverage@20"], 3))
        if report.has_auc:
            row.append(_fmt(r.metrics["auc"], 3))
        row += [f"{r.fit_seconds:.1f}", _params_text(r.params)]
        table.add_row(*row, style="green" if r.name == "etalage" else None)
    return table


@app.command()
def evaluate(
    data: Path = typer.Option(..., "--data", help="Directory holding interactions.csv (or the csv itself)."),
    k: str = typer.Option("10,20,50", "--k", help="Cut-offs, comma separated."),
    out: Path | None = typer.Option(None, "--out", help="Write the figures as JSON here."),
    models: str = typer.Option(",".join(ALL_MODELS), "--models", help="Comma-separated subset of models."),
    max_users: int = typer.Option(
        0, "--max-users", help="Evaluate a fixed random subset of users (0 = all)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the user subset."),
    ranks: str = typer.Option(
        ",".join(str(r) for r in ETALAGE_RANKS), "--ranks", help="Low-rank sizes tried for Etalage."
    ),
    save_model: Path | None = typer.Option(
        None, "--save-model", help="Save the tuned Etalage model snapshot here."
    ),
) -> None:
    """Fit Etalage's model and the baselines on train, tune on valid, report on test."""
    from etalage.feed.dataset import load_interactions

    # Wide enough for the table when piped to a file or CI log (Rich defaults to 80 columns).
    console = Console(width=None if sys.stdout.isatty() else 220)
    try:
        ks = [int(x) for x in k.split(",") if x.strip()]
        rank_list = [int(x) for x in ranks.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"--k and --ranks take comma-separated integers, got {k!r} / {ranks!r}"
        ) from None
    chosen = [m.strip() for m in models.split(",") if m.strip()]
    try:
        dataset = load_interactions(data)
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if max_users:
        dataset = dataset.subsample_users(max_users, seed)
    name = Path(data).name if Path(data).is_dir() else Path(data).parent.name
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} models"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("loading", total=len(chosen))

        def say(msg: str) -> None:
            bar.update(task, description=msg[:70])
            bar.console.log(msg)

        from etalage.feed.evaluate import run_evaluation  # numpy/scipy only when evaluating

        try:
            report, model = run_evaluation(
                dataset,
                name,
                chosen,
                ks,
                progress=say,
                step_done=lambda _m: bar.advance(task),
                etalage_ranks=rank_list,
            )
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
    console.print(build_table(report))
    gain = report.improvement()
    best = report.best_baseline()
    if gain is not None and best is not None:
        ours = next(r for r in report.results if r.name == "etalage")
        console.print(
            f"Etalage NDCG@20 {ours.metrics['ndcg@20']:.4f} vs best baseline {best.name} "
            f"{best.metrics['ndcg@20']:.4f}: [bold]{gain * 100:+.1f}%[/bold]"
        )
    if out is not None:
        out.write_text(json.dumps(report.to_dict(), indent=2))
        console.print(f"wrote {out}")
    if save_model is not None and model is not None:
        model.save(str(save_model), report.to_dict())
        console.print(f"saved model snapshot to {save_model}")


@app.command()
def bench(
    items: int = typer.Option(100_000, "--items", help="Catalogue size."),
    users: int = typer.Option(10_000, "--users", help="Number of users."),
    events: int = typer.Option(1_000_000, "--events", help="Approximate number of interactions."),
    rank: int = typer.Option(64, "--rank", help="Low-rank size of the collaborative component."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Fit/score/update/snapshot timings of Etalage's model on a synthetic log of the given size."""
    from etalage.feed.bench import run_bench

    console = Console(width=None if sys.stdout.isatty() else 120)
    with console.status(f"fitting on {users} users × {items} items × ~{events} events"):
        res = run_bench(users, items, events, rank, seed)
    table = Table(title="Etalage model at scale (synthetic log; speed only)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in res.items():
        table.add_row(key, str(value))
    console.print(table)


# --- the online feed (etalage feed refit | transparency; etalage simulate) --------------------------------


@app.command()
def refit(
    evaluate: bool = typer.Option(True, help="Also measure a time-split hold-out first (a second fit)."),
) -> None:
    """Fit a new model snapshot from the event log now (the worker does this every refit period)."""
    from etalage.config import get_settings
    from etalage.db import Database
    from etalage.events.service import event_log
    from etalage.feed.jobs import refit as run_refit

    settings = get_settings()
    db = Database(settings.db_url)
    try:
        manifest = run_refit(db, settings.data_dir, event_log(settings), evaluate=evaluate)
    finally:
        db.dispose()
    Console().print_json(data={k: manifest[k] for k in ("version", "event_offset", "n_items", "evaluation")})


@app.command()
def transparency(out: Path | None = typer.Option(None, "--out", help="Write the page here.")) -> None:
    """The ranking transparency page (Markdown), generated from the configured parameters (the preset and
    ETALAGE_FEED_RANKING_OVERRIDES)."""
    from etalage.feed.transparency import default_document

    try:
        text = default_document()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)


def simulate(
    shoppers: int = typer.Option(100, help="Synthetic shoppers (the same ones in every configuration)."),
    rounds: int = typer.Option(
        4, help="Rounds: each shopper visits once per round; returns arrive a round later."
    ),
    seed: int = typer.Option(7),
    url: str | None = typer.Option(None, help="Drive this running server instead of starting copies."),
    psp_url: str | None = typer.Option(None, help="Its test PSP (with --url)."),
    configs: str = typer.Option("quality-aware,engagement-only,non-profiled", help="Comma-separated."),
    keep: Path | None = typer.Option(None, help="Keep the marketplace copies in this folder."),
    out: Path | None = typer.Option(None, help="Folder for the chart and JSON (default: bench/results)."),
    repeat: int = typer.Option(1, help="Runs of each configuration on the same world (reported: their mean, "
                               "and every run)."),
    set_: list[str] = typer.Option([], "--set", help="Change a parameter of the quality-aware ranker for this "
                                   "run, NAME=VALUE (VALUE as JSON), e.g. --set quality_return_weight=2; "
                                   "default: ETALAGE_FEED_RANKING_OVERRIDES, as the server would."),
    refit_every: float | None = typer.Option(None, help="Seconds between the servers' full refits (model and "
                                             "scoring heads); default: as configured (hourly), which a run of "
                                             "minutes never reaches."),
) -> None:
    """Synthetic shoppers use the platform over HTTP; compare the quality-aware ranker, an engagement-only
    one and the non-profiled feed (GMV, conversion, engagement-to-conversion, return rate) with a chart."""
    import time

    from etalage.feed.simulate import SimOptions, run_simulation
    from etalage.feed.simulate import report as rep
    from etalage.feed.simulate.runner import CONFIGS

    chosen = tuple(c.strip() for c in configs.split(",") if c.strip())
    unknown = [c for c in chosen if c not in CONFIGS]
    if unknown or shoppers < 1 or rounds < 1 or repeat < 1 or (refit_every is not None and refit_every < 1):
        raise typer.BadParameter(f"configs are {', '.join(CONFIGS)}; shoppers, rounds and repeat at least 1; "
                                 "refit-every at least 1 second")
    overrides = _parameter_changes(set_)
    console = Console(width=None if sys.stdout.isatty() else 160)
    opts = SimOptions(shoppers=shoppers, rounds=rounds, seed=seed, url=url, psp_url=psp_url, configs=chosen,
                      keep=keep, repeat=repeat, overrides=overrides, refit_seconds=refit_every)  # fmt: skip
    if overrides:
        console.log(f"quality-aware ranker with {json.dumps(overrides)}")
    report = run_simulation(opts, say=lambda m: console.log(m))
    runs = f", mean of {repeat} runs" if repeat > 1 else ""
    table = Table(title=f"etalage simulate ({shoppers} shoppers × {rounds} rounds, seed {seed}{runs})")
    data = rep.rows(report)
    for col in data[0]:
        table.add_column(col, justify="left" if col == "config" else "right")
    for r in data:
        table.add_row(*(_fmt(v, 3) if isinstance(v, float) else str(v) for v in r.values()))
    console.print(table)
    verdict = rep.verdict(report)
    if verdict:
        console.print(
            f"quality-aware vs engagement-only{' (means)' if repeat > 1 else ''}: return rate "
            f"{verdict['return_rate_quality']:.1%} vs {verdict['return_rate_engagement']:.1%}, GMV "
            f"{verdict['gmv_change']:+.1%} → [bold]{'met' if verdict['met'] else 'NOT met'}[/bold] (lower returns "
            f"at ≥ −5 % GMV)"
        )
        if repeat > 1:
            each = ", ".join(f"{p['gmv_change']:+.1%}{'' if p['met'] else ' (not met)'}" for p in verdict["pairs"])
            console.print(f"run by run, GMV change: {each}; met in {verdict['runs_met']} of {verdict['runs']}")
    for line in report.missing:
        console.print(f"[yellow]missing:[/yellow] {line}")
    folder = out or (Path("bench/results") if Path("bench/results").is_dir() else Path("."))
    png, js = rep.save(report, folder, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    console.print(f"chart: {png}\nfigures: {js}")


def _parameter_changes(pairs: list[str]) -> dict[str, Any]:
    """``--set NAME=VALUE`` pairs (VALUE read as JSON, else as text), checked against the published
    parameters; without any, the environment's overrides (what ``etalage serve`` would run)."""
    from etalage.feed.parameters import preset, with_overrides
    from etalage.feed.settings import FeedSettings

    if not pairs:
        changes = dict(FeedSettings().ranking_overrides)
    else:
        changes = {}
        for pair in pairs:
            name, sep, raw = pair.partition("=")
            if not sep or not name.strip():
                raise typer.BadParameter(f"--set takes NAME=VALUE; got {pair!r}")
            try:
                changes[name.strip()] = json.loads(raw)
            except json.JSONDecodeError:
                changes[name.strip()] = raw
    try:
        with_overrides(preset("quality"), changes)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return changes


top_level_commands = {"simulate": simulate}


if __name__ == "__main__":
    app()
