"""The interaction events a client may send, and the ingest answer.

Events are TypedDicts under one discriminated union (on ``type``): Pydantic validates them straight from
the parsed JSON into plain dicts, with no model objects to build and dump again on the hot path. Every
number and string is bounded; unknown fields are refused. ``purchase`` is not here: the server writes it
when an order is paid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, with_config
from typing_extensions import TypedDict

MAX_DWELL_MS = 6 * 3600 * 1000  # a view longer than six hours is a device left on, not a signal
MAX_WATCH_RATIO = 10.0  # replays: a 10-second clip watched ten times over
MAX_SCROLL_VELOCITY = 100_000.0  # pixels per second; faster is a broken sensor

ClientEventId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
# Ids are a short lowercase prefix and a 26-character ULID body (etalage.db.new_id).
EntityId = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,5}_[0-9A-HJKMNP-TV-Z]{26}$")]
SessionId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
Surface = Literal["for_you", "following", "live", "search", "profile", "product", "cart", "other"]
Dwell = Annotated[int, Field(ge=0, le=MAX_DWELL_MS, description="Milliseconds on screen.")]
WatchRatio = Annotated[float, Field(ge=0, le=MAX_WATCH_RATIO, description="Watched time / clip length.")]
Position = Annotated[int, Field(ge=0, le=10_000, description="Slot in the feed or list, from 0.")]


@with_config(ConfigDict(extra="forbid"))
class _Common(TypedDict):
    event_id: Annotated[
        ClientEventId, Field(description="Unique per event on this device; retries repeat it.")
    ]
    occurred_at: Annotated[AwareDatetime, Field(description="When it happened, by the device clock.")]
    session_id: NotRequired[SessionId]
    surface: NotRequired[Surface]
    position: NotRequired[Position]


class _OnMedia(_Common):
    """Exactly one of video_id / live_room_id."""

    video_id: NotRequired[EntityId]
    live_room_id: NotRequired[EntityId]


class Impression(_OnMedia):
    type: Literal["impression"]


class ViewStart(_OnMedia):
    type: Literal["view_start"]


class ViewEnd(_OnMedia):
    type: Literal["view_end"]
    dwell_ms: Dwell
    watch_ratio: NotRequired[WatchRatio]


class Scroll(_Common):
    type: Literal["scroll"]
    velocity: Annotated[float, Field(ge=-MAX_SCROLL_VELOCITY, le=MAX_SCROLL_VELOCITY)]
    video_id: NotRequired[EntityId]


class Like(_OnMedia):
    type: Literal["like"]
    undo: NotRequired[bool]


class Share(_OnMedia):
    type: Literal["share"]
    product_id: NotRequired[EntityId]
    channel: NotRequired[Literal["link", "message", "social", "other"]]


class Comment(_OnMedia):
    type: Literal["comment"]
    comment_id: NotRequired[EntityId]


class Follow(_Common):
    type: Literal["follow"]
    creator_id: EntityId
    undo: NotRequired[bool]
    video_id: NotRequired[EntityId]
    live_room_id: NotRequired[EntityId]


class ProductClick(_Common):
    type: Literal["product_click"]
    product_id: EntityId
    video_id: NotRequired[EntityId]
    live_room_id: NotRequired[EntityId]


class AddToCart(_Common):
    type: Literal["add_to_cart"]
    product_id: EntityId
    variant_id: NotRequired[EntityId]
    quantity: NotRequired[Annotated[int, Field(ge=1, le=99)]]
    video_id: NotRequired[EntityId]
    live_room_id: NotRequired[EntityId]


class Skip(_OnMedia):
    type: Literal["skip"]
    dwell_ms: NotRequired[Dwell]


class NotInterested(_OnMedia):
    type: Literal["not_interested"]
    product_id: NotRequired[EntityId]
    reason: NotRequired[Literal["seen_it", "not_relevant", "creator", "product", "other"]]


class Report(_OnMedia):
    """A signal for ranking only; a formal notice (DSA Art. 16) goes through the compliance API."""

    type: Literal["report"]
    comment_id: NotRequired[EntityId]
    reason: Literal["spam", "scam", "counterfeit", "offensive", "dangerous", "minor_safety", "other"]


ClientEvent = Annotated[
    Impression
    | ViewStart
    | ViewEnd
    | Scroll
    | Like
    | Share
    | Comment
    | Follow
    | ProductClick
    | AddToCart
    | Skip
    | NotInterested
    | Report,
    Field(discriminator="type"),
]
CLIENT_EVENT_TYPES = [
    "impression",
    "view_start",
    "view_end",
    "scroll",
    "like",
    "share",
    "comment",
    "follow",
    "product_click",
    "add_to_cart",
    "skip",
    "not_interested",
    "report",
]
EVENT_TYPES = (*CLIENT_EVENT_TYPES, "purchase")
# Events that must name the media they happened on (exactly one of video_id / live_room_id).
NEEDS_MEDIA = frozenset({"impression", "view_start", "view_end", "like", "comment", "skip", "report"})

events_adapter: TypeAdapter[list[Any]] = TypeAdapter(list[ClientEvent])


class EventBatch(BaseModel):
    """The request body of ``POST /api/v1/events`` (documentation; the route parses it itself)."""

    model_config = ConfigDict(extra="forbid")

    sent_at: AwareDatetime | None = Field(
        None, description="The device clock when sending; lets the server correct the device's clock skew."
    )
    platform: Literal["ios", "android", "web", "other"] | None = None
    app_version: Annotated[str, StringConstraints(max_length=32, pattern=r"^[A-Za-z0-9._+-]+$")] | None = None
    events: list[ClientEvent] = Field(max_length=500)


@with_config(ConfigDict(extra="forbid"))
class _Envelope(TypedDict):
    sent_at: NotRequired[AwareDatetime | None]
    platform: NotRequired[Literal["ios", "android", "web", "other"] | None]
    app_version: NotRequired[
        Annotated[str, StringConstraints(max_length=32, pattern=r"^[A-Za-z0-9._+-]+$")] | None
    ]
    events: list[Any]


envelope_adapter: TypeAdapter[Any] = TypeAdapter(_Envelope)


class Rejected(BaseModel):
    index: int
    event_id: str | None = None
    reason: str


class IngestResult(BaseModel):
    accepted: int = Field(description="Events stored now.")
    duplicates: int = Field(description="Events already stored before (a retry): not stored again.")
    rejected: list[Rejected] = Field(description="Events refused, with their index in the batch and why.")
    first_offset: int | None = Field(None, description="Log offset of the first event stored now.")
    last_offset: int | None = None
    received_at: datetime
    clock_skew_ms: int | None = Field(
        None, description="Server time minus the device's sent_at; event times were shifted by it."
    )
