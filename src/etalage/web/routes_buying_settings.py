"""Settings for one-tap buying: saved delivery addresses and payment methods."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from etalage.core.errors import InvalidInput
from etalage.core.routing import api_router
from etalage.web.pages import Form, PageCtx, PageRoute, ShopperPage, redirect

router = api_router(route_class=PageRoute, include_in_schema=False)


def buying_settings(ctx: PageCtx) -> dict[str, Any]:
    """What the settings page shows under "Buying" (addresses, payment methods)."""
    from etalage.commerce import addresses
    from etalage.payments import service as payments

    return {
        "addresses": addresses.list_addresses(ctx.db, ctx.principal),  # type: ignore[arg-type]
        "methods": payments.list_methods(ctx.db, ctx.principal),  # type: ignore[arg-type]
    }


@router.post("/settings/addresses")
def add_address(ctx: ShopperPage, form: Form) -> Response:
    from etalage.commerce import addresses
    from etalage.commerce.schemas import AddressIn

    fields = ("recipient", "line1", "line2", "postal_code", "city", "state", "country", "phone")
    raw: dict[str, Any] = {k: (str(form.get(k, "")).strip()[:200] or None) for k in fields}
    raw["make_default"] = form.get("make_default") == "on"
    try:
        body = AddressIn.model_validate(raw)
        data = body.model_dump(exclude={"make_default"})
        addresses.add_address(ctx.db, ctx.principal, data, body.make_default)  # type: ignore[arg-type]
    except (ValidationError, InvalidInput):
        return redirect(ctx, "/settings?address=invalid#buying")
    return redirect(ctx, "/settings?address=saved#buying")


@router.post("/settings/addresses/{address_id}/default")
def default_address(ctx: ShopperPage, address_id: str, form: Form) -> Response:
    from etalage.commerce import addresses

    addresses.make_default(ctx.db, ctx.principal, address_id)  # type: ignore[arg-type]
    return redirect(ctx, "/settings?address=saved#buying")


@router.post("/settings/addresses/{address_id}/delete")
def delete_address(ctx: ShopperPage, address_id: str, form: Form) -> Response:
    from etalage.commerce import addresses

    addresses.remove_address(ctx.db, ctx.principal, address_id)  # type: ignore[arg-type]
    return redirect(ctx, "/settings#buying")


@router.post("/settings/payment-methods/{method_id}/default")
def default_method(ctx: ShopperPage, method_id: str, form: Form) -> Response:
    from etalage.payments import service as payments

    payments.make_default(ctx.db, ctx.principal, method_id)  # type: ignore[arg-type]
    return redirect(ctx, "/settings#buying")


@router.post("/settings/payment-methods/{method_id}/delete")
def delete_method(ctx: ShopperPage, method_id: str, form: Form) -> Response:
    from etalage.payments import service as payments

    payments.remove_method(ctx.db, ctx.principal, method_id)  # type: ignore[arg-type]
    return redirect(ctx, "/settings#buying")
