"""Every page of the web app, by who may open it: the translation, budget, markup and screenshot tests
walk this list, so a new page is checked as soon as it is listed here.

Entries are ``(name, path, role)``; a path may contain ``{placeholders}`` filled from the world that
``build_world`` makes (one of everything a page needs to show).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.factories import Actor, Factory

PAGES: list[tuple[str, str, str]] = [
    ("feed", "/", "visitor"),
    ("signin", "/signin", "visitor"),
    ("register", "/register", "visitor"),
    ("me", "/me", "shopper"),
    ("settings", "/settings", "shopper"),
    ("ranking", "/about/ranking", "visitor"),
]


@dataclass
class PageWorld:
    actors: dict[str, Actor]
    values: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def build_world(factory: Factory) -> PageWorld:
    merchant = factory.merchant(name="Atelier Zuid")
    world = PageWorld(
        actors={
            "shopper": factory.user("shopper", name="Sam Shopper"),
            "merchant": merchant,
            "creator": factory.user("shopper", "creator", name="@cleo"),
            "moderator": factory.user("shopper", "moderator", name="Mo"),
        }
    )
    return world


def pages_for(world: PageWorld) -> list[tuple[str, str, str]]:
    return [(name, path.format(**world.values), role) for name, path, role in PAGES]
