"""Content request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from etalage.core.money import Money

Id = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,6}_[0-9A-Za-z]{10,34}$", max_length=40)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
Region = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)]
Hashtag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- uploads ----------------------------------------------------------------------------------------------


class UploadCreate(StrictModel):
    size: int = Field(ge=0, le=2**53, description="The whole file's size in bytes, declared up front.")
    filename: Annotated[str, StringConstraints(max_length=255)] | None = None
    content_type: Annotated[str, StringConstraints(max_length=100)] | None = None


class UploadOut(BaseModel):
    id: str
    size: int
    offset: int
    state: str
    filename: str | None
    video_id: str | None
    created_at: datetime
    expires_at: datetime
    upload_url: str


# --- videos -----------------------------------------------------------------------------------------------


class ProductTag(StrictModel):
    product_id: Id
    starts_at_ms: int | None = Field(
        None, ge=0, le=24 * 3600 * 1000, description="Featured from this moment."
    )


class VideoMeta(StrictModel):
    caption: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2200)] = ""
    hashtags: list[Hashtag] = Field(default_factory=list, max_length=30)
    language: Language = "en"
    region: Region | None = None
    merchant_id: Id | None = Field(None, description="Post for this merchant (its staff only).")
    products: list[ProductTag] = Field(default_factory=list, max_length=20)
    publish: bool = Field(True, description="Publish as soon as transcoding is done.")

    @field_validator("products")
    @classmethod
    def _distinct(cls, value: list[ProductTag]) -> list[ProductTag]:
        if len({p.product_id for p in value}) != len(value):
            raise ValueError("a product is tagged more than once")
        return value


class VideoCreate(VideoMeta):
    upload_id: Id


class VideoPatch(StrictModel):
    caption: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2200)] | None = None
    hashtags: list[Hashtag] | None = Field(None, max_length=30)
    language: Language | None = None
    region: Region | None = None


class ProductTagsPut(StrictModel):
    products: list[ProductTag] = Field(max_length=20)

    _distinct = field_validator("products")(VideoMeta._distinct.__func__)  # type: ignore[attr-defined]


class VideoModeration(StrictModel):
    action: Literal["reject", "remove", "restore"]
    reason: Reason


class RenditionOut(BaseModel):
    name: str
    url: str
    mime_type: str = "video/mp4"
    width: int
    height: int
    bytes: int


class CommentStats(BaseModel):
    count: int
    mean_sentiment: float | None


class VideoOut(BaseModel):
    id: str
    state: str
    state_reason: str | None = None
    progress: int | None = None
    caption: str
    hashtags: list[str]
    language: str
    region: str | None
    creator_id: str | None
    merchant_id: str | None
    products: list[ProductTag]
    duration_ms: int | None
    width: int | None
    height: int | None
    renditions: list[RenditionOut]
    poster_url: str | None
    comments: CommentStats
    created_at: datetime
    published_at: datetime | None


class VideoEventOut(BaseModel):
    from_state: str | None
    to_state: str
    actor_id: str | None
    actor_role: str
    reason: str | None
    at: datetime


# --- comments ---------------------------------------------------------------------------------------------


class CommentCreate(StrictModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    parent_id: Id | None = None


class CommentOut(BaseModel):
    id: str
    video_id: str
    user_id: str
    author: str
    parent_id: str | None
    text: str
    language: str
    sentiment: float
    reply_count: int
    created_at: datetime


class CommentReportIn(StrictModel):
    reason: Reason


class CommentModeration(StrictModel):
    action: Literal["remove", "restore"]
    reason: Reason


# --- live -------------------------------------------------------------------------------------------------


class LiveSource(StrictModel):
    kind: Literal["clip", "hls"]
    video_id: Id | None = Field(None, description="kind=clip: a ready video of yours, played in a loop.")
    url: Annotated[str, StringConstraints(max_length=1000, pattern=r"^https://\S+\.m3u8(\?\S*)?$")] | None = (
        Field(
            None,
            description="kind=hls: the HLS playlist your packager (e.g. MediaMTX, SRS, nginx-rtmp) serves.",
        )
    )


class RoomCreate(StrictModel):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=140)]
    merchant_id: Id | None = None
    source: LiveSource
    language: Language = "en"
    region: Region | None = None
    scheduled_at: datetime | None = None
    blocked_words: list[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=40)]
    ] = Field(default_factory=list, max_length=200)
    start_now: bool = False


class RoomPatch(StrictModel):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=140)] | None = (
        None
    )
    blocked_words: (
        list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=40)]] | None
    ) = Field(None, max_length=200)


class PinIn(StrictModel):
    product_id: Id


class DealCreate(StrictModel):
    product_id: Id
    variant_id: Id
    price: Money
    quantity: int = Field(ge=1, le=100_000)
    duration_seconds: int = Field(300, ge=10, le=6 * 3600)

    @field_validator("price")
    @classmethod
    def _positive(cls, value: Money) -> Money:
        if not 0 < value.amount <= 10**10:
            raise ValueError("the deal price must be positive")
        return value


class DealOut(BaseModel):
    id: str
    room_id: str
    product_id: str
    variant_id: str
    price: Money
    quantity_cap: int
    quantity_left: int
    starts_at: datetime
    ends_at: datetime
    active: bool


class MuteIn(StrictModel):
    user_id: Id
    minutes: int = Field(10, ge=1, le=7 * 24 * 60)
    reason: Reason


class MessageRemove(StrictModel):
    reason: Reason


class RoomOut(BaseModel):
    id: str
    title: str
    host_user_id: str
    host_name: str
    merchant_id: str | None
    state: str
    language: str
    region: str | None
    playback_url: str | None
    playback_kind: str
    loop: bool
    poster_url: str | None
    pinned_product_id: str | None
    like_count: int
    viewer_count: int
    scheduled_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    websocket_url: str


class LiveMessageOut(BaseModel):
    id: str
    kind: str
    user_id: str | None
    author: str | None
    text: str
    at: datetime


class AttributionOut(BaseModel):
    order_id: str
    merchant_id: str | None
    items: list[dict]
    during_live: bool
    paid_at: datetime


class ModerationActionOut(BaseModel):
    subject_kind: str
    subject_id: str
    action: str
    actor_id: str
    actor_role: str
    reason: str
    at: datetime
