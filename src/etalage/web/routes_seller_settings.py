"""Seller center: warehouses (where stock is and ships from), API tokens for the shop's own systems."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.responses import Response

from etalage.accounts import service as accounts
from etalage.core.errors import Forbidden, InvalidInput
from etalage.core.routing import api_router
from etalage.web.i18n import N_
from etalage.web.pages import Form, MerchantPage, PageRoute, redirect, render
from etalage.web.regions import region_choices
from etalage.web.routes_seller import SECTIONS, shop_context

router = api_router(route_class=PageRoute, include_in_schema=False)
SECTIONS.append(("settings", "/settings", N_("Warehouses and API"), "gear"))

TOKEN_SCOPES = [
    ("merchant:read", N_("Read orders, products and stock")),
    ("merchant:write", N_("Change products, prices, stock and orders")),
]
NOTICES = {
    "warehouse": N_("Warehouse added."),
    "revoked": N_("Token revoked."),
    "error": N_("That did not work: check the values and try again."),
}


@router.get("/seller/{merchant_id}/settings")
def settings_page(ctx: MerchantPage, merchant_id: str, done: str | None = None) -> Response:
    from etalage.merchants import service as merchants

    shop = shop_context(ctx, merchant_id, "settings")
    warehouses = merchants.list_warehouses(ctx.db, ctx.principal, merchant_id)  # type: ignore[arg-type]
    tokens = [t for t in accounts.list_api_tokens(ctx.db, ctx.principal) if t.merchant_id == merchant_id]  # type: ignore[arg-type]
    new_token = ctx.request.cookies.get("etalage_new_token") if done == "token" else None
    if new_token:
        ctx.set_cookie("etalage_new_token", "", max_age=0)
    return render(
        ctx, "seller/settings.html", warehouses=warehouses, tokens=tokens, token_scopes=TOKEN_SCOPES,
        regions=region_choices(ctx),
        new_token=new_token, notice=NOTICES.get(done or ""), failed=done == "error", **shop,
    )  # fmt: skip


@router.post("/seller/{merchant_id}/warehouses")
def add_warehouse(ctx: MerchantPage, merchant_id: str, form: Form) -> Response:
    from etalage.merchants import service as merchants
    from etalage.merchants.schemas import WarehouseIn

    fields = ("name", "address_line1", "address_line2", "postal_code", "city", "state", "region_code")
    raw = {k: (str(form.get(k, "")).strip()[:200] or None) for k in fields}
    try:
        body = WarehouseIn.model_validate({**raw, "operator": "merchant"})
        merchants.create_warehouse(ctx.db, ctx.principal, merchant_id, body.model_dump())  # type: ignore[arg-type]
    except (ValidationError, InvalidInput):
        return redirect(ctx, f"/seller/{merchant_id}/settings?done=error")
    return redirect(ctx, f"/seller/{merchant_id}/settings?done=warehouse")


@router.post("/seller/{merchant_id}/tokens")
def create_token(ctx: MerchantPage, merchant_id: str, form: Form) -> Response:
    scopes = [s for s, _label in TOKEN_SCOPES if form.get(s) == "on"]
    name = " ".join(str(form.get("name", "")).split())[:100] or "api"
    if not scopes:
        return redirect(ctx, f"/seller/{merchant_id}/settings?done=error")
    try:
        plaintext, _token = accounts.create_api_token(
            ctx.db,
            ctx.principal,
            name=name,
            scopes=scopes,
            merchant_id=merchant_id,
            expires_in_days=365,  # type: ignore[arg-type]
        )
    except Forbidden:
        return redirect(ctx, f"/seller/{merchant_id}/settings?done=error")
    # Shown once, on the next page only: a short-lived HttpOnly cookie, never in a URL or a log.
    ctx.set_cookie("etalage_new_token", plaintext, max_age=120)
    return redirect(ctx, f"/seller/{merchant_id}/settings?done=token")


@router.post("/seller/{merchant_id}/tokens/{token_id}/revoke")
def revoke_token(ctx: MerchantPage, merchant_id: str, token_id: str, form: Form) -> Response:
    token = accounts.revoke_api_token(ctx.db, ctx.principal, token_id)  # type: ignore[arg-type]
    if token.merchant_id != merchant_id:
        raise InvalidInput("This token belongs to another shop.")
    return redirect(ctx, f"/seller/{merchant_id}/settings?done=revoked")
