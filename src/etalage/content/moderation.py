"""Shared moderation pieces for comments and live chat: the blocked-word filter and the action record."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from etalage.content.models import ModerationAction
from etalage.content.sentiment import fold

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "@": "a", "$": "s", "!": "i"})
_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """Strip control and bidi-override characters (they hide or reorder text), collapse blank runs."""
    text = _CONTROL.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _normalise(text: str) -> str:
    return " " + re.sub(r"[^\w]+", " ", fold(text).translate(_LEET)) + " "


@lru_cache
def platform_words() -> tuple[str, ...]:
    path = Path(__file__).parent / "blocked_words.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))


def blocked_hit(text: str, extra: list[str] | tuple[str, ...] = ()) -> str | None:
    """'platform' or 'room' if the text contains a blocked word or phrase from that list, else None."""
    haystack = _normalise(text)
    for source, words in (("platform", platform_words()), ("room", tuple(extra))):
        for word in words:
            needle = _normalise(word)
            if needle.strip() and needle in haystack:
                return source
            # "k y s" or "k.y.s": spaced-out letters are an old trick around filters
            if len(needle.strip()) >= 3 and " " not in needle.strip() and _spaced(haystack, needle.strip()):
                return source
    return None


def _spaced(haystack: str, word: str) -> bool:
    pattern = r"(?:^|\s)" + r"\s".join(re.escape(ch) for ch in word) + r"(?:\s|$)"
    return re.search(pattern, haystack) is not None


def record(
    session: Session,
    *,
    subject_kind: str,
    subject_id: str,
    action: str,
    actor_id: str,
    actor_role: str,
    reason: str,
    room_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> ModerationAction:
    entry = ModerationAction(
        subject_kind=subject_kind,
        subject_id=subject_id,
        room_id=room_id,
        action=action,
        actor_id=actor_id,
        actor_role=actor_role,
        reason=reason,
        details=details or {},
    )
    session.add(entry)
    return entry
