"""``etalage payments …``: run the test PSP, reconcile stuck payments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from etalage.config import get_settings

app = typer.Typer(no_args_is_help=True, help="Payments: the test payment provider, reconciliation.")
console = Console()


@app.command("psp")
def psp(
    host: str = "127.0.0.1",
    port: int = 8765,
    data: Annotated[
        Path | None, typer.Option(help="SQLite file of the PSP (default: <data dir>/psp.db).")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="Secret API key (default: ETALAGE_PSP_API_KEY).")
    ] = None,
    webhook_secret: Annotated[
        str | None, typer.Option(help="Webhook signing secret (default: ETALAGE_PSP_WEBHOOK_SECRET).")
    ] = None,
    slow_seconds: Annotated[
        float, typer.Option(help="How long the 'slow' test card (4000 0000 0000 0119) takes.")
    ] = 30.0,
) -> None:
    """Run the test payment service provider (cards, 3-D Secure, local methods, signed webhooks)."""
    import uvicorn

    from etalage.payments.psp.app import create_psp_app
    from etalage.payments.psp.store import Store

    settings = get_settings()
    path = data or settings.data_dir / "psp.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    application = create_psp_app(
        Store(path),
        api_key=api_key or settings.psp_api_key,
        webhook_secret=webhook_secret or settings.psp_webhook_secret,
        slow_seconds=slow_seconds,
        public_url=f"http://{host}:{port}",
    )
    console.print(f"Test PSP on http://{host}:{port}  (data: {path})")
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)


@app.command("reconcile")
def reconcile() -> None:
    """Ask the provider about every payment still open past its grace period, and settle them."""
    from etalage.app import domain_modules
    from etalage.db import Database
    from etalage.payments import recovery

    domain_modules("api")  # payment outcomes reach orders through listeners registered by commerce
    settings = get_settings()
    db = Database(settings.db_url)
    try:
        n = recovery.reconcile_open_payments(db, older_than_seconds=0)
        console.print(f"Reconciled {n} payment(s).")
    finally:
        db.dispose()
