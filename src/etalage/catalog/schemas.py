"""Catalog request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from etalage.core.money import CurrencyCode, Money

RegionCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
TaxClass = Literal["standard", "reduced", "super_reduced", "zero"]
OptionName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
OptionValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
MAX_PRICE = 100_000_000_000  # a billion in major units: anything larger is a typo


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PriceIn(StrictModel):
    region_code: RegionCode
    amount: int = Field(
        gt=0, le=MAX_PRICE, description="Minor units; VAT included in VAT regions, excluded in the US."
    )
    currency: CurrencyCode | None = Field(None, description="Optional; must be the region's currency.")


class VariantIn(StrictModel):
    sku: Sku
    options: dict[OptionName, OptionValue] = Field(default_factory=dict, max_length=5)
    prices: list[PriceIn] = Field(default_factory=list, max_length=20)


class ProductIn(StrictModel):
    title: Title
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    brand: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    category_id: Annotated[str, StringConstraints(max_length=40)] | None = None
    tax_class: TaxClass = "standard"
    status: Literal["draft", "active"] = "draft"
    variants: list[VariantIn] = Field(min_length=1, max_length=50)

    @field_validator("variants")
    @classmethod
    def _unique_skus(cls, value: list[VariantIn]) -> list[VariantIn]:
        skus = [v.sku for v in value]
        if len(set(skus)) != len(skus):
            raise ValueError("SKUs must be unique within the product")
        return value


class ProductPatch(StrictModel):
    title: Title | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    brand: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    category_id: Annotated[str, StringConstraints(max_length=40)] | None = None
    tax_class: TaxClass | None = None
    status: Literal["draft", "active", "archived"] | None = None


class VariantPatch(StrictModel):
    options: dict[OptionName, OptionValue] | None = Field(None, max_length=5)
    status: Literal["active", "archived"] | None = None


class PriceSet(StrictModel):
    amount: int = Field(gt=0, le=MAX_PRICE)
    currency: CurrencyCode | None = None


class RegionPrice(BaseModel):
    region_code: str
    amount: int
    currency: str


class VariantOut(BaseModel):
    id: str
    sku: str
    options: dict[str, str]
    status: str
    prices: list[RegionPrice]
    price: Money | None = Field(None, description="In the region asked for (public views).")
    available: int | None = Field(None, description="Units that can be delivered into the region asked for.")
    regular_price: Money | None = Field(None, description="Set when ``price`` is reduced (public views).")
    lowest_price_30d: Money | None = Field(
        None, description="EU regions, when reduced: the lowest price of the 30 days before (Omnibus)."
    )
    sale_ends_at: datetime | None = Field(None, description="When the running flash sale ends.")
    sale_left: int | None = Field(None, description="Units left at the flash-sale price.")


class MediaOut(BaseModel):
    id: str
    url: str
    width: int
    height: int
    alt: str


class ProductOut(BaseModel):
    id: str
    merchant_id: str
    title: str
    description: str
    brand: str | None
    category_id: str | None
    tax_class: str
    status: str
    variants: list[VariantOut]
    media: list[MediaOut]
    created_at: datetime
    updated_at: datetime

    @property
    def variant_ids(self) -> list[str]:
        return [v.id for v in self.variants]


class CategoryIn(StrictModel):
    slug: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
    parent_id: Annotated[str, StringConstraints(max_length=40)] | None = None


class CategoryOut(BaseModel):
    id: str
    slug: str
    name: str
    parent_id: str | None
