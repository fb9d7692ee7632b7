"""Which domains hold a person's data, found by convention rather than listed: every domain with a
``privacy`` module takes part. In ``etalage.<domain>.privacy``:

    export_user_<what>(session, user_id) -> dict        gathered into the person's export under "<domain>"
    erase_user_<what>(session, user_id) -> dict         run (idempotently) by the erasure job; returns counts
    erasure_blockers(session, user_id) -> list[dict]    optional: reasons the erasure must wait (409)

So a domain that lands later (fulfilment, reviews, affiliates…) joins exports and erasures by adding that
module; nothing here changes. Accounts erase last (after the feed forgot the pseudonym and the mapping is
deleted); the event log is read by pseudonym in its own step (``events.privacy.user_events``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

import etalage

Fn = Callable[[Session, str], Any]
LAST = ("accounts",)  # erased after everything else


@dataclass(frozen=True)
class DomainPrivacy:
    domain: str
    exports: tuple[Fn, ...] = ()
    erasures: tuple[Fn, ...] = ()
    blockers: tuple[Fn, ...] = field(default_factory=tuple)


@lru_cache
def domains() -> tuple[DomainPrivacy, ...]:
    root = Path(etalage.__path__[0])
    found = []
    for info in sorted(pkgutil.iter_modules(etalage.__path__), key=lambda m: m.name):
        if not info.ispkg or info.name == "compliance" or not (root / info.name / "privacy.py").exists():
            continue
        module = importlib.import_module(f"etalage.{info.name}.privacy")
        own = {
            n: f
            for n, f in vars(module).items()
            if callable(f) and getattr(f, "__module__", None) == module.__name__
        }
        names = sorted(own)
        found.append(
            DomainPrivacy(
                info.name,
                exports=tuple(getattr(module, n) for n in names if n.startswith("export_user_")),
                erasures=tuple(getattr(module, n) for n in names if n.startswith("erase_user_")),
                blockers=tuple(getattr(module, n) for n in names if n == "erasure_blockers"),
            )
        )
    return tuple(sorted(found, key=lambda d: (d.domain in LAST, d.domain)))


def export_sections(session: Session, user_id: str) -> dict[str, Any]:
    """Every domain's export for this person, keyed by domain (then by what, when a domain has several)."""
    out: dict[str, Any] = {}
    for d in domains():
        parts = {fn.__name__.removeprefix("export_user_"): fn(session, user_id) for fn in d.exports}
        if parts:
            out[d.domain] = next(iter(parts.values())) if len(parts) == 1 else parts
    return out


def erasure_steps() -> list[tuple[str, Fn]]:
    """(step name, function) for every domain's erasure, accounts last."""
    return [(f"{d.domain}.{fn.__name__}", fn) for d in domains() for fn in d.erasures]


def blockers(session: Session, user_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for d in domains():
        for fn in d.blockers:
            out.extend({"domain": d.domain, **b} for b in fn(session, user_id))
    return out
