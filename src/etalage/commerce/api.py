"""Commerce routes: regions, addresses, shipping rates, the cart, checkout. Orders are in ``api_orders``."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import Depends, Header, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_scope
from etalage.accounts.deps import Admin, MerchantReader, MerchantWriter, Shopper, bearer, resolve_principal
from etalage.commerce import addresses, carts, checkout, idempotency, launch
from etalage.commerce.api_orders import router as orders_router
from etalage.commerce.checkout import CheckoutRequest, LineIn
from etalage.commerce.jobs import schedule_sweep
from etalage.commerce.models import Address, ShippingRate
from etalage.commerce.schemas import (
    AddressIn,
    AddressOut,
    BuyNowIn,
    CartCheckoutIn,
    CartLineSet,
    CartOut,
    CartPatch,
    CheckoutOut,
    LaunchIn,
    RegionOut,
    ShippingRateIn,
    ShippingRateOut,
)
from etalage.commerce.views import money
from etalage.core.deps import DbSession
from etalage.core.errors import NotFound, Unauthorized
from etalage.core.routing import api_router

router = api_router(prefix="/api/v1", tags=["commerce"])
extra_routers = [orders_router]
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Required: a unique key per purchase (e.g. a UUID)."),
]
CHECKOUT_RESPONSES: dict[int | str, dict] = {
    202: {
        "description": "Payment needs the shopper (3-D Secure, bank approval: see next_action) or is processing."
    },
    402: {"description": "Payment declined; nothing charged (problem+json)."},
    409: {"description": "Out of stock, price changed, or the same Idempotency-Key is still running."},
}


def startup(app) -> None:  # type: ignore[no-untyped-def]
    # Whoever runs jobs (this process, or `etalage worker`) picks it up; it then reschedules itself.
    schedule_sweep(app.state.db, next_slot=False)


def _webhook_url(request: Request) -> str:
    # The provider posts this checkout's events here (per payment, as Mollie does), so every deployment
    # and test server gets its own webhooks without configuration.
    return str(request.base_url).rstrip("/") + "/api/v1/payments/webhooks"


def region_out(state: launch.RegionState) -> RegionOut:
    r = state.region
    return RegionOut(
        code=r.code,
        name=r.name,
        currency=r.currency,
        languages=list(r.languages),
        launched=state.launched,
        tax=r.tax_kind,
        vat_rates_bp=dict(r.vat_bp) if r.tax_kind == "vat" else {},
        min_purchase_age=r.min_purchase_age,
        shipping_fee=money(r.shipping_fee, r.currency),
        free_shipping_over=money(r.free_shipping_over, r.currency) if r.free_shipping_over else None,
        return_window_days=r.return_window_days,
    )


# --- regions --------------------------------------------------------------------------------------------


@router.get("/regions", response_model=list[RegionOut])
def list_regions(session: DbSession) -> list[RegionOut]:
    """Every region Etalage knows: currency, languages, tax, age rule, default shipping, and whether it is open."""
    return [region_out(s) for s in launch.list_regions(session)]


@router.put("/admin/regions/{region_code}/launch", response_model=RegionOut, tags=["admin"])
def set_launch(region_code: str, body: LaunchIn, principal: Admin, session: DbSession) -> RegionOut:
    """Open or close a region for sales (recorded with who and why)."""
    return region_out(launch.set_launched(session, principal, region_code, body.launched, body.reason))


# --- shipping rates -------------------------------------------------------------------------------------


def rate_out(r: ShippingRate) -> ShippingRateOut:
    return ShippingRateOut(
        region_code=r.region_code,
        fee=money(r.fee_amount, r.currency),
        free_over=money(r.free_over_amount, r.currency) if r.free_over_amount else None,
    )


@router.put(
    "/merchants/{merchant_id}/shipping-rates/{region_code}",
    response_model=ShippingRateOut,
    tags=["merchants"],
)
def set_shipping_rate(
    merchant_id: str, region_code: str, body: ShippingRateIn, principal: MerchantWriter, session: DbSession
) -> ShippingRateOut:
    """Your shipping fee per order into a region (in its currency), free above ``free_over`` if given."""
    return rate_out(
        launch.set_shipping_rate(session, principal, merchant_id, region_code, body.fee, body.free_over)
    )


@router.get(
    "/merchants/{merchant_id}/shipping-rates", response_model=list[ShippingRateOut], tags=["merchants"]
)
def list_shipping_rates(
    merchant_id: str, principal: MerchantReader, session: DbSession
) -> list[ShippingRateOut]:
    return [rate_out(r) for r in launch.list_shipping_rates(session, principal, merchant_id)]


# --- addresses ------------------------------------------------------------------------------------------


def address_out(a: Address) -> AddressOut:
    return AddressOut.model_validate(a, from_attributes=True)


@router.get("/me/addresses", response_model=list[AddressOut])
def list_addresses(principal: Shopper, session: DbSession) -> list[AddressOut]:
    return [address_out(a) for a in addresses.list_addresses(session, principal)]


@router.post("/me/addresses", response_model=AddressOut, status_code=status.HTTP_201_CREATED)
def add_address(body: AddressIn, principal: Shopper, session: DbSession) -> AddressOut:
    """Save a delivery address; the first one (or ``make_default``) is used by one-tap checkout."""
    data = body.model_dump(exclude={"make_default"})
    return address_out(addresses.add_address(session, principal, data, body.make_default))


@router.post("/me/addresses/{address_id}/default", response_model=AddressOut)
def default_address(address_id: str, principal: Shopper, session: DbSession) -> AddressOut:
    return address_out(addresses.make_default(session, principal, address_id))


@router.delete("/me/addresses/{address_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_address(address_id: str, principal: Shopper, session: DbSession) -> Response:
    addresses.remove_address(session, principal, address_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- cart -----------------------------------------------------------------------------------------------


@router.get("/cart", response_model=CartOut)
def get_cart(principal: Shopper, session: DbSession) -> CartOut:
    """Your cart, with the price you saw and today's price for each line."""
    return carts.view(session, principal)


