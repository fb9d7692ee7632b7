"""Promotion request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from etalage.core.money import CurrencyCode, Money

Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{3,32}$")]
Region = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Id = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,4}_[0-9A-Za-z]{8,32}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
MAX_AMOUNT = 100_000_000_000


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VoucherIn(StrictModel):
    """A voucher. ``percent`` (1–100) or ``amount`` (minor units of ``currency``), not both."""

    code: Code
    percent: int | None = Field(None, ge=1, le=100, description="Percent off eligible items.")
    amount: int | None = Field(None, ge=1, le=MAX_AMOUNT, description="Fixed amount off, minor units.")
    currency: CurrencyCode | None = None
    min_spend: int = Field(
        0, ge=0, le=MAX_AMOUNT, description="Minimum spend on eligible items, minor units."
    )
    region_code: Region | None = None
    starts_at: datetime | None = Field(None, description="Default: now.")
    ends_at: datetime
    per_user_limit: int = Field(1, ge=1, le=1000)
    max_uses: int | None = Field(None, ge=1, le=10_000_000, description="Uses in total; null: unlimited.")
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""

    @model_validator(mode="after")
    def _one_value(self) -> VoucherIn:
        if (self.percent is None) == (self.amount is None):
            raise ValueError("give either percent or amount")
        for t in (self.starts_at, self.ends_at):
            if t is not None and t.tzinfo is None:
                raise ValueError("times need a time zone (e.g. 2026-12-01T00:00:00Z)")
        return self


class VoucherOut(BaseModel):
    id: str
    code: str
    merchant_id: str | None
    funded_by: Literal["merchant", "platform"]
    kind: Literal["percent", "fixed"]
    percent: float | None
    amount: Money | None
    min_spend: Money | None
    region_code: str | None
    starts_at: datetime
    ends_at: datetime
    per_user_limit: int
    max_uses: int | None
    used: int
    status: Literal["active", "ended", "scheduled", "expired"]
    description: str
    created_at: datetime


class EndIn(StrictModel):
    reason: Reason = "ended by the merchant"


class FlashSaleIn(StrictModel):
    variant_id: Id
    region_code: Region
    price: int = Field(
        ge=1, le=MAX_AMOUNT, description="The sale price, minor units of the region's currency."
    )
    quantity: int = Field(ge=1, le=1_000_000, description="Units sold at this price, at most.")
    starts_at: datetime | None = Field(None, description="Default: now.")
    ends_at: datetime

    @model_validator(mode="after")
    def _aware(self) -> FlashSaleIn:
        for t in (self.starts_at, self.ends_at):
            if t is not None and t.tzinfo is None:
                raise ValueError("times need a time zone (e.g. 2026-12-01T00:00:00Z)")
        return self


class FlashSaleOut(BaseModel):
    id: str
    merchant_id: str
    product_id: str
    variant_id: str
    region_code: str
    price: Money
    regular_price: Money | None
    quantity: int
    sold: int
    left: int
    starts_at: datetime
    ends_at: datetime
    status: Literal["active", "ended", "scheduled", "expired"]
    created_at: datetime


class VariantPriceOut(BaseModel):
    """A variant's price now in a region, with what EU law asks to show when it is reduced."""

    variant_id: str
    region_code: str
    price: Money | None = Field(description="What a shopper pays now (a running flash sale's price, if any).")
    regular_price: Money | None
    reduced: bool
    lowest_price_30d: Money | None = Field(
        None,
        description="Where the price is reduced in an EU region: the lowest price of the 30 days before the "
        "reduction (Omnibus Directive 2019/2161, art. 6a).",
    )
    flash_sale: FlashSaleOut | None = None


class DiscountOut(BaseModel):
    voucher_id: str
    code: str
    amount: Money
    funded_by: Literal["merchant", "platform"]
    released: bool
