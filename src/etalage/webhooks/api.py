"""Webhook routes for a merchant's staff (their own shop only): endpoints, events, attempts, replays."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response, status

from etalage.accounts.deps import MerchantReader, MerchantWriter
from etalage.core.deps import DbSession
from etalage.core.pagination import Page, PageParams, page_params
from etalage.core.routing import api_router
from etalage.webhooks import service
from etalage.webhooks.jobs import schedule_sweep
from etalage.webhooks.models import WebhookAttempt, WebhookEndpoint
from etalage.webhooks.schemas import (
    AttemptOut,
    EndpointCreatedOut,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EventOut,
    ReplayOut,
    ReplayRangeIn,
)

router = api_router(prefix="/api/v1/merchants/{merchant_id}/webhooks", tags=["webhooks", "merchants"])
Pages = Annotated[PageParams, Depends(page_params)]


def startup(app) -> None:  # type: ignore[no-untyped-def]
    schedule_sweep(app.state.db, next_slot=False)


def endpoint_out(e: WebhookEndpoint) -> EndpointOut:
    return EndpointOut.model_validate(e, from_attributes=True)


def attempt_out(a: WebhookAttempt) -> AttemptOut:
    return AttemptOut.model_validate(a, from_attributes=True)


@router.post("/endpoints", response_model=EndpointCreatedOut, status_code=status.HTTP_201_CREATED)
def create_endpoint(
    merchant_id: str, body: EndpointIn, principal: MerchantWriter, session: DbSession
) -> EndpointCreatedOut:
    """Add an endpoint. The answer holds its signing secret, which is never shown again (rotate to replace)."""
    e = service.create_endpoint(session, principal, merchant_id, body.url, list(body.event_types),
                                body.description, body.enabled)  # fmt: skip
    return EndpointCreatedOut(**endpoint_out(e).model_dump(), secret=e.secret)


@router.get("/endpoints", response_model=list[EndpointOut])
def list_endpoints(merchant_id: str, principal: MerchantReader, session: DbSession) -> list[EndpointOut]:
    return [endpoint_out(e) for e in service.list_endpoints(session, principal, merchant_id)]


@router.get("/endpoints/{endpoint_id}", response_model=EndpointOut)
def get_endpoint(
    merchant_id: str, endpoint_id: str, principal: MerchantReader, session: DbSession
) -> EndpointOut:
    return endpoint_out(service.get_endpoint(session, principal, merchant_id, endpoint_id))


@router.patch("/endpoints/{endpoint_id}", response_model=EndpointOut)
def update_endpoint(
    merchant_id: str, endpoint_id: str, body: EndpointPatch, principal: MerchantWriter, session: DbSession
) -> EndpointOut:
    return endpoint_out(service.update_endpoint(session, principal, merchant_id, endpoint_id, body))


@router.post("/endpoints/{endpoint_id}/rotate-secret", response_model=EndpointCreatedOut)
def rotate_secret(
    merchant_id: str, endpoint_id: str, principal: MerchantWriter, session: DbSession
) -> EndpointCreatedOut:
    """A new signing secret (shown once); deliveries from now on are signed with it."""
    e = service.rotate_secret(session, principal, merchant_id, endpoint_id)
    return EndpointCreatedOut(**endpoint_out(e).model_dump(), secret=e.secret)


@router.delete("/endpoints/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_endpoint(
    merchant_id: str, endpoint_id: str, principal: MerchantWriter, session: DbSession
) -> Response:
    service.delete_endpoint(session, principal, merchant_id, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/endpoints/{endpoint_id}/replay", response_model=ReplayOut)
def replay_range(
    merchant_id: str, endpoint_id: str, body: ReplayRangeIn, principal: MerchantWriter, session: DbSession
) -> ReplayOut:
    """Send again every event recorded for this endpoint in a time range (same event ids: deduplicate)."""
    n = service.replay_range(session, principal, merchant_id, endpoint_id, body.since, body.until,
                             list(body.event_types) if body.event_types else None)  # fmt: skip
    return ReplayOut(requeued=n)


@router.get("/events", response_model=Page[EventOut])
def list_events(
    merchant_id: str,
    principal: MerchantReader,
    session: DbSession,
    params: Pages,
    type: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[EventOut]:
    """Events recorded for the shop, newest first, with each endpoint's delivery state."""
    items, cursor = service.list_events(session, principal, merchant_id, params, type)
    return Page(items=items, next_cursor=cursor)


@router.post("/events/{event_id}/replay", response_model=ReplayOut)
def replay_event(
    merchant_id: str,
    event_id: str,
    principal: MerchantWriter,
    session: DbSession,
    endpoint_id: Annotated[str | None, Query(max_length=40)] = None,
) -> ReplayOut:
    return ReplayOut(requeued=service.replay_event(session, principal, merchant_id, event_id, endpoint_id))


@router.get("/attempts", response_model=Page[AttemptOut])
def list_attempts(
    merchant_id: str,
    principal: MerchantReader,
    session: DbSession,
    params: Pages,
    event_id: Annotated[str | None, Query(max_length=40)] = None,
    endpoint_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[AttemptOut]:
    """Every delivery attempt: when, the status code, how long it took, the error."""
    rows, cursor = service.list_attempts(session, principal, merchant_id, params, event_id=event_id,
                                         endpoint_id=endpoint_id)  # fmt: skip
    return Page(items=[attempt_out(a) for a in rows], next_cursor=cursor)
