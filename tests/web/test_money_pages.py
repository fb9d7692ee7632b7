"""The seller center's money pages over HTTP: balance, payouts and monthly statements to download; webhook
endpoints (the secret shown once), recent events with their attempts, replay."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from etalage.db import utcnow
from etalage.ledger import postings
from tests.commerce.helpers import buy
from tests.web.conftest import csrf_from, sign_in_http


def test_payouts_page_and_statement_downloads(web, api, factory, psp, db):  # type: ignore[no-untyped-def]
    shop = factory.verified_merchant(name="Atelier Zuid")
    item = factory.product(shop, prices={"BE": 2500}, stock=3)
    order = buy(api, factory.shopper("BE", psp=psp), item["variant_id"]).json()["orders"][0]
    for step in ("fulfilling", "shipped", "delivered"):
        api.post(f"/api/v1/merchants/{shop.merchant_id}/orders/{order['id']}/transitions",
                 json={"to": step, "reason": "on its way"}, headers=shop.headers)  # fmt: skip
    with db.session() as s:
        postings.release_due(s, utcnow() + timedelta(days=15))
    admin = factory.admin()
    api.post("/api/v1/admin/payouts/run", json={}, headers=admin.headers)
    sign_in_http(web, shop.email)
    page = web.get(f"/seller/{shop.merchant_id}/payouts")
    assert page.status_code == 200 and 'id="balances"' in page.text and 'id="payouts"' in page.text
    month = datetime.now(UTC).strftime("%Y-%m")
    assert f"/seller/{shop.merchant_id}/statements/{month}.pdf" in page.text
    pdf = web.get(f"/seller/{shop.merchant_id}/statements/{month}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv = web.get(f"/seller/{shop.merchant_id}/statements/{month}.csv")
    assert csv.status_code == 200 and ",sale," in csv.text and ",payout," in csv.text
    assert web.get(f"/seller/{shop.merchant_id}/statements/{month}.exe").status_code == 404
    other = factory.verified_merchant()
    assert web.get(f"/seller/{other.merchant_id}/statements/{month}.csv").status_code == 404


def test_webhooks_page_adds_shows_the_secret_once_and_replays(web, api, factory, psp, db):  # type: ignore[no-untyped-def]
    shop = factory.verified_merchant(name="Atelier Zuid")
    sign_in_http(web, shop.email)
    url = f"/seller/{shop.merchant_id}/webhooks"
    token = csrf_from(web.get(url).text)
    bad = web.post(url, data={"url": "http://127.0.0.1/x", "event_types": "order.paid", "csrf_token": token})
    assert bad.status_code == 303 and bad.headers["location"].endswith("done=url")
    none = web.post(url, data={"url": "https://erp.example.com/hook", "csrf_token": token})
    assert none.headers["location"].endswith("done=types")
    made = web.post(url, data={"url": "https://erp.example.com/hook", "event_types": ["order.created", "order.paid"],
                               "csrf_token": token})  # fmt: skip
    assert made.status_code == 200 and 'id="new-secret"' in made.text
    secret = re.search(r'<code class="secret">(whsec_[^<]+)</code>', made.text).group(1)
    listed = web.get(url).text
    assert "https://erp.example.com/hook" in listed and secret not in listed  # shown once
    item = factory.product(shop, prices={"BE": 2500}, stock=3)
    buy(api, factory.shopper("BE", psp=psp), item["variant_id"])
    page = web.get(url).text
    events = re.findall(r'id="event-(evt_[0-9A-Z]+)"', page)
    assert len(events) == 2  # order.created and order.paid, waiting for the endpoint
    r = web.post(f"{url}/events/{events[0]}/replay", data={"csrf_token": token})
    assert r.status_code == 303 and "done=replayed" in r.headers["location"]
    assert 'id="attempts"' in web.get(r.headers["location"]).text
    endpoint = re.search(r'id="endpoint-(whe_[0-9A-Z]+)"', page).group(1)
    assert (
        web.post(f"{url}/{endpoint}/pause", data={"csrf_token": token})
        .headers["location"]
        .endswith("done=paused")
    )
    rotated = web.post(f"{url}/{endpoint}/rotate", data={"csrf_token": token})
    assert 'id="new-secret"' in rotated.text and secret not in rotated.text
    assert (
        web.post(f"{url}/{endpoint}/remove", data={"csrf_token": token})
        .headers["location"]
        .endswith("done=removed")
    )
    other = factory.verified_merchant()
    assert web.get(f"/seller/{other.merchant_id}/webhooks").status_code in (403, 404)
