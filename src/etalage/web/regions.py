"""The regions a visitor can choose: the commerce domain's launch regions, named in the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from etalage.web import i18n

if TYPE_CHECKING:
    from etalage.web.pages import PageCtx


def region_codes(ctx: PageCtx) -> list[str]:
    from etalage.commerce import service as commerce

    return commerce.launched_region_codes(ctx.db)


def region_choices(ctx: PageCtx) -> list[tuple[str, str]]:
    codes = region_codes(ctx)
    return sorted(((c, i18n.region_name(c, ctx.lang)) for c in codes), key=lambda item: item[1])
