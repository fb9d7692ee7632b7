"""ASGI entry point for uvicorn workers: ``uvicorn etalage.asgi:app``."""

import gc

# Importing the app allocates some 300,000 long-lived objects (classes, routes, tables); collecting
# garbage among them while they are made took a sixth of the start. The app's lifespan turns collection
# back on once it has started, and freezes these objects out of later collections.
gc.disable()

from etalage.app import create_app  # noqa: E402

app = create_app()