@router.patch("/cart", response_model=CartOut)
def patch_cart(body: CartPatch, principal: Shopper, session: DbSession) -> CartOut:
    """Price the cart for another region (where you want it delivered)."""
    carts.set_region(session, principal, body.region_code)
    session.flush()
    return carts.view(session, principal)


@router.put("/cart/lines/{variant_id}", response_model=CartOut)
def set_cart_line(variant_id: str, body: CartLineSet, principal: Shopper, session: DbSession) -> CartOut:
    """Set how many of a variant you want (0 removes it), at today's price."""
    src = body.source
    carts.set_line(
        session,
        principal,
        variant_id,
        body.quantity,
        src.video_id if src else None,
        src.live_room_id if src else None,
    )
    session.flush()
    return carts.view(session, principal)


@router.delete("/cart/lines/{variant_id}", response_model=CartOut)
def remove_cart_line(variant_id: str, principal: Shopper, session: DbSession) -> CartOut:
    carts.remove_line(session, principal, variant_id)
    session.flush()
    return carts.view(session, principal)


# --- checkout -------------------------------------------------------------------------------------------


def _respond(outcome: checkout.Outcome, response: Response) -> CheckoutOut:
    response.status_code = outcome.http_status
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return outcome.body


def _as_shopper(
    request: Request, credentials: HTTPAuthorizationCredentials | None, run: Any
) -> checkout.Outcome:
    """Authenticate and check out in one worker thread, on one session pinned to one connection.

    Checkout is the hot path: through the usual dependency chain (session, principal, scope, route) a
    request hops between the event loop and worker threads five times and resolves its dependencies anew,
    which measured as a third of the server's CPU per checkout. Same rules, same error answers. Checkout
    commits twice (see ``commerce.checkout``); keeping the connection between its transactions spares a
    pool checkout (and PostgreSQL's pre-ping) per purchase; no transaction is open while the PSP answers."""
    with request.app.state.db.engine.connect() as conn:
        session = Session(bind=conn, expire_on_commit=False, autoflush=False)
        try:
            principal = resolve_principal(request, session, credentials)
            if principal is None:
                raise Unauthorized("Sign in, or send 'Authorization: Bearer <token>'.")
            require_scope(principal, "shop")
            outcome = run(session, principal)
            session.commit()
            return outcome
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


async def _checking_out(request: Request, credentials: HTTPAuthorizationCredentials | None, run: Any) -> Any:
    """Run a checkout in a worker thread, at most ``checkout_concurrency`` at once per process; the rest
    wait their turn without a thread. Each checkout makes some 50 database round trips, each needing the
    GIL back: with dozens of checkouts in threads at once they queued for it while holding row locks, and
    throughput fell (measured: 29 → 22 checkouts/s from 4 to 50 concurrent shoppers)."""
    state = request.app.state
    slots = getattr(state, "checkout_slots", None)
    if slots is None:  # made on first use, in the event loop that serves (no await between check and set)
        slots = state.checkout_slots = anyio.CapacityLimiter(state.settings.checkout_concurrency)
    return await anyio.to_thread.run_sync(_as_shopper, request, credentials, run, limiter=slots)


