"""The PSP's token API: what a shopper's device calls with the card number (Etalage never does), and
the lookup Etalage makes to learn a token's type, brand, last four digits and expiry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import Response

from etalage.payments.psp import cards
from etalage.payments.psp.http import error, json_response

if TYPE_CHECKING:
    from etalage.payments.psp.app import PSP


async def create_token(psp: PSP, request: Request) -> Response:
    try:
        body = orjson.loads(await request.body())
        kind = body.get("type", "card")
    except (orjson.JSONDecodeError, AttributeError):
        return error(400, "invalid_request", "Send a JSON object.")
    if kind not in cards.METHOD_TYPES:
        return error(400, "invalid_type", f"Unknown payment method type {kind!r}.")
    if kind in cards.REDIRECT_TYPES:
        row = psp.store.add_token(
            type=kind, number=None, brand=kind, last4=None, exp_month=None, exp_year=None
        )
    else:
        card = body.get("card") or {}
        number = str(card.get("number", "")).replace(" ", "")
        if not cards.luhn_ok(number):
            return error(400, "invalid_number", "The card number is not valid.")
        try:
            month, year = int(card.get("exp_month")), int(card.get("exp_year"))
        except (TypeError, ValueError):
            return error(400, "invalid_expiry", "Give exp_month and exp_year.")
        now = datetime.now(UTC)
        if not 1 <= month <= 12 or (year, month) < (now.year, now.month):
            return error(400, "expired_card", "The card has expired.")
        row = psp.store.add_token(
            type=kind,
            number=number,
            brand=cards.brand_of(number),
            last4=number[-4:],
            exp_month=month,
            exp_year=year,
        )
    row.pop("number", None)
    return json_response(row, 201)


async def get_token(psp: PSP, request: Request) -> Response:
    if not psp.authorised(request):
        return error(401, "unauthorized", "Bad API key.")
    tok = psp.store.token(request.path_params["token"])
    if tok is None:
        return error(404, "no_such_token", "No such token.")
    tok.pop("number")
    return json_response(tok)


async def delete_token(psp: PSP, request: Request) -> Response:
    """The merchant of record forgets a shopper's saved card (e.g. on erasure): the number goes with it."""
    if not psp.authorised(request):
        return error(401, "unauthorized", "Bad API key.")
    if not psp.store.delete_token(request.path_params["token"]):
        return error(404, "no_such_token", "No such token.")
    return Response(status_code=204)
