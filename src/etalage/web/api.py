"""The web app's routes: every page router, and the static files they use.

Mounted like any domain's API (app.py discovers it); none of these routes is in the OpenAPI document.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from etalage.core.errors import NotFound
from etalage.core.routing import api_router, mount
from etalage.web import assets, i18n
from etalage.web.routes_account import router as account_router
from etalage.web.routes_browse import router as browse_router
from etalage.web.routes_buying_settings import router as buying_settings_router
from etalage.web.routes_decisions import router as decisions_router
from etalage.web.routes_live import router as live_router
from etalage.web.routes_moderation import router as moderation_router
from etalage.web.routes_moderation_cases import router as moderation_cases_router
from etalage.web.routes_orders import router as orders_router
from etalage.web.routes_privacy import router as privacy_router
from etalage.web.routes_report import router as report_router
from etalage.web.routes_reviews import router as reviews_router
from etalage.web.routes_seller import router as seller_router
from etalage.web.routes_seller_catalog import router as seller_catalog_router
from etalage.web.routes_seller_creators import router as seller_creators_router
from etalage.web.routes_seller_orders import router as seller_orders_router
from etalage.web.routes_seller_payouts import router as seller_payouts_router
from etalage.web.routes_seller_promotions import router as seller_promotions_router
from etalage.web.routes_seller_returns import router as seller_returns_router
from etalage.web.routes_seller_reviews import router as seller_reviews_router
from etalage.web.routes_seller_settings import router as seller_settings_router
from etalage.web.routes_seller_webhooks import router as seller_webhooks_router
from etalage.web.routes_shop import router as shop_router
from etalage.web.routes_studio import router as studio_router

router = api_router(include_in_schema=False)


@router.get("/static/{version}/{path:path}", include_in_schema=False)
def static_file(version: str, path: str, request: Request) -> Response:
    asset = assets.get(path)
    if asset is None:
        raise NotFound(f"No static file {path}.")
    headers = {
        "etag": f'"{asset.version}"',
        "vary": "Accept-Encoding",
        # A versioned URL never changes content: cache it for a year. Any other version: revalidate.
        "cache-control": "public, max-age=31536000, immutable"
        if version == asset.version
        else "public, max-age=60",
    }
    if request.headers.get("if-none-match") == headers["etag"]:
        return Response(status_code=304, headers=headers)
    body = asset.body
    if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body = asset.gzipped
        headers["content-encoding"] = "gzip"
    return Response(body, media_type=asset.content_type, headers=headers)


mount(
    router,
    (
        account_router,
        shop_router,
        browse_router,
        orders_router,
        report_router,
        reviews_router,
        buying_settings_router,
        privacy_router,
        decisions_router,
        live_router,
        seller_catalog_router,
        seller_creators_router,
        seller_orders_router,
        seller_promotions_router,
        seller_payouts_router,
        seller_returns_router,
        seller_reviews_router,
        seller_settings_router,
        seller_webhooks_router,
        seller_router,
        studio_router,
        moderation_cases_router,
        moderation_router,
    ),
)


def startup(app: object) -> None:
    i18n.load(force=True)
