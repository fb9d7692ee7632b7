"""The ``etalage`` command line: serve, run, demo, db, users, worker, and each domain's own commands."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import tempfile
import time
from typing import Annotated

import typer
from rich.console import Console

from etalage.config import get_settings
from etalage.core import serving

console = Console()
app = typer.Typer(
    no_args_is_help=True, help="Etalage: an open social-commerce platform.", add_completion=False
)
db_app = typer.Typer(no_args_is_help=True, help="Database migrations.")
users_app = typer.Typer(no_args_is_help=True, help="Manage users.")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")


def _pin_numeric_threads() -> None:
    # NumPy/BLAS threads fight the server's threads on a small machine; one per process is fastest.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def _sqlite_behind(url: str) -> bool:
    from pathlib import Path

    path = url.split("?", 1)[0].removeprefix("sqlite:///")  # sqlite:///relative or sqlite:////absolute
    if path and path != ":memory:" and not Path(path).exists():
        return True  # a new data folder: known without importing the data layer
    from etalage.db import at_head

    return not at_head(url)


def _check_ranking_parameters() -> None:
    """The operator's changes to the ranking parameters, checked before anything starts (each worker would
    otherwise fail its start with a traceback)."""
    from etalage.feed.parameters import configured

    try:
        configured()
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL or SQLite).")] = 1,
    reload: bool = False,
) -> None:
    """Serve the web app and API."""
    gc.disable()  # while importing the app; its lifespan turns collection back on (see etalage.asgi)
    import uvicorn

    _pin_numeric_threads()
    settings = get_settings()
    _check_ranking_parameters()
    settings.ensure_dirs()
    upgrading = None
    if settings.should_auto_migrate:
        if workers == 1 and settings.is_sqlite and not reload and _sqlite_behind(settings.db_url):
            # A new (or older) database: migrate it in a process of its own, on the other core, while this
            # one imports the app; the app's start then waits for it (the two share a migration lock).
            import subprocess

            upgrading = subprocess.Popen(
                [sys.executable, "-c", "import gc, sys; gc.disable(); from etalage.db import upgrade; "
                 "upgrade(sys.argv[1])", settings.db_url]  # fmt: skip
            )
        else:
            from etalage.db import upgrade_if_behind

            upgrade_if_behind(settings.db_url)  # once, before workers start, so they never race on it
    if workers > 1 and not settings.redis_url:
        console.print("[yellow]note:[/] with several workers and no ETALAGE_REDIS_URL, live-room chat and "
                      "instant feed removals reach only the viewers of the same worker process; "
                      "set ETALAGE_REDIS_URL to fan them out.")
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Each worker process counts its own requests; /metrics aggregates them from this folder.
        import shutil

        metrics_dir = settings.data_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    console.print(f"[bold]Etalage[/] on http://{host}:{port}  (database: {settings.db_url.split('@')[-1]})")
    options = dict(app="etalage.asgi:app", log_level="warning", access_log=False, proxy_headers=False)
    if workers > 1 and not reload and serving.available():
        # Each worker on a socket of its own, so that connections opened together are spread over the workers
        # (uvicorn's workers share one socket, and the first to wake took them all; see etalage.core.serving).
        try:
            code = serving.serve(host, port, workers, timeout_s=settings.worker_timeout_seconds, **options)
        except serving.CannotServe as exc:
            console.print(f"[red]cannot serve:[/] {exc}")
            raise typer.Exit(2) from exc
        if code:
            raise typer.Exit(code)
    else:
        uvicorn.run(host=host, port=port, workers=workers, reload=reload, **options)
    if upgrading is not None:
        upgrading.wait()


@app.command()
def run(
    host: str = "127.0.0.1",
    port: int = 8000,
    scale: Annotated[str, typer.Option(help="Demo size: 'full' or 'small'.")] = "full",
) -> None:
    """Set up the database, load the demo marketplace if it is empty, and serve it."""
    from etalage import demo
    from etalage.db import Database, upgrade

    settings = get_settings()
    settings.ensure_dirs()
    upgrade(settings.db_url)
    db = Database(settings.db_url)
    try:
        if demo.is_empty(db):
            demo.build(db, settings, scale=scale, console=console)
        else:
            console.print("Demo data already present; serving it. (Delete the data folder to start over.)")
    finally:
        db.dispose()
    serve(host=host, port=port, workers=1, reload=False)


@app.command("demo")
def demo_command(
    scale: Annotated[
        str, typer.Option(help="'full' (the believable marketplace) or 'small' (for tests).")
    ] = "full",
    seed: int = 7,
) -> None:
    """Create a believable demo marketplace (regions, merchants, products, videos, shoppers, interactions)."""
    from etalage import demo
    from etalage.db import Database, upgrade

    settings = get_settings()
    settings.ensure_dirs()
    upgrade(settings.db_url)
    db = Database(settings.db_url)
    try:
        if not demo.is_empty(db):
            console.print("[yellow]The database already has data; the demo only fills an empty one.[/]")
            raise typer.Exit(1)
        started = time.perf_counter()
        summary = demo.build(db, settings, scale=scale, seed=seed, console=console)
        console.print(f"Demo ready in {time.perf_counter() - started:.1f} s: {summary}")
    finally:
        db.dispose()


@app.command()
def worker(poll: float = 1.0) -> None:
    """Run background jobs (transcoding, webhooks, reservation expiry, model refits)."""
    from etalage.app import domain_modules
    from etalage.core.jobs import Worker, registered_kinds
    from etalage.db import Database

    _pin_numeric_threads()
    domain_modules("api")
    domain_modules("jobs")
    settings = get_settings()
    db = Database(settings.db_url)
    console.print(f"Worker running; job kinds: {', '.join(registered_kinds()) or 'none'}")
    w = Worker(db, poll_seconds=poll)
    with contextlib.suppress(KeyboardInterrupt):
        w.run_forever()


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from etalage.db import upgrade

    settings = get_settings()
    settings.ensure_dirs()
    upgrade(settings.db_url, revision)
    console.print(f"Database at {revision}.")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ('base' empties the database)."""
    from etalage.db import downgrade

    downgrade(get_settings().db_url, revision)
    console.print(f"Database at {revision}.")


