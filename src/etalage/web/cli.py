"""``etalage web …``: maintain the interface's message catalogues."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True, help="The web app: message catalogues.")
console = Console()


@app.command()
def messages() -> None:
    """Extract translatable strings and merge them into every language's messages.po."""
    from etalage.web import messages as msgs

    gaps = msgs.update()
    for lang, count in gaps.items():
        console.print(f"{lang}: {'complete' if count == 0 else f'{count} untranslated'}")
