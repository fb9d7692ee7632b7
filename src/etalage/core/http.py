"""HTTP plumbing shared by every route: request ids, access log, metrics, body limits, security headers.

Written as one plain ASGI middleware (not Starlette's BaseHTTPMiddleware) because it sits on every request,
including the event-ingest and feed hot paths.
"""

from __future__ import annotations

import contextvars
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from prometheus_client import Counter, Histogram

from etalage.core.errors import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, PayloadTooLarge, internal_error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access_log = logging.getLogger("etalage.access")

REQUESTS = Counter("etalage_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "etalage_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# Routes that take large bodies (uploads) register their own limit by path prefix.
_BODY_LIMITS: dict[str, int] = {}


def register_body_limit(path_prefix: str, max_bytes: int) -> None:
    _BODY_LIMITS[path_prefix] = max_bytes


def body_limit_for(path: str, default: int) -> int:
    for prefix, limit in _BODY_LIMITS.items():
        if path.startswith(prefix):
            return limit
    return default


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# Pages may use only their own scripts and styles (no inline script); media may come from our own origin.
CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    b"media-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; "
    b"form-action 'self'; object-src 'none'"
)


IDLE_CONNECTION_SECONDS = 5.0  # uvicorn's timeout_keep_alive, which ``etalage serve`` leaves at its default


class PlumbingMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, hsts: bool = False, keepalive_requests: int = 0
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.hsts = hsts
        # After this many requests on one connection the answer says "Connection: close" (nginx's
        # keepalive_requests): with several worker processes sharing the listening socket, clients that
        # connected in a burst all land on one worker and stay there; reconnecting spreads them out.
        self.keepalive_requests = keepalive_requests
        # connection → (answers so far, when the last began); least recently used first
        self._served: OrderedDict[tuple[Any, Any], tuple[int, float]] = OrderedDict()

    def _last_on_connection(self, scope: Scope) -> bool:
        key = (scope.get("client"), scope.get("server"))  # a client's address and port name its connection
        now = time.monotonic()
        served, last = self._served.pop(key, (0, now))
        # Quiet for longer than the server keeps an idle connection open: that one is gone, and this is a new
        # connection that happens to have the same port (ASGI says nothing about connections closing).
        served = 1 if now - last > IDLE_CONNECTION_SECONDS else served + 1
        if served >= self.keepalive_requests:
            return True
        if len(self._served) >= 10_000:  # the least recently used went away: forgetting it is harmless
            self._served.popitem(last=False)
        self._served[key] = (served, now)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else secrets.token_hex(8)
        token = _request_id.set(request_id)
        if scope["type"] == "websocket":
            try:
                await self.app(scope, receive, send)
            finally:
                _request_id.reset(token)
            return

        start = time.perf_counter()
        status_holder = [500]
        limit = body_limit_for(scope["path"], self.max_body_bytes)
        declared = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                break
        received = 0
        too_large = [False]

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Frameworks may wrap this error while parsing; the flag makes sure the client
                    # gets a 413 whatever the route then tries to answer.
                    too_large[0] = True
                    raise PayloadTooLarge(
                        f"The body exceeds the limit of {limit} bytes for this route.", limit_bytes=limit
                    )
            return message

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(SECURITY_HEADERS)
                is_html = any(n == b"content-type" and v.startswith(b"text/html") for n, v in headers)
                if is_html and not any(n == b"content-security-policy" for n, _ in headers):
                    headers.append((b"content-security-policy", CSP))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                if self.keepalive_requests and self._last_on_connection(scope):
                    headers.append((b"connection", b"close"))
                message["headers"] = headers
            await send(message)

        started = [False]
        replaced = [False]

        async def tracking_send(message: Message) -> None:
            if replaced[0]:
                return
            if message["type"] == "http.response.start":
                started[0] = True
                if too_large[0] and message["status"] != 413:
                    replaced[0] = True
                    await _send_too_large(send_wrapper, limit, limit + 1, streamed=True)
                    return
            await send_wrapper(message)

        try:
            if declared is not None and (declared > limit or declared < 0):
                await _send_too_large(tracking_send, limit, declared)
            else:
                await self.app(scope, limited_receive, tracking_send)
        except Exception:
            # The last line of defence: answer problem+json with the request id, never an HTML 500.
            logging.getLogger("etalage.errors").exception(
                "unhandled error on %s %s", scope["method"], scope["path"]
            )
            if started[0]:
                raise
            await _send_json(tracking_send, 500, internal_error_body(scope["path"]))
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            REQUESTS.labels(method, template, str(status_holder[0])).inc()
            LATENCY.labels(method, template).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info("%s %s %s %.1fms", method, scope["path"], status_holder[0], elapsed * 1000.0)
            _request_id.reset(token)


async def _send_json(send: Send, status: int, body_obj: dict[str, Any]) -> None:
    body = orjson.dumps(body_obj)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_too_large(send: Send, limit: int, declared: int, streamed: bool = False) -> None:
    if declared < 0:
        detail = "Content-Length is not a valid number."
    elif streamed:
        detail = f"The body exceeds the limit of {limit} bytes for this route."
    else:
        detail = f"The body ({declared} bytes) exceeds the limit of {limit} bytes for this route."
    status = 400 if declared < 0 else 413
    await _send_json(
        send,
        status,
        {
            "type": PROBLEM_BASE + ("bad-request" if declared < 0 else "payload-too-large"),
            "title": "Bad request" if declared < 0 else "Request body too large",
            "status": status,
            "detail": detail,
            "limit_bytes": limit,
            "request_id": current_request_id(),
        },
    )