@db_app.command("current")
def db_current() -> None:
    from etalage.db import Database, current_revision, head_revision

    settings = get_settings()
    db = Database(settings.db_url)
    console.print(f"current: {current_revision(db.engine)}  head: {head_revision(settings.db_url)}")
    db.dispose()


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Option("-m", "--message")]) -> None:
    """(Developers) autogenerate the next migration from the models, against a scratch SQLite database."""
    from alembic import command

    from etalage.db import MIGRATIONS_DIR, alembic_config, import_all_models, upgrade

    import_all_models()  # the metadata autogenerate compares with
    # Numbered revisions keep the single linear history readable: 0001, 0002, ...
    number = len(list((MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))) + 1
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/scratch.db"
        upgrade(url)
        command.revision(alembic_config(url), message=message, autogenerate=True, rev_id=f"{number:04d}")


@users_app.command("create")
def users_create(
    email: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    role: Annotated[list[str] | None, typer.Option(help="shopper, creator, moderator or admin; repeatable.")] = None,
) -> None:
    """Create a user (e.g. the first admin)."""
    from pydantic import TypeAdapter, ValidationError

    from etalage.accounts import service
    from etalage.accounts.schemas import Email, Password, Role
    from etalage.core.errors import Problem
    from etalage.db import Database, upgrade

    role = role or ["shopper"]
    try:
        email = TypeAdapter(Email).validate_python(email)
        TypeAdapter(Password).validate_python(password)
        roles = [TypeAdapter(Role).validate_python(r) for r in role]
    except ValidationError as exc:
        console.print(f"[red]Invalid input:[/] {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from None
    settings = get_settings()
    settings.ensure_dirs()
    if settings.should_auto_migrate:
        upgrade(settings.db_url)
    db = Database(settings.db_url)
    try:
        with db.session() as s:
            user = service.register_user(
                s, email=email, password=password, display_name=name or email.split("@")[0], roles=roles
            )
        console.print(f"Created {user.id} <{user.email}> roles={','.join(user.roles)}")
    except Problem as exc:
        console.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    finally:
        db.dispose()


def _mount_domain_clis() -> None:
    """A domain may offer ``etalage.<domain>.cli:app`` (a Typer app), mounted as ``etalage <domain> ...``."""
    import importlib
    import pkgutil
    from pathlib import Path

    import etalage

    root = Path(etalage.__path__[0])
    for info in sorted(pkgutil.iter_modules(etalage.__path__), key=lambda m: m.name):
        if info.ispkg and (root / info.name / "cli.py").exists():
            module = importlib.import_module(f"etalage.{info.name}.cli")
            if hasattr(module, "app"):
                app.add_typer(module.app, name=info.name)
            for name, command in getattr(module, "top_level_commands", {}).items():
                app.command(name)(command)


_mount_domain_clis()


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
