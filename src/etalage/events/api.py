"""``POST /api/v1/events``: batches of interaction events into the log, and the domain's start-up wiring.

The route is ``async`` and parses the body itself (orjson, then one Pydantic pass over the events) so one
bad event rejects only itself. It authenticates in a read transaction on the main database (a write
transaction per batch would queue ingest behind every commerce writer on SQLite) and appends to the log
(a SQLite file of its own, or JetStream) only after every check has passed: a 4xx or 5xx answer means
nothing of the batch was stored, and a retry of a stored batch is answered as duplicates.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal, require_scope
from etalage.accounts.deps import CSRF_HEADER, SESSION_COOKIE, optional_principal
from etalage.core import bus, jobs
from etalage.core.errors import Forbidden, InvalidInput, RateLimited, ServiceUnavailable, Unauthorized
from etalage.core.ratelimit import MemoryRateLimiter
from etalage.core.routing import api_router
from etalage.db import utcnow
from etalage.events import ids, metrics, service
from etalage.events.consumer import ConsumerThreads
from etalage.events.ingest import drop_unknown_ids, ids_to_check, prepare
from etalage.events.log import open_event_log
from etalage.events.schemas import EventBatch, IngestResult

log = logging.getLogger("etalage.events")
router = api_router(prefix="/api/v1", tags=["events"])
_bearer = HTTPBearer(auto_error=False, description="An API token with the 'events:write' scope.")


def event_writer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    db = request.app.state.db
    with db.read() as session:
        beacon_csrf = request.query_params.get("csrf_token")
        cookie = request.cookies.get(SESSION_COOKIE)
        if credentials is None and cookie and beacon_csrf and CSRF_HEADER not in request.headers:
            # navigator.sendBeacon cannot set headers: a page leaving sends its CSRF token in the URL
            principal = accounts.principal_for_session(session, cookie)
            if not accounts.csrf_matches(principal, beacon_csrf):
                raise Forbidden("Missing or wrong CSRF token.")
        else:
            principal = optional_principal(request, session, credentials)
    if principal is None:
        raise Unauthorized("Sign in, or send 'Authorization: Bearer <token>'.")
    require_scope(principal, "events:write")
    if principal.pseudonym is None:  # an account from before pseudonyms: give it one now
        from dataclasses import replace

        with db.session() as session:
            principal = replace(principal, pseudonym=accounts.pseudonym_for(session, principal.user_id))
    return principal


EventWriter = Annotated[Principal, Depends(event_writer)]


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The body schema with its $defs inlined, so the OpenAPI document needs no extra components."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node and node["$ref"].startswith("#/$defs/"):
                return walk(defs[node["$ref"].rsplit("/", 1)[1]])
            return {k: walk(v) for k, v in node.items() if k != "discriminator"}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inline_refs(EventBatch.model_json_schema())}},
    }
}


async def _hit(limiter: Any, key: str, limit: int, cost: int = 1) -> Any:
    """A per-minute rate-limit check; Redis is a network call, so it leaves the event loop."""
    if isinstance(limiter, MemoryRateLimiter):
        return limiter.hit(key, limit, 60, cost)
    return await run_in_threadpool(limiter.hit, key, limit, 60, cost)


@router.post(
    "/events",
    response_model=IngestResult,
    openapi_extra=_BODY,
    responses={
        207: {"model": IngestResult, "description": "Some events were stored, some rejected (see rejected)."},
        400: {"description": "The body is not JSON."},
        413: {"description": "More events than the batch limit (max_events), or a body over the byte limit."},
        422: {"description": "Not a batch, or every event was rejected (nothing stored)."},
        429: {"description": "Too many batches or events from this user; see Retry-After."},
        503: {"description": "The log did not confirm the write; retry (retries are de-duplicated)."},
    },
)
async def ingest_events(request: Request, principal: EventWriter) -> Response:
    """Store a batch of interaction events (up to ``events_max_batch``) for the calling user.

    Each event is checked on its own: the answer lists the rejected ones by index with a reason, and the
    rest are stored. Retrying a batch is safe: events already stored (same ``event_id`` and
    ``occurred_at`` for this user) count as duplicates and are not stored again.
    """
    app = request.app
    settings, limiter = app.state.settings, app.state.limiter
    key = principal.pseudonym or ""
    decision = await _hit(limiter, f"events:batches:{key}", settings.event_batches_per_minute)
    if not decision.allowed:
        raise RateLimited(
            "Too many event batches from this user; wait and retry.", retry_after=decision.retry_after
        )
    body = await request.body()
    received = utcnow()
    prepared = prepare(
        body,
        user_key=key,
        received=received,
        max_events=settings.events_max_batch,
        max_age_s=settings.events_max_age_seconds,
        max_future_s=settings.events_max_future_seconds,
    )
    todo = ids_to_check(prepared)
    if todo:  # only ids not confirmed in the last 30 s reach the owning domains' queries
        drop_unknown_ids(prepared, await run_in_threadpool(ids.missing, app.state.db.read, todo))
    if not prepared.events:
        metrics.EVENTS.labels("rejected").inc(len(prepared.rejected))
        raise InvalidInput(
            "Every event of the batch was rejected; nothing was stored.",
            errors=[
                {"loc": f"events.{r['index']}", "message": r["reason"], "type": "rejected"}
                for r in prepared.rejected
            ],
            rejected=prepared.rejected,
        )
    decision = await _hit(limiter, f"events:events:{key}", settings.events_per_minute, len(prepared.events))
    if not decision.allowed:
        raise RateLimited(
            f"More than {settings.events_per_minute} events a minute from this user; nothing of this batch "
            "was stored; retry after the delay.",
            retry_after=decision.retry_after,
        )
    event_log = app.state.event_log
    started = time.perf_counter()
    try:
        results = await event_log.append_async(prepared.events)
    except Exception as exc:
        expected = isinstance(exc, ConnectionError | TimeoutError)  # an outage: no traceback per batch
        log.warning("appending %s events to the %s log failed: %r", len(prepared.events), event_log.name, exc,
                    exc_info=not expected)  # fmt: skip
        raise ServiceUnavailable(
            "The event log did not confirm the write. Retry the same batch: events already stored are "
            "recognised as duplicates.",
            headers={"Retry-After": "1"},
        ) from exc
    metrics.APPEND_SECONDS.labels(event_log.name).observe(time.perf_counter() - started)
    service.notify_appended(event_log, results, prepared.events)
    stored = [r.offset for r in results if not r.duplicate]
    metrics.EVENTS.labels("accepted").inc(len(stored))
    metrics.EVENTS.labels("duplicate").inc(len(results) - len(stored))
    metrics.EVENTS.labels("rejected").inc(len(prepared.rejected))
    answer = {
        "accepted": len(stored),
        "duplicates": len(results) - len(stored),
        "rejected": prepared.rejected,
        "first_offset": min(stored) if stored else None,
        "last_offset": max(stored) if stored else None,
        "received_at": received,
        "clock_skew_ms": prepared.skew_ms,
    }
    return Response(
        orjson.dumps(answer), status_code=207 if prepared.rejected else 200, media_type="application/json"
    )


# --- wiring ----------------------------------------------------------------------------------------------


def startup(app: FastAPI) -> None:
    settings, db = app.state.settings, app.state.db
    event_log = open_event_log(settings)
    app.state.event_log = event_log
    service.set_default_log(event_log)

    def on_order_paid(_topic: str, order: dict[str, Any]) -> None:
        try:
            service.record_purchase(db, event_log, order, secret=settings.secret_key)
        except Exception:
            # The bus is best effort; the job queue is not: keep the purchase for a retry.
            log.exception(
                "recording the purchase of order %s failed; queued for retry", order.get("order_id")
            )
            with db.session() as s:
                jobs.enqueue(
                    s, "events.record_purchase", order, dedupe_key=f"events.purchase:{order.get('order_id')}"
                )

    bus.subscribe(service.ORDER_PAID_TOPIC, on_order_paid)
    app.state.events_on_order_paid = on_order_paid
    app.state.events_consumers = None
    if settings.inprocess_worker:
        threads = ConsumerThreads(service.consumers(event_log, db))
        threads.start()
        app.state.events_consumers = threads


def shutdown(app: FastAPI) -> None:
    handler = getattr(app.state, "events_on_order_paid", None)
    if handler is not None:
        bus.unsubscribe(service.ORDER_PAID_TOPIC, handler)
    threads = getattr(app.state, "events_consumers", None)
    if threads is not None:
        threads.stop()
    if service.event_log_is_default(getattr(app.state, "event_log", None)):
        service.set_default_log(None)  # a stopped app's log must not outlive it as this process's default
