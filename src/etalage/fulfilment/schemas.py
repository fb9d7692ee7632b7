"""Request and response bodies for shipments, returns and the platform's fulfilment centres."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from etalage.core.money import Money

Id = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,4}_[0-9A-Za-z]{8,32}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
Quantity = Annotated[int, Field(ge=1, le=10_000)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitsIn(StrictModel):
    variant_id: Id
    quantity: Quantity


class ShipmentIn(StrictModel):
    carrier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=50)]
    tracking_number: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=4, max_length=64, pattern=r"^[A-Za-z0-9 .\-/]+$"),
    ]
    lines: Annotated[list[UnitsIn], Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="Units in this parcel; all units still to ship when left out."
    )
    fulfilled_by: Literal["merchant", "platform"] | None = Field(
        default=None, description="'platform' for parcels from the platform's centres (platform staff only)."
    )


class DeliveredIn(StrictModel):
    delivered_at: AwareDatetime | None = Field(default=None, description="The carrier's delivery scan.")
    reason: Reason = "delivered (carrier)"


class EventOut(BaseModel):
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    created_at: datetime


class ShipmentLineOut(BaseModel):
    variant_id: str
    product_id: str
    quantity: int


class ShipmentOut(BaseModel):
    id: str
    order_id: str
    merchant_id: str
    fulfilled_by: str
    carrier: str
    tracking_number: str
    tracking_url: str | None
    status: Literal["shipped", "delivered"]
    shipped_at: datetime
    delivered_at: datetime | None
    lines: list[ShipmentLineOut]
    events: list[EventOut]


class ReturnIn(StrictModel):
    lines: Annotated[list[UnitsIn], Field(min_length=1, max_length=200)]
    reason: Reason


class DecisionIn(StrictModel):
    decision: Literal["approve", "reject"]
    reason: Reason


class ReceiptIn(StrictModel):
    restock: bool = Field(default=True, description="False when the goods cannot be sold again.")
    reason: Reason = "goods received back"


class ReturnRefundIn(StrictModel):
    amount: Money | None = Field(default=None, description="The return's value when left out.")
    reason: Reason = "refund for a return"


class ReturnLineOut(BaseModel):
    variant_id: str
    product_id: str
    quantity: int
    value: Money


class ReturnOut(BaseModel):
    id: str
    order_id: str
    merchant_id: str
    status: Literal["requested", "approved", "rejected", "received", "refunded"]
    reason: str
    decision_reason: str | None
    auto_approved: bool
    value: Money
    refund: Money | None
    refund_id: str | None
    answer_by: datetime
    created_at: datetime
    updated_at: datetime
    lines: list[ReturnLineOut]
    events: list[EventOut]


class CentreIn(StrictModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
    address_line1: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=20)]
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    state: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    region_code: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class CentreOut(BaseModel):
    id: str
    name: str
    address_line1: str
    postal_code: str
    city: str
    state: str | None
    region_code: str


class EnrolIn(StrictModel):
    centre_id: Id


class EnrolmentOut(BaseModel):
    id: str
    merchant_id: str
    centre_id: str
    warehouse_id: str
    created_at: datetime
