"""``etalage events …``: run the consumers, replay them, look at the log, apply retention."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from etalage.config import get_settings

app = typer.Typer(no_args_is_help=True, help="The interaction event log and its consumers.")
console = Console()


def _open():  # type: ignore[no-untyped-def]
    from etalage.app import domain_modules
    from etalage.db import Database
    from etalage.events.service import consumers, event_log

    domain_modules("jobs")  # other domains register their consumers there

    settings = get_settings()
    db = Database(settings.db_url)
    log = event_log(settings)
    return settings, db, log, {c.name: c for c in consumers(log, db)}


@app.command()
def consume() -> None:
    """Run every consumer until interrupted (beside `etalage worker`, when the server's is off)."""
    from etalage.events.consumer import ConsumerThreads

    _, _db, log, found = _open()
    threads = ConsumerThreads(list(found.values()))
    threads.start()
    console.print(f"Consuming the {log.name} log: {', '.join(found)}")
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)
    threads.stop()


@app.command()
def replay(
    consumer: Annotated[str, typer.Argument(help="Consumer name, e.g. 'engagement'.")],
    from_offset: Annotated[
        int, typer.Option("--from", help="0: forget the state and rebuild from the start.")
    ] = 0,
) -> None:
    """Replay a consumer from an offset (its handler is idempotent) or rebuild it from scratch."""
    _, _db, _log, found = _open()
    if consumer not in found:
        console.print(f"[red]No consumer {consumer!r}; there are: {', '.join(found)}[/]")
        raise typer.Exit(2)
    c = found[consumer]
    if from_offset <= 0:
        c.reset()
    else:
        c.seek(from_offset)
    started = time.perf_counter()
    n = c.run_until_caught_up()
    console.print(
        f"{consumer}: {n:,} events applied in {time.perf_counter() - started:.1f} s; at {c.position():,}"
    )


@app.command()
def status() -> None:
    """The log's backend and newest offset, and how far behind each consumer is."""
    _, _db, log, found = _open()
    last = log.last_offset()
    console.print(f"{log.name} event log: newest offset {last:,}")
    table = Table()
    for column in ("consumer", "position", "lag"):
        table.add_column(column)
    for name, c in found.items():
        position = c.position()
        table.add_row(name, f"{position:,}", f"{max(0, last - position):,}")
    console.print(table)


@app.command()
def tail(
    count: Annotated[int, typer.Option("-n", help="How many of the newest events.")] = 20,
    follow: Annotated[bool, typer.Option("-f", help="Keep printing new events.")] = False,
) -> None:
    """Print the newest events as JSON lines (pseudonymous keys only: the log holds nothing else)."""
    _, _db, log, _ = _open()
    offset = max(1, log.last_offset() - count + 1)
    stop = threading.Event()
    with contextlib.suppress(KeyboardInterrupt):
        while not stop.is_set():
            batch = log.read(offset, 1000, wait=1.0 if follow else 0.0)
            for event in batch:
                print(orjson.dumps({"offset": event.offset, **event.data}).decode())
            if batch:
                offset = batch[-1].offset + 1
            elif not follow:
                break


@app.command()
def trim(
    keep_days: Annotated[int, typer.Option(help="Keep events received in the last N days.")] = 90,
) -> None:
    """Retention for the embedded log (on NATS, set the stream's max age instead)."""
    _, _db, log, _ = _open()
    if not hasattr(log, "trim"):
        console.print(
            "[yellow]The NATS log keeps what its stream's limits say: set max_age on the stream.[/]"
        )
        raise typer.Exit(1)
    deleted = log.trim(int((time.time() - keep_days * 86_400) * 1000))
    console.print(f"Deleted {deleted:,} events received more than {keep_days} days ago.")
