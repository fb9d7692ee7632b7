"""Payments request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class PaymentMethodIn(BaseModel):
    """A token from the provider's client API: card details go to the provider, never to Etalage."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_]{6,64}$")]
    make_default: bool = False


class PaymentMethodOut(BaseModel):
    id: str
    type: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    is_default: bool
    created_at: datetime


class PaymentOut(BaseModel):
    id: str
    status: str
    amount: int
    currency: str
    method_type: str
    brand: str | None
    last4: str | None
    captured_amount: int
    refunded_amount: int
    decline_code: str | None
    next_action: dict | None = Field(
        None, description="What the shopper must do (3-D Secure, bank approval): open url."
    )


class ProviderConfigOut(BaseModel):
    tokenize_url: str = Field(
        description="POST card or wallet details here from the shopper's device to get a token."
    )
    method_types: list[str]
    local_methods: dict[str, list[str]] = Field(description="Local methods and the regions they work in.")


class WebhookAck(BaseModel):
    received: int
    new: int
