"""Event tests run against both log backends: the embedded SQLite log and NATS JetStream.

NATS needs ``ETALAGE_TEST_NATS_URL`` (CI sets nats://127.0.0.1:4222); without it, or when the server does
not answer, the NATS half is skipped and says why. Each run uses streams of its own, deleted afterwards.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import _TMP, LiveServer, free_port

BACKENDS = ["embedded", "nats"]


def nats_url_or_skip() -> str:
    url = os.environ.get("ETALAGE_TEST_NATS_URL")
    if not url:
        pytest.skip("NATS not configured: set ETALAGE_TEST_NATS_URL (CI sets nats://127.0.0.1:4222)")
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=2).close()
    except OSError as exc:
        pytest.skip(f"NATS at {url} is not reachable: {exc}")
    return url


def new_stream() -> str:
    return f"ETALAGE_TEST_{secrets.token_hex(4).upper()}"


def make_log(backend: str, tmp_path) -> Any:  # type: ignore[no-untyped-def]
    if backend == "nats":
        from etalage.events.log.nats import NatsEventLog

        return NatsEventLog(nats_url_or_skip(), stream=new_stream())
    from etalage.events.log.embedded import EmbeddedEventLog

    return EmbeddedEventLog(tmp_path / "events" / "log.db")


def drop_log(log: Any) -> None:
    if getattr(log, "name", "") == "nats":
        log.delete_stream()
    log.close()


@pytest.fixture(params=BACKENDS)
def event_log(request, tmp_path):  # type: ignore[no-untyped-def]
    log = make_log(request.param, tmp_path)
    yield log
    drop_log(log)


@dataclass
class EventsServer:
    backend: str
    url: str
    app: Any
    settings: Any

    @property
    def log(self) -> Any:
        return self.app.state.event_log


_servers: dict[str, tuple[EventsServer, LiveServer]] = {}


def _start(backend: str, settings, database) -> EventsServer:  # type: ignore[no-untyped-def]
    from etalage.app import create_app

    update: dict[str, Any] = {"data_dir": _TMP / f"events-{backend}"}
    if backend == "nats":
        update |= {"nats_url": nats_url_or_skip(), "events_nats_stream": new_stream()}
    own = settings.model_copy(update=update)
    own.ensure_dirs()
    app = create_app(own, database)
    live = LiveServer(app, free_port())
    live.start()
    server = EventsServer(backend, live.url, app, own)
    _servers[backend] = (server, live)
    return server


@pytest.fixture(scope="session")
def _events_servers():  # type: ignore[no-untyped-def]
    yield _servers
    for server, live in _servers.values():
        if server.backend == "nats":
            server.log.delete_stream()
        live.stop()


@pytest.fixture(params=BACKENDS)
def events_server(request, settings, database, _events_servers, db) -> EventsServer:  # type: ignore[no-untyped-def]
    """A live server whose event log is ``request.param``; the database is emptied after the test."""
    backend = request.param
    if backend == "nats":
        nats_url_or_skip()
    if backend not in _servers:
        _start(backend, settings, database)
    server = _servers[backend][0]
    saved = server.settings.model_dump()
    yield server
    for key, value in saved.items():  # a test may lower limits on the shared server
        setattr(server.settings, key, value)
    server.app.state.limiter.__init__()


@pytest.fixture
def ev_client(events_server):  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=events_server.url, timeout=30) as client:
        yield client


# Most event tests name made-up videos, live rooms and products; the existence checks have tests of their own,
# which ask for ``real_id_checks`` to get the registry the domains filled.
from etalage.events import ids as _ids  # noqa: E402

_REGISTERED = _ids.registered()


@pytest.fixture(autouse=True)
def _made_up_items_exist():  # type: ignore[no-untyped-def]
    for kind, prefix in (("video", "vid"), ("live_room", "lrm"), ("product", "prd"), ("variant", "var")):
        _ids.register_id_validator(kind, lambda _session, wanted: set(wanted), prefix=prefix)
    yield
    _ids.restore(_REGISTERED)


@pytest.fixture
def real_id_checks(_made_up_items_exist):  # type: ignore[no-untyped-def]
    _ids.restore(_REGISTERED)
