"""Do the ids in an event name things that exist? A registry the owning domains fill.

The content and catalog domains know their ids; the event log must not read their tables. Each domain
registers, for a kind of id, a function ``(session, ids) -> the subset that exists and may receive
interactions`` (e.g. not removed), called once per batch per kind with every id of that kind in the
batch. Until a kind has a validator, ids of that kind are only checked for their format. Answers are
cached briefly per process, since the same popular items appear in batch after batch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

IdValidator = Callable[[Session, set[str]], set[str]]

# Event field -> kind of id
FIELD_KINDS: dict[str, str] = {
    "video_id": "video",
    "live_room_id": "live_room",
    "product_id": "product",
    "variant_id": "variant",
    "creator_id": "creator",
    "comment_id": "comment",
}
CACHE_SECONDS = 30.0  # how long a removed item can still receive events in another process
_CACHE_MAX = 200_000

_validators: dict[str, IdValidator] = {}
_prefixes: dict[str, str] = {}
_known: dict[str, float] = {}  # id -> when it was last confirmed to exist
_lock = threading.Lock()


def register_id_validator(kind: str, fn: IdValidator, *, prefix: str | None = None) -> None:
    """``kind`` is one of FIELD_KINDS' values; ``prefix`` (e.g. "vid") also makes the format check exact."""
    if kind not in FIELD_KINDS.values():
        raise ValueError(f"unknown id kind {kind!r}; one of {sorted(set(FIELD_KINDS.values()))}")
    _validators[kind] = fn
    if prefix:
        _prefixes[kind] = prefix


def unregister_id_validator(kind: str) -> None:
    _validators.pop(kind, None)
    _prefixes.pop(kind, None)
    forget_known()


def registered() -> tuple[dict[str, IdValidator], dict[str, str]]:
    """Copies of the registry (tests swap validators and put them back)."""
    return dict(_validators), dict(_prefixes)


def restore(state: tuple[dict[str, IdValidator], dict[str, str]]) -> None:
    _validators.clear()
    _validators.update(state[0])
    _prefixes.clear()
    _prefixes.update(state[1])
    forget_known()


def forget_known(ids: Iterable[str] | None = None) -> None:
    """Drop cached answers (all, or for ``ids``), e.g. when a domain removes an item."""
    with _lock:
        if ids is None:
            _known.clear()
        else:
            for i in ids:
                _known.pop(i, None)


def has_validator(kind: str) -> bool:
    return kind in _validators


def field_prefixes() -> list[tuple[str, str]]:
    """(event field, "pfx_") for every kind whose owner registered a prefix."""
    return [(name, _prefixes[kind] + "_") for name, kind in FIELD_KINDS.items() if kind in _prefixes]


def wrong_prefix(kind: str, value: str) -> str | None:
    prefix = _prefixes.get(kind)
    if prefix and not value.startswith(prefix + "_"):
        return f"is not a {kind.replace('_', ' ')} id (those start with '{prefix}_')"
    return None


def to_check(wanted: dict[str, set[str]]) -> dict[str, set[str]]:
    """Of ``wanted`` (kind -> ids), those a validator must answer for: not confirmed in the last 30 s."""
    now = time.monotonic()
    todo: dict[str, set[str]] = {}
    with _lock:
        for kind, ids in wanted.items():
            if kind in _validators:
                fresh = {i for i in ids if now - _known.get(i, -1e9) > CACHE_SECONDS}
                if fresh:
                    todo[kind] = fresh
    return todo


def missing(session_factory: Callable[[], object], todo: dict[str, set[str]]) -> set[str]:
    """Ask the validators (one query per kind); returns the ids that do not exist."""
    now = time.monotonic()
    out: set[str] = set()
    with session_factory() as session:  # type: ignore[attr-defined]
        for kind, ids in todo.items():
            found = _validators[kind](session, ids)
            out |= ids - found
            with _lock:
                if len(_known) > _CACHE_MAX:
                    _known.clear()
                for i in found:
                    _known[i] = now
    return out


def unknown_ids(session_factory: Callable[[], object], wanted: dict[str, set[str]]) -> set[str]:
    """The ids among ``wanted`` (kind -> ids) that a registered validator says do not exist."""
    todo = to_check(wanted)
    return missing(session_factory, todo) if todo else set()


def _creators_exist(session: Session, ids: set[str]) -> set[str]:
    # Creators are accounts; the accounts service answers for them (names are read, never kept).
    from etalage.accounts import service as accounts

    return set(accounts.display_names(session, sorted(ids)))


def _videos_exist(session: Session, ids: set[str]) -> set[str]:
    from etalage.content import service as content

    return content.videos_exist(session, ids)


def _rooms_exist(session: Session, ids: set[str]) -> set[str]:
    from etalage.content import service as content

    return {i for i in ids if content.room_exists(session, i)}  # a batch names few rooms


def _products_exist(session: Session, ids: set[str]) -> set[str]:
    from etalage.catalog import views as catalog

    return catalog.existing_product_ids(session, ids)


def _variants_exist(session: Session, ids: set[str]) -> set[str]:
    from etalage.catalog import views as catalog

    return catalog.existing_variant_ids(session, ids)


register_id_validator("creator", _creators_exist, prefix="usr")
try:  # the catalog answers for its products and variants
    import etalage.catalog.views  # noqa: F401
except ImportError:  # pragma: no cover - a build without the catalog
    pass
else:
    register_id_validator("product", _products_exist, prefix="prd")
    register_id_validator("variant", _variants_exist, prefix="var")
try:  # the content domain answers for its videos and live rooms
    import etalage.content.service  # noqa: F401
except ImportError:  # pragma: no cover - a build without the content domain
    pass
else:
    register_id_validator("video", _videos_exist, prefix="vid")
    register_id_validator("live_room", _rooms_exist, prefix="lrm")
