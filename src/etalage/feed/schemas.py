"""The feed API's documented shapes. ``GET /api/v1/feed`` answers exactly ``FeedPageOut`` (serialised
directly with orjson on the hot path; these models document it and the tests validate against them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["personalised", "non_profiled"]


class Reason(BaseModel):
    code: str = Field(description="Stable name for translations: taste, follow, session, item_record, quality, "
                      "exploration, diversity, trending, non_profiled.")  # fmt: skip
    text: str = Field(description="Plain words for the 'Why am I seeing this?' panel (English).")
    contribution: float | None = Field(
        description="Effect on the score, in expected purchases (None: context)."
    )
    because_of: str | None = Field(None, description="The item of your history this reason refers to.")


class Explanation(BaseModel):
    source: str = Field(description="The candidate source that proposed the item.")
    source_text: str
    because_of: str | None
    summary: str
    reasons: list[Reason]
    score: float
    value: dict[str, float] = Field(description="Weight × predicted chance, per outcome; sums to the value.")
    adjustments: dict[str, float] = Field(
        description="quality, exploration, diversity: value + these = score."
    )


class Price(BaseModel):
    amount: int
    currency: str


class ProductSummary(BaseModel):
    id: str
    title: str
    merchant_id: str
    image_url: str | None
    price: Price | None = Field(description="The lowest price in the feed's region.")


class Rendition(BaseModel):
    name: str
    url: str
    width: int
    height: int


class VideoCard(BaseModel):
    caption: str
    hashtags: list[str]
    language: str
    creator_id: str | None
    merchant_id: str | None
    duration_ms: int | None
    poster_url: str | None
    renditions: list[Rendition]
    product_ids: list[str]
    product_starts_ms: list[int | None]
    published_at: str | None


class LiveRoomCard(BaseModel):
    title: str
    language: str
    merchant_id: str | None
    pinned_product_id: str | None
    started_at: str | None
    source_video_id: str | None


class FeedItem(BaseModel):
    position: int
    kind: Literal["video", "live_room"]
    id: str
    video: VideoCard | None
    live_room: LiveRoomCard | None
    products: list[ProductSummary]
    source: str
    score: float
    predictions: dict[str, float] = Field(description="Predicted chance of each outcome for you.")
    explanation: Explanation


class FeedPageOut(BaseModel):
    served_id: str | None = Field(description="This page in the served log; send it with the page's events' "
                                  "session_id, and read the decision back at /feed/served/{served_id}.")  # fmt: skip
    chain_id: str
    page: int
    mode: Mode
    mode_reason: str = Field(description="requested | remembered | default | anonymous | minor_protection")
    personalised: bool
    region: str
    model_version: str | None
    params_version: str
    preset: str
    items: list[FeedItem]
    next_cursor: str | None
    end_reason: str | None = Field(description="Why the page is short or the scroll ends: exhausted, repeats, "
                                   "nothing_available, page_limit.")  # fmt: skip


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Mode | None = None
    region: str | None = Field(None, min_length=2, max_length=2, pattern="^[A-Za-z]{2}$")


class SettingsOut(BaseModel):
    mode: Mode
    region: str | None
    remembered: bool
    minor: bool = Field(description="Minors always get the non-profiled feed.")


class ServedRecord(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    chain_id: str
    page: int
    mode: str
    region: str
    model_version: str | None
    params_version: str
    items: list[dict[str, Any]]
    history: list[Any]
    reconstruction: dict[str, Any]


class RankingParameters(BaseModel):
    model_config = ConfigDict(extra="allow")
    preset: str
    version: str
    parameters: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]
