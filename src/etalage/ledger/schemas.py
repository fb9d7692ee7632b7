"""Ledger bodies: balances, payouts, journal entries, the trial balance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BalanceOut(BaseModel):
    currency: str
    pending: int
    available: int
    in_payout: int


class PayoutOut(BaseModel):
    id: str
    merchant_id: str
    amount: int
    currency: str
    period_start: datetime | None
    period_end: datetime
    status: str
    reference: str | None
    created_at: datetime
    paid_at: datetime | None


class PayoutRunIn(StrictModel):
    period_end: datetime | None = None


class PayoutPaidIn(StrictModel):
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class LineOut(BaseModel):
    account: str
    merchant_id: str | None
    amount: int
    currency: str


class EntryOut(BaseModel):
    id: str
    source_key: str
    kind: str
    order_id: str | None
    memo: str
    created_at: datetime
    lines: list[LineOut]


class TrialBalanceRow(BaseModel):
    account: str
    kind: str
    currency: str
    debit: int
    credit: int
    balance: int


class TrialBalanceOut(BaseModel):
    rows: list[TrialBalanceRow]
    balanced: bool
