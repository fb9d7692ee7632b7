"""The For You feed over HTTP, and the feed's start-up wiring.

``GET /api/v1/feed`` is the hot path: an ``async`` route that does everything (authentication through
``core.auth``, the pipeline, the answer) in one worker-thread hop on one read session, and serialises with
orjson (the usual dependency chain hops between the event loop and threads several times per request,
which costs more than the ranking itself at hundreds of pages a second).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response
from fastapi.security import HTTPBearer

from etalage.core.auth import OptionalViewer, Viewer, optional_viewer
from etalage.core.deps import DbSession
from etalage.core.errors import Forbidden
from etalage.core.routing import api_router
from etalage.feed import service
from etalage.feed.schemas import FeedPageOut, RankingParameters, ServedRecord, SettingsIn, SettingsOut

log = logging.getLogger("etalage.feed")
router = api_router(prefix="/api/v1", tags=["feed"])
_bearer = HTTPBearer(auto_error=False, description="Optional: a shopper's token personalises the feed.")

ModeQ = Annotated[str | None, Query(pattern="^(personalised|non_profiled)$",
                                    description="Default: your remembered choice, else personalised.")]  # fmt: skip
RegionQ = Annotated[
    str | None, Query(pattern="^[A-Za-z]{2}$", description="Default: your remembered region.")
]
CursorQ = Annotated[str | None, Query(max_length=1024, description="next_cursor of the previous page.")]
LimitQ = Annotated[int | None, Query(ge=1, le=50, description="Items per page (default 10).")]


def _engine_of(request: Request) -> Any:
    """This app's engine (a process may run several apps, e.g. in tests)."""
    return getattr(request.app.state, "feed_engine", None)


@router.get(
    "/feed",
    response_model=FeedPageOut,
    dependencies=[Depends(_bearer)],
    responses={
        400: {"description": "A cursor this API did not issue to you."},
        422: {"description": "Unknown mode or region, or a limit out of bounds."},
        503: {"description": "The feed is starting."},
    },  # fmt: skip
)
async def get_feed(request: Request, mode: ModeQ = None, region: RegionQ = None, cursor: CursorQ = None,
                   limit: LimitQ = None) -> Response:  # fmt: skip
    """One page of the For You feed, each item with why it was chosen.

    Anonymous callers, minors and ``mode=non_profiled`` get the feed that uses no personal data."""

    def page() -> dict[str, Any]:
        with request.app.state.db.session(write=False) as session:
            viewer = optional_viewer(request, session)
            return service.feed_page(session, viewer, mode=mode, region=region, cursor=cursor, limit=limit,
                                     engine_=_engine_of(request))  # fmt: skip

    return Response(orjson.dumps(await run_in_threadpool(page)), media_type="application/json")


@router.get("/feed/served/{served_id}", response_model=ServedRecord)
def get_served(
    served_id: str, request: Request, session: DbSession, viewer: OptionalViewer
) -> dict[str, Any]:
    """A served page as logged (sources, predictions, value parts, adjustments, reasons, the history that
    was read) and its reconstruction. Yours, or any page for moderators (auditors)."""
    return service.served_record(session, viewer, served_id, _engine_of(request))


@router.get("/feed/served/{served_id}/items/{item_id}")
def get_served_item(
    served_id: str, item_id: str, request: Request, session: DbSession, viewer: OptionalViewer
) -> dict[str, Any]:
    """One item of a served page, with the model's exact breakdown ("because you watched X") when the model
    that served it is still loaded."""
    return service.served_item(session, viewer, served_id, item_id, _engine_of(request))


@router.get("/feed/settings", response_model=SettingsOut)
def get_settings(session: DbSession, viewer: Viewer) -> dict[str, Any]:
    return service.get_settings(session, viewer)


@router.put("/feed/settings", response_model=SettingsOut)
def put_settings(body: SettingsIn, session: DbSession, viewer: Viewer) -> dict[str, Any]:
    """Remember your feed mode (personalised / non_profiled) and region."""
    return service.put_settings(session, viewer, mode=body.mode, region=body.region)


@router.get("/feed/ranking-parameters", response_model=RankingParameters)
def ranking_parameters(request: Request) -> dict[str, Any]:
    """The main parameters of the ranking and their weights, as live now (DSA Art. 27)."""
    return service.ranking_parameters(_engine_of(request))


@router.get("/feed/transparency", response_class=PlainTextResponse)
def transparency(request: Request) -> PlainTextResponse:
    """The ranking explained in plain words (Markdown), generated from the live configuration."""
    return PlainTextResponse(
        service.transparency(_engine_of(request)), media_type="text/markdown; charset=utf-8"
    )


@router.get("/feed/status")
def status(request: Request, viewer: Viewer) -> dict[str, Any]:
    """Operational state of this process's feed (moderators and admins)."""
    if not viewer.has_scope("moderation"):
        raise Forbidden("Only moderators and admins see the feed's status.")
    return service.engine(_engine_of(request)).status()


# --- wiring ----------------------------------------------------------------------------------------------


def _pin_blas() -> None:
    # Requests run in parallel threads; BLAS threads on top of them fight for the same cores (measured:
    # 1,200 vs 19 scoring requests a second on 2 cores). One BLAS thread per server process.
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
    except ImportError:  # pragma: no cover
        pass


def startup(app: FastAPI) -> None:
    from etalage.feed import jobs
    from etalage.feed.engine import FeedEngine
    from etalage.feed.settings import get_feed_settings

    _pin_blas()
    settings, db = app.state.settings, app.state.db
    fs = get_feed_settings()
    engine = FeedEngine(db, settings.data_dir, fs, app.state.event_log)
    engine.start()
    service.set_engine(engine, settings.secret_key)
    app.state.feed_engine = engine
    # The first model as soon as there is something to learn from; afterwards the periodic refit.
    try:
        first = engine.state.model is None and fs.startup_refit and app.state.event_log.last_offset() > 0
    except (ConnectionError, TimeoutError, OSError):  # the log is down: serve anyway, learn when it is back
        first = False
    jobs.schedule(db, first=first)


def shutdown(app: FastAPI) -> None:
    engine = getattr(app.state, "feed_engine", None)
    if engine is not None:
        engine.stop()
        service.set_engine(None, remove=engine)
