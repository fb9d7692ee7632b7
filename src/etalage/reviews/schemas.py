"""Review request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,4}_[0-9A-Za-z]{8,32}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReviewIn(StrictModel):
    variant_id: Id = Field(description="The variant bought on this order (one review per order line).")
    rating: int = Field(ge=1, le=5)
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class ReplyIn(StrictModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000)]


class ReportIn(StrictModel):
    reason: Reason


class ModerateIn(StrictModel):
    action: Literal["remove", "restore"]
    reason: Reason


class PhotoOut(BaseModel):
    id: str
    url: str
    width: int
    height: int


class ReplyOut(BaseModel):
    text: str
    replied_at: datetime


class ReviewOut(BaseModel):
    id: str
    product_id: str
    variant_id: str
    merchant_id: str
    author: str
    rating: int
    text: str
    verified_purchase: bool = True
    photos: list[PhotoOut]
    reply: ReplyOut | None
    status: Literal["published", "removed"]
    created_at: datetime


class QualityOut(BaseModel):
    """What buyers' experience says about a product or a shop (the feed's quality signals)."""

    ratings: int
    average_rating: float | None
    distribution: dict[str, int] = Field(description="Ratings per star, '1'…'5'.")
    low_rating_share: float | None = Field(description="Share of 1–2 star ratings.")
    orders: int
    return_rate: float | None = Field(description="Returns per paid order.")
    complaint_rate: float | None = Field(description="Complaints per paid order.")
