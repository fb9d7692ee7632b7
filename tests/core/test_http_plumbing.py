"""The shared HTTP plumbing answers every kind of bad request with problem+json, never a 500."""

from __future__ import annotations

import httpx

PROBLEM = "application/problem+json"


def _is_problem(resp: httpx.Response, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["status"] == status
    assert body["type"].startswith("https://etalage.dev/problems/")
    assert body["title"] and body["detail"]
    assert body["request_id"] == resp.headers["x-request-id"]
    return body


def test_health_ready_and_metrics(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    api.get("/api/v1/me")
    metrics = api.get("/metrics")
    assert metrics.status_code == 200
    assert 'etalage_http_requests_total{method="GET",route="/api/v1/me",status="401"}' in metrics.text


def test_openapi_document_is_served(api):
    doc = api.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "Etalage API"
    assert "/api/v1/accounts" in doc["paths"]


def test_malformed_json_is_400(api):
    resp = api.post(
        "/api/v1/accounts", content=b'{"email": "a@b.c",', headers={"content-type": "application/json"}
    )
    body = _is_problem(resp, 400)
    assert body["type"].endswith("malformed-json")


def test_wrong_types_are_422_with_field_errors(api):
    resp = api.post("/api/v1/accounts", json={"email": 42, "password": ["x"], "display_name": None})
    body = _is_problem(resp, 422)
    locs = {e["loc"] for e in body["errors"]}
    assert {"body.email", "body.password", "body.display_name"} <= locs


def test_unknown_fields_are_rejected(api):
    resp = api.post(
        "/api/v1/accounts",
        json={"email": "x@y.zz", "password": "0123456789ab", "display_name": "X", "is_admin": True},
    )
    body = _is_problem(resp, 422)
    assert any(e["loc"] == "body.is_admin" for e in body["errors"])


def test_unknown_route_and_method(api):
    _is_problem(api.get("/api/v1/no-such-thing"), 404)
    _is_problem(api.delete("/api/v1/accounts"), 405)


def test_oversized_body_declared_is_413(api):
    resp = api.post(
        "/api/v1/accounts", content=b"x" * (1_048_576 + 1), headers={"content-type": "application/json"}
    )
    body = _is_problem(resp, 413)
    assert body["limit_bytes"] == 1_048_576


def test_oversized_body_streamed_without_length_is_413(api):
    def chunks():
        for _ in range(40):
            yield b"y" * 65536

    resp = api.post("/api/v1/accounts", content=chunks(), headers={"content-type": "application/json"})
    _is_problem(resp, 413)


def test_request_id_is_echoed_or_generated(api):
    resp = api.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert resp.headers["x-request-id"] == "trace-123"
    generated = api.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert generated != "bad id with spaces" and len(generated) == 16


def test_security_headers(api):
    resp = api.get("/healthz")
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["x-frame-options"] == "DENY"


def test_a_new_connection_on_a_port_used_before_starts_counting_afresh() -> None:
    """A connection closed while idle leaves its count behind; a later one from the same port (ephemeral
    ports come round again) must not inherit it, or its "Connection: close" comes early."""
    import time as _time

    from etalage.core.http import IDLE_CONNECTION_SECONDS, PlumbingMiddleware

    plumbing = PlumbingMiddleware(lambda *a: None, max_body_bytes=1024, keepalive_requests=100)  # type: ignore[arg-type]
    scope = {"client": ("127.0.0.1", 50123), "server": ("127.0.0.1", 8000)}
    assert not plumbing._last_on_connection(scope)  # an earlier connection from that port: one answer
    key = (scope["client"], scope["server"])
    served, _last = plumbing._served[key]
    plumbing._served[key] = (served, _time.monotonic() - IDLE_CONNECTION_SECONDS - 1)  # then it went idle
    closing = [i for i in range(1, 201) if plumbing._last_on_connection(scope)]
    assert closing == [100, 200]
