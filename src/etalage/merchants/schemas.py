"""Merchants request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

RegionCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=20)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+[1-9][0-9 ]{6,18}$")]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
IdDocumentType = Literal["passport", "id_card", "eid", "company_extract"]
Decision = Literal["verify", "reject", "suspend", "reinstate"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TraderDetailsIn(StrictModel):
    """DSA Art. 30(1): the trader's identity, contact, ID document, payment account, trade register."""

    legal_name: Text200 | None = None
    address_line1: Text200 | None = None
    address_line2: Text200 | None = None
    postal_code: PostalCode | None = None
    city: Text100 | None = None
    country: RegionCode | None = None
    phone: Phone | None = Field(None, description="International format, e.g. +32 2 123 45 67.")
    email: Email | None = None
    id_document_type: IdDocumentType | None = None
    id_document_ref: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=200)] | None
    ) = Field(
        None,
        description="Reference of the ID document or eID check (the document stays with the KYC provider).",
    )
    payment_account: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=64)] | None
    ) = Field(None, description="IBAN (checked), or the account number for non-IBAN countries.")
    trade_register_name: Text200 | None = None
    trade_register_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64)] | None
    ) = None
    self_certification: bool | None = Field(
        None,
        description="I commit to offer only products that comply with the applicable EU law (Art. 30(1)(e)).",
    )


class TraderProfileOut(BaseModel):
    merchant_id: str
    status: str
    status_reason: str | None
    legal_name: str | None
    address_line1: str | None
    address_line2: str | None
    postal_code: str | None
    city: str | None
    country: str | None
    phone: str | None
    email: str | None
    id_document_type: str | None
    id_document_ref: str | None
    payment_account: str | None = Field(description="Masked except for moderators.")
    trade_register_name: str | None
    trade_register_number: str | None
    self_certified_at: datetime | None
    submitted_at: datetime | None
    decided_at: datetime | None
    missing: list[str] = Field(description="What still has to be filled in before submitting.")


class PublicTraderOut(BaseModel):
    """What shoppers see about a verified trader (DSA Art. 30(7))."""

    merchant_id: str
    name: str
    legal_name: str
    address: str
    country: str
    phone: str
    email: str
    trade_register_name: str | None
    trade_register_number: str | None
    self_certified: bool
    verified_at: datetime | None


class DecisionIn(StrictModel):
    decision: Decision
    reason: Reason


class StatusEventOut(BaseModel):
    from_status: str | None
    to_status: str
    actor_id: str
    reason: str
    created_at: datetime


class ReviewItemOut(BaseModel):
    merchant_id: str
    name: str
    status: str
    legal_name: str | None
    country: str | None
    submitted_at: datetime | None


class WarehouseIn(StrictModel):
    name: Text100
    operator: Literal["merchant", "fulfilment_partner"] = "merchant"
    partner_name: Text200 | None = None
    address_line1: Text200
    address_line2: Text200 | None = None
    postal_code: PostalCode
    city: Text100
    state: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    region_code: RegionCode


class WarehousePatch(StrictModel):
    name: Text100 | None = None
    active: bool | None = None
    partner_name: Text200 | None = None


class WarehouseOut(BaseModel):
    id: str
    merchant_id: str
    name: str
    operator: str
    partner_name: str | None
    address_line1: str
    address_line2: str | None
    postal_code: str
    city: str
    state: str | None
    region_code: str
    active: bool
    created_at: datetime
