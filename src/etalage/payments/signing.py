"""Webhook signatures shared by the test PSP (signs) and Etalage (verifies).

``PSP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`` (Stripe's scheme). The
timestamp is signed too, so a captured webhook replayed later than the tolerance is refused even though
its signature is genuine; within the tolerance, event ids make a replay harmless.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "psp-signature"
TOLERANCE_SECONDS = 300


class BadSignature(ValueError):
    pass


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={_mac(secret, ts, body)}"


def verify(secret: str, body: bytes, header: str | None, *, now: float | None = None) -> None:
    if not header:
        raise BadSignature("missing signature header")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise BadSignature("malformed signature header") from None
    if abs((time.time() if now is None else now) - ts) > TOLERANCE_SECONDS:
        raise BadSignature("signature timestamp outside the tolerance (a replay?)")
    if not hmac.compare_digest(given, _mac(secret, ts, body)):
        raise BadSignature("signature does not match")
