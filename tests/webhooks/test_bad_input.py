"""Bad input to the webhook and payout routes: a clear problem+json, and nothing changed."""

from __future__ import annotations

from etalage.webhooks.settings import webhook_settings


def _problem(r, status):  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_webhook_routes_refuse_bad_input_and_change_nothing(api, factory, monkeypatch):  # type: ignore[no-untyped-def]
    merchant = factory.merchant()
    base = f"/api/v1/merchants/{merchant.merchant_id}/webhooks"
    ep = api.post(f"{base}/endpoints", json={"url": "https://erp.example.com/a", "event_types": ["order.paid"]},
                  headers=merchant.headers).json()  # fmt: skip
    url = f"{base}/endpoints/{ep['id']}"
    _problem(api.patch(url, json={"url": "file:///etc/passwd"}, headers=merchant.headers), 422)
    _problem(api.patch(url, json={"event_types": []}, headers=merchant.headers), 422)
    _problem(api.patch(url, json={"secret": "mine"}, headers=merchant.headers), 422)  # not a field
    assert api.get(url, headers=merchant.headers).json()["url"] == "https://erp.example.com/a"
    _problem(api.post(f"{url}/replay", json={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
                      headers=merchant.headers), 422)  # fmt: skip
    _problem(api.post(f"{url}/replay", json={"since": "yesterday"}, headers=merchant.headers), 422)
    _problem(api.post(f"{base}/events/evt_01M8000000000000000000000A/replay", headers=merchant.headers), 404)
    _problem(api.get(f"{base}/attempts", params={"limit": 0}, headers=merchant.headers), 422)
    monkeypatch.setattr(webhook_settings(), "max_endpoints_per_merchant", 2)
    api.post(
        f"{base}/endpoints",
        json={"url": "https://erp.example.com/b", "event_types": ["*"]},
        headers=merchant.headers,
    )
    _problem(api.post(f"{base}/endpoints", json={"url": "https://erp.example.com/c", "event_types": ["*"]},
                      headers=merchant.headers), 409)  # fmt: skip
    assert len(api.get(f"{base}/endpoints", headers=merchant.headers).json()) == 2


def test_payout_routes_refuse_bad_input(api, factory):  # type: ignore[no-untyped-def]
    admin = factory.admin()
    _problem(api.post("/api/v1/admin/payouts/po_01M8000000000000000000000A/paid", json={"reference": "X"},
                      headers=admin.headers), 404)  # fmt: skip
    _problem(api.post("/api/v1/admin/payouts/run", json={"period_end": "soon"}, headers=admin.headers), 422)
    _problem(api.post("/api/v1/admin/payouts/run", json={"extra": 1}, headers=admin.headers), 422)
    assert api.post("/api/v1/admin/payouts/run", json={}, headers=admin.headers).json() == []  # nothing owed
