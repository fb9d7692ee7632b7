"""Money: integer minor units plus an ISO 4217 currency code. Never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# ISO 4217 minor-unit exponents for the currencies Etalage launches with.
MINOR_UNITS = {"EUR": 2, "USD": 2, "GBP": 2, "IDR": 2, "JPY": 0, "CHF": 2, "PLN": 2, "SEK": 2, "DKK": 2}

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: int = Field(description="Amount in minor units (cents).")
    currency: CurrencyCode

    def __add__(self, other: Money) -> Money:
        _same_currency(self, other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        _same_currency(self, other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def format(self) -> str:
        return format_minor(self.amount, self.currency)


def _same_currency(a: Money, b: Money) -> None:
    if a.currency != b.currency:
        raise ValueError(f"cannot combine {a.currency} with {b.currency}")


def minor_exponent(currency: str) -> int:
    return MINOR_UNITS.get(currency, 2)


def format_minor(amount: int, currency: str) -> str:
    exp = minor_exponent(currency)
    value = Decimal(amount).scaleb(-exp)
    return f"{value:,.{exp}f} {currency}"


def percent_of(amount: int, basis_points: int) -> int:
    """``amount * bp / 10000`` rounded half-to-even: the rounding tax authorities expect on a line."""
    return int(
        (Decimal(amount) * Decimal(basis_points) / Decimal(10_000)).quantize(Decimal(1), ROUND_HALF_EVEN)
    )


def split_proportionally(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` over ``weights`` so the parts sum exactly to ``total`` (largest remainder)."""
    if not weights:
        return []
    wsum = sum(weights)
    if wsum == 0:
        parts = [0] * len(weights)
        parts[0] = total
        return parts
    raw = [Decimal(total) * w / wsum for w in weights]
    parts = [int(r) for r in raw]
    remainder = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: abs(remainder)]:
        parts[i] += 1 if remainder > 0 else -1
    return parts
