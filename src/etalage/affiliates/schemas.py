"""Affiliate bodies: rates, commissions, totals per video or period, a merchant's liabilities per creator."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from etalage.affiliates.rates import MAX_RATE_BP


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class RateIn(StrictModel):
    rate_bp: int = Field(ge=0, le=MAX_RATE_BP, description="Basis points of the net price (1000 = 10 %).")
    product_id: Annotated[str, StringConstraints(pattern=r"^prd_[0-9A-Za-z]{26}$")] | None = Field(
        None, description="Only this product; without it, every product of the merchant."
    )
    reason: Reason = ""


class RateOut(BaseModel):
    product_id: str | None
    rate_bp: int
    updated_by: str
    updated_at: datetime


class RateChangeOut(BaseModel):
    product_id: str | None
    from_bp: int | None
    to_bp: int
    actor: str
    reason: str
    created_at: datetime


class RatesOut(BaseModel):
    merchant_id: str
    max_rate_bp: int
    region_defaults_bp: dict[str, int]  # where the merchant set nothing ("*": every other region)
    merchant_rate_bp: int | None
    products: list[RateOut]
    changes: list[RateChangeOut]


class CommissionOut(BaseModel):
    id: str
    creator_id: str
    merchant_id: str
    order_id: str
    video_id: str | None
    live_room_id: str | None
    region_code: str
    currency: str
    base_amount: int
    rate_bp: int
    amount: int
    reversed_amount: int
    net_amount: int
    status: str
    lines: list[dict[str, Any]]
    accrued_at: datetime
    delivered_at: datetime | None
    payable_at: datetime | None
    paid_at: datetime | None


class TotalsRow(BaseModel):
    key: str  # a video or live room id, or a period (YYYY-MM / YYYY-MM-DD)
    currency: str
    orders: int
    base_amount: int
    pending: int
    payable: int
    paid: int
    reversed: int


class LiabilityRow(BaseModel):
    creator_id: str
    creator_name: str
    currency: str
    orders: int
    pending: int
    payable: int
    paid: int
    reversed: int


class PayCreatorIn(StrictModel):
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class PaidOut(BaseModel):
    creator_id: str
    currency: str
    commissions: int
    amount: int