@router.post(
    "/buy-now", response_model=CheckoutOut, status_code=status.HTTP_201_CREATED, responses=CHECKOUT_RESPONSES
)
async def buy_now(
    body: BuyNowIn,
    request: Request,
    response: Response,
    credentials: BearerCredentials,
    idempotency_key: IdempotencyKeyHeader = None,
) -> CheckoutOut:
    """Buy one item in one request, with your default address and payment method (or the ones given)."""

    def run(session: Session, principal: Principal) -> checkout.Outcome:
        key = idempotency.require_key(idempotency_key)
        fp = idempotency.fingerprint("buy-now", body.model_dump(mode="json"))
        src = body.source
        line = LineIn(
            body.variant_id,
            body.quantity,
            body.expected_unit_amount,
            None,
            src.video_id if src else None,
            src.live_room_id if src else None,
        )
        req = CheckoutRequest(
            [line],
            address_id=body.address_id,
            payment_method_id=body.payment_method_id,
            buyer_age_band=principal.age_band,
            voucher_code=body.voucher_code,
        )
        return checkout.place_order(
            session,
            principal.user_id,
            req,
            key=key,
            fp=fp,
            webhook_url=_webhook_url(request),
            return_url=body.return_url,
        )

    return _respond(await _checking_out(request, credentials, run), response)


@router.post(
    "/cart/checkout",
    response_model=CheckoutOut,
    status_code=status.HTTP_201_CREATED,
    responses=CHECKOUT_RESPONSES,
)
async def checkout_cart(
    body: CartCheckoutIn,
    request: Request,
    response: Response,
    credentials: BearerCredentials,
    idempotency_key: IdempotencyKeyHeader = None,
) -> CheckoutOut:
    """Buy everything in the cart: one order per merchant, one payment. Prices are those you saw."""

    def run(session: Session, principal: Principal) -> checkout.Outcome:
        key = idempotency.require_key(idempotency_key)
        fp = idempotency.fingerprint("cart", body.model_dump(mode="json"))
        earlier = idempotency.find(session, user_id=principal.user_id, key=key, scope="checkout", fp=fp)
        if earlier is not None:  # a replay after success finds the cart emptied: answer it from the key
            return checkout.replay(session, principal.user_id, earlier)
        cart, lines = carts.checkout_lines(session, principal)
        total = (body.expected_total.amount, body.expected_total.currency) if body.expected_total else None
        req = CheckoutRequest(
            lines,
            address_id=body.address_id,
            payment_method_id=body.payment_method_id,
            expected_total=total,
            cart_id=cart.id,
            cart_region=cart.region_code,
            buyer_age_band=principal.age_band,
            voucher_code=body.voucher_code,
        )
        return checkout.place_order(
            session,
            principal.user_id,
            req,
            key=key,
            fp=fp,
            webhook_url=_webhook_url(request),
            return_url=body.return_url,
        )

    return _respond(await _checking_out(request, credentials, run), response)


@router.get("/checkouts/{checkout_id}", response_model=CheckoutOut)
def get_checkout(checkout_id: str, principal: Shopper, session: DbSession) -> CheckoutOut:
    """A checkout's state: poll it after a 202 (or after approving 3-D Secure)."""
    return checkout.current(session, principal.user_id, checkout_id)


@router.post("/checkouts/{checkout_id}/refresh", response_model=CheckoutOut)
def refresh_checkout(
    checkout_id: str, principal: Shopper, session: DbSession, request: Request
) -> CheckoutOut:
    """Ask the payment provider now (e.g. back from the bank's page), instead of waiting for its webhook."""
    from etalage.payments import recovery
    from etalage.payments import service as payments

    body = checkout.current(session, principal.user_id, checkout_id)
    if body.payment.status in ("pending", "requires_action"):
        session.commit()
        recovery.reconcile_payment(request.app.state.db, body.payment.id)
        session.expire_all()
        payment = payments.get_payment(session, body.payment.id)
        if payment is None:
            raise NotFound(f"No checkout {checkout_id}.")
        body = checkout.current(session, principal.user_id, checkout_id)
    return body
