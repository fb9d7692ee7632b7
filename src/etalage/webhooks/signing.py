"""Signatures on outbound webhooks: HMAC-SHA256 over ``"<timestamp>.<body>"`` with the endpoint's secret.

Headers: ``Etalage-Signature: t=<unix seconds>,v1=<hex digest>``, ``Etalage-Event-Id`` (deduplicate on it),
``Etalage-Event-Type``. A receiver recomputes the digest over the raw body, compares in constant time,
and refuses timestamps more than a few minutes away from its clock (a replayed capture).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Etalage-Signature"
EVENT_ID_HEADER = "Etalage-Event-Id"
EVENT_TYPE_HEADER = "Etalage-Event-Type"
TOLERANCE_SECONDS = 300


class BadSignature(ValueError):
    pass


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, now: float | None = None) -> None:
    """Raise :class:`BadSignature` unless ``header`` signs ``body`` with ``secret``, recently."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError) as exc:
        raise BadSignature("malformed signature header") from exc
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        raise BadSignature("signature does not match")
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE_SECONDS:
        raise BadSignature("timestamp outside the tolerance")
