"""The test PSP's HTTP API (Starlette, one event loop, its own SQLite file).

Server API (``Authorization: Bearer <api key>``): payments with ``Idempotency-Key``, capture, cancel,
refunds, lookups. Client API (no key, as a shopper's device calls it): card and wallet tokens. Shopper
pages: approving a 3-D Secure challenge or a bank redirect. Test controls under ``/v1/test``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from etalage.payments.psp import cards, delivery, tokens
from etalage.payments.psp.http import error, json_response
from etalage.payments.psp.store import Store, new_id

log = logging.getLogger("etalage.psp")
FINAL_EVENT = {
    "captured": "payment.captured",
    "authorised": "payment.authorised",
    "declined": "payment.declined",
    "cancelled": "payment.cancelled",
}
MAX_WEBHOOK_ATTEMPTS = 15


_json, _error = json_response, error


class PSP:
    def __init__(
        self, store: Store, *, api_key: str, webhook_secret: str, slow_seconds: float, public_url: str
    ) -> None:
        self.store = store
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.slow_seconds = slow_seconds
        self.public_url = public_url.rstrip("/")
        self.deliver_webhooks = True
        self.wakeup = asyncio.Event()
        self.pending: dict[str, asyncio.Task[None]] = {}

    # --- helpers -----------------------------------------------------------------------------------------

    def authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return hmac.compare_digest(header, f"Bearer {self.api_key}")

    def view(self, p: dict[str, Any]) -> dict[str, Any]:
        tok = self.store.token(p["token"]) if p.get("token") else None
        return {
            "id": p["id"],
            "idempotency_key": p["idempotency_key"],
            "status": p["status"],
            "amount": p["amount"],
            "currency": p["currency"],
            "captured_amount": p["captured_amount"],
            "refunded_amount": p["refunded_amount"],
            "decline_code": p["decline_code"],
            "method_type": p["method_type"],
            "reference": p["reference"],
            "brand": tok["brand"] if tok else None,
            "last4": tok["last4"] if tok else None,
            "next_action": p["next_action"],
            "created_at": p["created_at"],
        }

    def emit(self, p: dict[str, Any], type_: str, extra: dict[str, Any] | None = None) -> None:
        data = {"payment": self.view(p), **(extra or {})}
        self.store.add_event(p["id"], type_, data, p.get("webhook_url"))
        self.wakeup.set()

    def settle(self, p: dict[str, Any], outcome: str) -> dict[str, Any]:
        """Finish a payment: success (captured or authorised per its capture flag) or a decline code."""
        if outcome == cards.SUCCESS:
            status = "captured" if p["capture"] else "authorised"
            changes = {
                "status": status,
                "captured_amount": p["amount"] if p["capture"] else 0,
                "next_action": None,
            }
        else:
            changes = {"status": "declined", "decline_code": outcome, "next_action": None}
        self.store.update_payment(p["id"], **changes)
        p = self.store.payment(p["id"]) or p
        self.emit(p, FINAL_EVENT[p["status"]])
        return p

    # --- server API: payments --------------------------------------------------------------------------

    async def create_payment(self, request: Request) -> Response:
        if not self.authorised(request):
            return _error(401, "unauthorized", "Bad API key.")
        key = request.headers.get("idempotency-key")
        if not key:
            return _error(400, "idempotency_key_required", "Send an Idempotency-Key header.")
        try:
            body = orjson.loads(await request.body())
            amount, currency, token = int(body["amount"]), str(body["currency"]), str(body["token"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return _error(400, "invalid_request", "amount, currency and token are required.")
        existing = self.store.payment_by_key(key)
        if existing is not None:
            if existing["status"] != "cancelled" and (
                existing["amount"],
                existing["currency"],
                existing["token"],
            ) != (amount, currency, token):
                return _error(
                    409, "idempotency_mismatch", "This idempotency key was used for another payment."
                )
            if existing["id"] in self.pending:
                await asyncio.shield(self.pending[existing["id"]])
            return _json(self.view(self.store.payment(existing["id"]) or existing), 200)
        tok = self.store.token(token)
        if tok is None:
            return _error(400, "no_such_token", "Unknown payment token.")
        if amount <= 0 or len(currency) != 3:
            return _error(400, "invalid_amount", "amount must be positive, currency ISO 4217.")
        allowed = cards.REDIRECT_TYPES.get(tok["type"])
        if allowed and currency not in allowed:
            return _error(400, "currency_not_supported", f"{tok['type']} accepts only {', '.join(allowed)}.")
        now = time.time()
        pid = new_id("psp_pay")
        p = {
            "id": pid,
            "idempotency_key": key,
            "amount": amount,
            "currency": currency,
            "token": token,
            "method_type": tok["type"],
            "status": "processing",
            "capture": bool(body.get("capture", True)),
            "captured_amount": 0,
            "refunded_amount": 0,
            "decline_code": None,
            "reference": body.get("reference"),
            "webhook_url": body.get("webhook_url"),
            "return_url": body.get("return_url"),
            "next_action": None,
            "created_at": now,
            "updated_at": now,
        }
        self.store.insert_payment(p)
        beh = cards.behaviour(tok["number"], tok["type"])
        if beh in ("three_ds", "redirect"):
            action = {
                "type": "three_ds" if beh == "three_ds" else "redirect",
                "url": f"{self.public_url}/v1/approve/{pid}",
            }
            self.store.update_payment(pid, status="requires_action", next_action=action)
            p = self.store.payment(pid) or p
        elif beh == "slow":
            task = asyncio.get_running_loop().create_task(self._finish_later(pid))
            self.pending[pid] = task
            await asyncio.shield(task)  # finishes even if the caller gave up waiting
            p = self.store.payment(pid) or p
        else:
            p = self.settle(p, beh)
        return _json(self.view(p), 201)

    async def _finish_later(self, pid: str) -> None:
        try:
            await asyncio.sleep(self.slow_seconds)
            p = self.store.payment(pid)
            if p is not None and p["status"] == "processing":
                self.settle(p, cards.SUCCESS)
        finally:
            self.pending.pop(pid, None)

    def _get(self, request: Request) -> tuple[dict[str, Any] | None, Response | None]:
        if not self.authorised(request):
            return None, _error(401, "unauthorized", "Bad API key.")
        p = self.store.payment(request.path_params["payment_id"])
        if p is None:
            return None, _error(404, "no_such_payment", "No such payment.")
        return p, None

    async def get_payment(self, request: Request) -> Response:
        p, err = self._get(request)
        return err or _json(self.view(p))  # type: ignore[arg-type]

    async def find_payment(self, request: Request) -> Response:
        if not self.authorised(request):
            return _error(401, "unauthorized", "Bad API key.")
        p = self.store.payment_by_key(request.query_params.get("idempotency_key", ""))
        return (
            _json(self.view(p))
            if p
            else _error(404, "no_such_payment", "No payment with this idempotency key.")
        )

    async def capture(self, request: Request) -> Response:
        p, err = self._get(request)
        if err:
            return err
        assert p is not None
        if p["status"] == "captured":
            return _json(self.view(p))
        if p["status"] != "authorised":
            return _error(409, "not_capturable", f"The payment is {p['status']}.")
        try:
            amount = int(orjson.loads(await request.body() or b"{}").get("amount") or p["amount"])
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            return _error(400, "invalid_request", 'Send {"amount": <minor units>} or nothing.')
        if not 0 < amount <= p["amount"]:
            return _error(400, "invalid_amount", "Capture at most the authorised amount.")
        self.store.update_payment(p["id"], status="captured", captured_amount=amount)
        p = self.store.payment(p["id"]) or p
        self.emit(p, "payment.captured")
        return _json(self.view(p))

    def _cancel(self, p: dict[str, Any]) -> Response:
        if p["status"] == "cancelled":
            return _json(self.view(p))
        if p["status"] not in ("processing", "requires_action", "authorised"):
            return _error(409, "not_cancellable", f"The payment is {p['status']}; refund it instead.")
        self.store.update_payment(p["id"], status="cancelled", next_action=None)
        p = self.store.payment(p["id"]) or p
        self.emit(p, "payment.cancelled")
        return _json(self.view(p))

    async def cancel(self, request: Request) -> Response:
        p, err = self._get(request)
        return err or self._cancel(p)  # type: ignore[arg-type]

    async def cancel_by_key(self, request: Request) -> Response:
        """Cancel by idempotency key, leaving a tombstone if the payment never arrived, so a late request
        with that key cannot charge anything."""
        if not self.authorised(request):
            return _error(401, "unauthorized", "Bad API key.")
        key = str(orjson.loads(await request.body() or b"{}").get("idempotency_key", ""))
        if not key:
            return _error(400, "invalid_request", "Give idempotency_key.")
        p = self.store.payment_by_key(key)
        if p is None:
            now = time.time()
            p = {
                "id": new_id("psp_pay"),
                "idempotency_key": key,
                "amount": 0,
                "currency": "XXX",
                "token": None,
                "method_type": None,
                "status": "cancelled",
                "capture": False,
                "captured_amount": 0,
                "refunded_amount": 0,
                "decline_code": "never_received",
                "reference": None,
                "webhook_url": None,
                "return_url": None,
                "next_action": None,
                "created_at": now,
                "updated_at": now,
            }
            self.store.insert_payment(p)
            return _json(self.view(p))
        return self._cancel(p)

    async def refund(self, request: Request) -> Response:
        p, err = self._get(request)
        if err:
            return err
        assert p is not None
        key = request.headers.get("idempotency-key")
        if not key:
            return _error(400, "idempotency_key_required", "Send an Idempotency-Key header.")
        done = self.store.refund_by_key(key)
        if done is not None:
            return _json(done)
        try:
            amount = int(orjson.loads(await request.body())["amount"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return _error(400, "invalid_request", "Give the amount to refund.")
        if p["status"] != "captured":
            return _error(409, "not_refundable", f"The payment is {p['status']}.")
        if not 0 < amount <= p["captured_amount"] - p["refunded_amount"]:
            return _error(400, "invalid_amount", "Refund at most what was captured and not yet refunded.")
        refund = self.store.insert_refund(p["id"], key, amount)
        self.store.update_payment(p["id"], refunded_amount=p["refunded_amount"] + amount)
        p = self.store.payment(p["id"]) or p
        self.emit(p, "refund.succeeded", {"refund": {**refund, "idempotency_key": key}})
        return _json(refund, 201)

    # --- shopper pages -----------------------------------------------------------------------------------

    async def approve_page(self, request: Request) -> Response:
        p = self.store.payment(request.path_params["payment_id"])
        if p is None or p["status"] != "requires_action":
            return HTMLResponse("<p>Nothing to approve.</p>", 404)
        amount = f"{p['amount'] / 100:.2f} {p['currency']}"
        return HTMLResponse(
            f"<!doctype html><title>Approve payment</title><h1>Test bank</h1><p>Approve {amount}?</p>"
            f'<form method="post"><button name="outcome" value="approve">Approve</button>'
            f'<button name="outcome" value="deny">Deny</button></form>'
        )

    async def approve(self, request: Request) -> Response:
        p = self.store.payment(request.path_params["payment_id"])
        if p is None:
            return _error(404, "no_such_payment", "No such payment.")
        is_form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        if is_form:
            outcome = (await request.form()).get("outcome")
        else:
            outcome = orjson.loads(await request.body() or b"{}").get("outcome")
        if p["status"] == "requires_action":
            p = self.settle(p, cards.SUCCESS if outcome == "approve" else "authentication_failed")
        if is_form and p.get("return_url"):
            return RedirectResponse(p["return_url"], 303)
        return _json(self.view(p))

    # --- test controls -----------------------------------------------------------------------------------

    async def test_payments(self, request: Request) -> Response:
        return _json([self.view(p) for p in self.store.all_payments()])

    async def test_webhooks(self, request: Request) -> Response:
        if request.method == "POST":
            self.deliver_webhooks = bool(orjson.loads(await request.body() or b"{}").get("deliver", True))
        return _json({"deliver": self.deliver_webhooks, "events": self.store.event_counts()})

    async def healthz(self, request: Request) -> Response:
        return _json({"status": "ok"})


def create_psp_app(
    store: Store,
    *,
    api_key: str,
    webhook_secret: str,
    slow_seconds: float = 30.0,
    public_url: str = "http://127.0.0.1:8765",
) -> Starlette:
    psp = PSP(
        store,
        api_key=api_key,
        webhook_secret=webhook_secret,
        slow_seconds=slow_seconds,
        public_url=public_url,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        task = asyncio.get_running_loop().create_task(delivery.deliver_forever(psp))
        try:
            yield
        finally:
            task.cancel()
            store.close()

    routes = [
        Route("/healthz", psp.healthz),
        Route("/v1/tokens", partial(tokens.create_token, psp), methods=["POST"]),
        Route("/v1/tokens/{token}", partial(tokens.get_token, psp), methods=["GET"]),
        Route("/v1/tokens/{token}", partial(tokens.delete_token, psp), methods=["DELETE"]),
        Route("/v1/payments", psp.create_payment, methods=["POST"]),
        Route("/v1/payments", psp.find_payment, methods=["GET"]),
        Route("/v1/payments/cancel-by-key", psp.cancel_by_key, methods=["POST"]),
        Route("/v1/payments/{payment_id}", psp.get_payment),
        Route("/v1/payments/{payment_id}/capture", psp.capture, methods=["POST"]),
        Route("/v1/payments/{payment_id}/cancel", psp.cancel, methods=["POST"]),
        Route("/v1/payments/{payment_id}/refunds", psp.refund, methods=["POST"]),
        Route("/v1/approve/{payment_id}", psp.approve_page, methods=["GET"]),
        Route("/v1/approve/{payment_id}", psp.approve, methods=["POST"]),
        Route("/v1/test/payments", psp.test_payments),
        Route("/v1/test/webhooks", psp.test_webhooks, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.psp = psp
    return app
