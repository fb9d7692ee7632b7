"""Commerce request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from etalage.core.money import CurrencyCode, Money

RegionCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Id = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,4}_[0-9A-Za-z]{8,32}$")]
VoucherCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{3,32}$"),
    Field(description="A voucher code."),
]
MAX_QUANTITY = 99  # per line: more is a wholesale order, or a typo


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceIn(StrictModel):
    """Where the shopper was when they decided to buy: a video, or a live room (at most one)."""

    video_id: Id | None = None
    live_room_id: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> SourceIn:
        if self.video_id and self.live_room_id:
            raise ValueError("give video_id or live_room_id, not both")
        return self


class AddressIn(StrictModel):
    recipient: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
    line1: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=20)]
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    state: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    country: RegionCode
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ]{6,20}$")] | None = (
        None
    )
    make_default: bool = False


class AddressOut(BaseModel):
    id: str
    recipient: str
    line1: str
    line2: str | None
    postal_code: str
    city: str
    state: str | None
    country: str
    phone: str | None
    is_default: bool


class BuyNowIn(StrictModel):
    """One tap from a video: everything else comes from the shopper's saved defaults."""

    variant_id: Id
    quantity: int = Field(1, ge=1, le=MAX_QUANTITY)
    expected_unit_amount: int | None = Field(
        None, ge=1, description="The price shown; refused if it changed."
    )
    source: SourceIn | None = None
    address_id: Id | None = None
    payment_method_id: Id | None = None
    return_url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://")] | None = None
    voucher_code: VoucherCode | None = None


class CartCheckoutIn(StrictModel):
    address_id: Id | None = None
    payment_method_id: Id | None = None
    expected_total: Money | None = Field(None, description="The total shown; refused if it differs.")
    return_url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://")] | None = None
    voucher_code: VoucherCode | None = None


class CartLineSet(StrictModel):
    quantity: int = Field(ge=0, le=MAX_QUANTITY, description="0 removes the line.")
    source: SourceIn | None = None


class CartPatch(StrictModel):
    region_code: RegionCode


class CartLineOut(BaseModel):
    variant_id: str
    product_id: str | None
    merchant_id: str | None
    title: str | None
    sku: str | None
    quantity: int
    unit_price: Money = Field(description="The price you saw when adding it.")
    current_price: Money | None = Field(None, description="The price now (null: no longer sold here).")
    source_video_id: str | None
    source_live_room_id: str | None


class CartOut(BaseModel):
    region_code: str
    lines: list[CartLineOut]
    subtotal: Money
    updated_at: datetime | None


class OrderLineOut(BaseModel):
    product_id: str
    variant_id: str
    sku: str
    title: str
    options: dict[str, Any]
    quantity: int
    unit_price: Money
    tax_rate_bp: int
    tax: Money
    total: Money


class OrderOut(BaseModel):
    id: str
    checkout_id: str
    merchant_id: str
    status: str
    region_code: str
    lines: list[OrderLineOut]
    subtotal: Money
    discount: Money = Field(description="Vouchers, already taken off the lines' totals (before tax).")
    shipping: Money
    tax: Money
    total: Money
    tax_included: bool
    refunded: Money
    ship_to: dict[str, Any]
    source_video_id: str | None
    source_live_room_id: str | None
    created_at: datetime
    paid_at: datetime | None
    next_states: list[str] = Field(default_factory=list, description="Where this order may go next.")


class OrderEventOut(BaseModel):
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    created_at: datetime


class OrderDetailOut(OrderOut):
    events: list[OrderEventOut]


class PaymentSummary(BaseModel):
    id: str
    status: str
    amount: Money
    method_type: str
    brand: str | None
    last4: str | None
    next_action: dict[str, Any] | None = None


class CheckoutOut(BaseModel):
    checkout_id: str
    status: Literal["paid", "requires_action", "processing", "declined", "failed", "cancelled"]
    total: Money
    orders: list[OrderOut]
    payment: PaymentSummary
    next_action: dict[str, Any] | None = Field(
        None, description="Open next_action.url for the shopper to approve."
    )


class TransitionIn(StrictModel):
    to: Literal["fulfilling", "shipped", "delivered", "completed"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class RefundIn(StrictModel):
    amount: Money
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class RefundOut(BaseModel):
    id: str
    order_id: str | None
    amount: Money
    status: str
    reason: str
    created_at: datetime


class CancelIn(StrictModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)] = (
        "changed my mind"
    )


class RegionOut(BaseModel):
    code: str
    name: str
    currency: str
    languages: list[str]
    launched: bool
    tax: str = Field(
        description="'vat' (prices include VAT) or 'us_sales_tax' (added at checkout, by state)."
    )
    vat_rates_bp: dict[str, int]
    min_purchase_age: int | None
    shipping_fee: Money
    free_shipping_over: Money | None
    return_window_days: int = Field(description="Days a shopper may return goods, counted from delivery.")


class LaunchIn(StrictModel):
    launched: bool
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class ShippingRateIn(StrictModel):
    fee: int = Field(ge=0, le=1_000_000_000, description="Minor units, in the region's currency.")
    free_over: int | None = Field(None, ge=1, le=100_000_000_000)


class ShippingRateOut(BaseModel):
    region_code: str
    fee: Money
    free_over: Money | None


class CurrencyOnly(BaseModel):
    currency: CurrencyCode
