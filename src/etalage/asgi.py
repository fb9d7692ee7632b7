"""ASGI entry point for uvicorn workers: ``uvicorn etalage.asgi:app``."""

from etalage.app import create_app

app = create_app()
