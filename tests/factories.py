"""Builders for test data, going through the services (never raw table writes) so invariants hold.

Each domain adds its own builders here as it lands.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date

from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal
from etalage.db import Database

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


@dataclass
class Actor:
    """A user with a bearer token holding every scope their roles allow."""

    id: str
    email: str
    token: str
    principal: Principal
    merchant_id: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def user(
        self,
        *roles: str,
        email: str | None = None,
        birth_date: date | None = date(1990, 1, 1),
        region_code: str | None = "BE",
        name: str | None = None,
    ) -> Actor:
        n = next(_seq)
        email = email or f"user{n}@test.example.com"
        with self.db.session() as s:
            user = accounts.register_user(
                s,
                email=email,
                password=PASSWORD,
                display_name=name or f"User {n}",
                roles=list(roles or ("shopper",)),
                birth_date=birth_date,
                region_code=region_code,
            )
            s.flush()
            principal = accounts.principal_for_user(s, user.id)
            token, _ = accounts.create_api_token(s, principal, name="test")
            return Actor(user.id, email, token, principal)

    def merchant(self, name: str | None = None, owner: Actor | None = None) -> Actor:
        """A merchant organisation and its owner; the returned actor's token reaches this merchant."""
        n = next(_seq)
        with self.db.session() as s:
            if owner is None:
                user = accounts.register_user(
                    s, email=f"owner{n}@shop.example.com", password=PASSWORD, display_name=f"Owner {n}"
                )
                s.flush()
                user_id, email = user.id, user.email
            else:
                user_id, email = owner.id, owner.email
            org = accounts.create_organisation(s, user_id, name or f"Shop {n}")
            s.flush()
            principal = accounts.principal_for_user(s, user_id)
            token, _ = accounts.create_api_token(s, principal, name="test")
            return Actor(user_id, email, token, principal, merchant_id=org.id)

    def staff(self, merchant: Actor) -> Actor:
        member = self.user("shopper")
        with self.db.session() as s:
            accounts.add_member(s, merchant.principal, merchant.merchant_id or "", member.email, "staff")
            s.flush()
            principal = accounts.principal_for_user(s, member.id)
            token, _ = accounts.create_api_token(s, principal, name="staff")
        return Actor(member.id, member.email, token, principal, merchant_id=merchant.merchant_id)


# --- content (videos, live rooms) -----------------------------------------------------------------------

_CLIPS: dict[tuple, object] = {}


def clip(seconds: float = 2.0, size: tuple[int, int] = (1280, 720), **kw):  # type: ignore[no-untyped-def]
    """A real video file made by ffmpeg (a moving test pattern), cached for the test session."""
    import tempfile
    from pathlib import Path

    from etalage.content import clips

    key = (seconds, size, tuple(sorted(kw.items())))
    if key not in _CLIPS:
        folder = Path(tempfile.mkdtemp(prefix="etalage-clip-"))
        name = kw.pop("file_name", "clip.mp4")
        _CLIPS[key] = clips.render_clip(
            folder, title="Test clip", seconds=seconds, size=size, renditions=False, file_name=name, **kw
        )
    return _CLIPS[key]


def make_video(
    factory: Factory,
    owner: Actor,
    *,
    merchant_id: str | None = None,
    publish: bool = True,
    caption: str = "A video #test",
    language: str = "en",
    products: list[str] | None = None,
    transcode: bool = True,
) -> str:
    """A video through the real pipeline: upload, ffprobe, and (with ``transcode``) the ffmpeg job."""
    import shutil

    from etalage.content import storage, uploads, videos
    from etalage.content.schemas import ProductTag, VideoMeta
    from etalage.core import jobs
    from etalage.core.ratelimit import MemoryRateLimiter

    source = clip(seconds=1.5, size=(640, 360))  # small: these tests are about what happens next
    limiter = MemoryRateLimiter()
    with factory.db.session() as s:
        up = uploads.create(s, owner.principal, size=source.stat().st_size, filename="clip.mp4",
                            content_type="video/mp4", limiter=limiter, state="complete")
        up.offset = up.size
        upload_id = up.id
    path = storage.absolute(storage.original_relpath(upload_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, path)
    meta = VideoMeta(
        caption=caption, language=language, merchant_id=merchant_id, publish=publish,
        products=[ProductTag(product_id=p) for p in products or []],
    )
    video_id = videos.create_from_upload(factory.db, owner.principal, meta, upload_id, limiter)
    if transcode:
        jobs.drain(factory.db)
    return video_id


def make_room(factory: Factory, host: Actor, *, video_id: str | None = None, merchant_id: str | None = None,
              start: bool = True, title: str = "Live now") -> str:
    """A live room on a looped clip (``video_id``) or on an external HLS playlist."""
    from etalage.content import live
    from etalage.content.schemas import LiveSource, RoomCreate

    source = (
        LiveSource(kind="clip", video_id=video_id)
        if video_id
        else LiveSource(kind="hls", url="https://stream.example.com/live/room.m3u8")
    )
    body = RoomCreate(title=title, merchant_id=merchant_id, source=source, start_now=start)
    with factory.db.session() as s:
        return live.create(s, host.principal, body).id


# --- buying (merchants, catalog, inventory, commerce, payments): builders in tests/commerce/builders.py ----


def _buying_factory_methods() -> None:
    from tests.commerce.builders import FACTORY_METHODS

    for name, fn in FACTORY_METHODS.items():
        setattr(Factory, name, fn)


_buying_factory_methods()
