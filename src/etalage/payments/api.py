"""Payments routes: saved payment methods, the provider's webhooks, client configuration."""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import sys
from urllib.parse import urlsplit

from fastapi import Request, Response, status

from etalage.accounts.deps import Shopper
from etalage.config import get_settings
from etalage.core.deps import DbSession
from etalage.core.errors import BadRequest, Unauthorized
from etalage.core.routing import api_router
from etalage.payments import recovery, service
from etalage.payments.models import PaymentMethod
from etalage.payments.provider import provider
from etalage.payments.psp.cards import METHOD_TYPES
from etalage.payments.schemas import PaymentMethodIn, PaymentMethodOut, ProviderConfigOut, WebhookAck
from etalage.payments.signing import SIGNATURE_HEADER, BadSignature

router = api_router(prefix="/api/v1", tags=["payments"])
log = logging.getLogger("etalage.payments")
WEBHOOK_PATH = "/api/v1/payments/webhooks"
_local_psp: subprocess.Popen[bytes] | None = None


def startup(app) -> None:  # type: ignore[no-untyped-def]
    """The all-in-one development server (`etalage run`) starts the test PSP beside itself, so buying works
    out of the box. Never when a provider is configured, in production, or with separate worker processes."""
    global _local_psp
    s = app.state.settings
    if s.environment != "development" or not s.inprocess_worker or "psp_url" in s.model_fields_set:
        return
    parts = urlsplit(s.psp_url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=0.2).close()
        return  # one is already running
    except OSError:
        pass
    _local_psp = subprocess.Popen(
        [sys.executable, "-m", "etalage.cli", "payments", "psp", "--port", str(parts.port or 8765)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log.info("started the test payment provider on %s (pid %s)", s.psp_url, _local_psp.pid)


def shutdown(app) -> None:  # type: ignore[no-untyped-def]
    global _local_psp
    if _local_psp is not None:
        _local_psp.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            _local_psp.wait(5)
        _local_psp = None


def method_out(m: PaymentMethod) -> PaymentMethodOut:
    return PaymentMethodOut.model_validate(m, from_attributes=True)


@router.get("/payments/config", response_model=ProviderConfigOut)
def provider_config() -> ProviderConfigOut:
    """Where a shopper's device tokenises a card (the card number never passes through Etalage)."""
    return ProviderConfigOut(
        tokenize_url=get_settings().psp_url.rstrip("/") + "/v1/tokens",
        method_types=list(METHOD_TYPES),
        local_methods={k: sorted(v) for k, v in service.METHOD_REGIONS.items()},
    )


@router.get("/me/payment-methods", response_model=list[PaymentMethodOut])
def list_payment_methods(principal: Shopper, session: DbSession) -> list[PaymentMethodOut]:
    return [method_out(m) for m in service.list_methods(session, principal)]


@router.post("/me/payment-methods", response_model=PaymentMethodOut, status_code=status.HTTP_201_CREATED)
def add_payment_method(body: PaymentMethodIn, principal: Shopper, session: DbSession) -> PaymentMethodOut:
    """Save a payment method by its provider token (from ``tokenize_url``); the first one is the default."""
    return method_out(service.add_method(session, principal, body.token, body.make_default))


@router.post("/me/payment-methods/{payment_method_id}/default", response_model=PaymentMethodOut)
def make_default(payment_method_id: str, principal: Shopper, session: DbSession) -> PaymentMethodOut:
    return method_out(service.make_default(session, principal, payment_method_id))


@router.delete("/me/payment-methods/{payment_method_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_payment_method(payment_method_id: str, principal: Shopper, session: DbSession) -> Response:
    service.remove_method(session, principal, payment_method_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(WEBHOOK_PATH.removeprefix("/api/v1"), response_model=WebhookAck, include_in_schema=True)
async def provider_webhook(request: Request) -> WebhookAck:
    """The provider's signed event batches. Verified, applied once per event id, answered 200 quickly."""
    body = await request.body()
    try:
        events = provider().parse_webhook(body, request.headers.get(SIGNATURE_HEADER))
    except BadSignature as exc:
        log.warning("refused a webhook: %s", exc)
        raise Unauthorized(f"Webhook refused: {exc}.") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequest("The webhook body is not a batch of events.") from exc
    from starlette.concurrency import run_in_threadpool

    def apply() -> int:
        with request.app.state.db.session() as session:
            return recovery.ingest_webhook(session, events)

    new = await run_in_threadpool(apply)
    return WebhookAck(received=len(events), new=new)
