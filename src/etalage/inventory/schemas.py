"""Inventory request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class MovementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variant_id: Annotated[str, StringConstraints(max_length=40)]
    warehouse_id: Annotated[str, StringConstraints(max_length=40)]
    kind: Literal["receive", "remove", "count"] = Field(
        description="receive: units arrived; remove: damaged or lost; count: a stocktake (quantity = counted)."
    )
    quantity: int = Field(ge=0, le=1_000_000)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
    reference: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        None, description="Your document number (delivery note, count sheet)."
    )


class LevelOut(BaseModel):
    variant_id: str
    warehouse_id: str
    product_id: str
    region_code: str
    warehouse_active: bool
    on_hand: int
    reserved: int
    available: int
    updated_at: datetime


class MovementOut(BaseModel):
    id: int
    variant_id: str
    warehouse_id: str
    kind: str
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    reason: str
    actor: str
    reference: str | None
    created_at: datetime
