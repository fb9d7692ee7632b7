"""Webhook bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from etalage.webhooks.outbox import EVENT_TYPES

EventType = Literal[
    "*",
    "order.created",
    "order.paid",
    "shipment.created",
    "shipment.delivered",
    "return.requested",
    "return.approved",
    "return.rejected",
    "return.received",
    "return.refunded",
    "payout.created",
    "payout.paid",
]
assert set(EventType.__args__) == {"*", *EVENT_TYPES}  # type: ignore[attr-defined]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2000)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EndpointIn(StrictModel):
    url: Url = Field(examples=["https://shop.example.com/etalage/webhooks"])
    event_types: list[EventType] = Field(min_length=1, max_length=20)
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    enabled: bool = True


class EndpointPatch(StrictModel):
    url: Url | None = None
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=20)
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    enabled: bool | None = None


class EndpointOut(BaseModel):
    id: str
    merchant_id: str
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    created_at: datetime
    updated_at: datetime


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(description="Signs every delivery; shown only now (and when rotated).")


class DeliveryOut(BaseModel):
    endpoint_id: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None


class EventOut(BaseModel):
    id: str
    type: str
    ordering_key: str
    created_at: datetime
    data: dict[str, Any]
    deliveries: list[DeliveryOut]


class AttemptOut(BaseModel):
    id: int
    event_id: str
    endpoint_id: str
    attempt: int
    at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    succeeded: bool


class ReplayRangeIn(StrictModel):
    since: datetime
    until: datetime | None = None
    event_types: list[EventType] | None = None


class ReplayOut(BaseModel):
    requeued: int
