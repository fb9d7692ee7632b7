"""Synthetic shoppers: hidden tastes, a budget, an attention span; everything they do is an API call.

Per clip: an impression; a view whose length follows how much the clip suits them (taste for its
products' category + how engaging the products are + noise), or a quick skip; sometimes a like or a
share; for a shoppable clip, sometimes a product click, and for what suits them within budget, an
add-to-cart and a one-tap purchase (``POST /api/v1/buy-now`` with their saved card at the test PSP);
nobody buys the same product twice (kept or returned). A round later each purchase may disappoint (the
product's hidden return rate): the shop ships and delivers it, the shopper returns it through the
after-sale API and says so in a comment under the clip; a happy buyer sometimes praises it.
"""

from __future__ import annotations

import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import numpy as np

from etalage.demo import DEMO_PASSWORD
from etalage.feed.simulate.world import ProductTruth

PASSWORD = "simulated-shopper-pw"
UNHAPPY = ["Fell apart after one wash, sending it back. Disappointed.", "Looks nothing like the video, returning it.",
           "Cheap quality, broke in two days. Returned.", "Terrible, not worth the money, refund requested."]  # fmt: skip
HAPPY = ["Love it, great quality!", "Exactly as shown, very happy with it.", "Great buy, would recommend."]


@dataclass
class Tally:
    impressions: int = 0
    engaged_views: int = 0  # watched at least half
    likes_shares: int = 0
    clicks: int = 0
    carts: int = 0
    purchases: int = 0
    gmv: int = 0  # minor units (EUR)
    returns: int = 0
    returned_value: int = 0
    returns_recorded: int = 0  # return requests the platform accepted (POST /orders/{id}/returns)
    bait_impressions: int = 0
    bait_purchases: int = 0
    failed_purchases: int = 0

    def add(self, other: Tally) -> None:
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(other, k))


@dataclass
class Purchase:
    order_total: int
    product: ProductTruth
    video_id: str | None
    orders: list[tuple[str, str]]  # (order id, merchant id)
    variant_id: str
    round_no: int


def crn(*keys: object) -> np.random.Generator:
    """Common random numbers: the same shopper meeting the same clip in the same round decides the same way
    under every configuration, so differences between rankers are not noise."""
    return np.random.default_rng(zlib.crc32("|".join(map(str, keys)).encode()))


@dataclass
class Shopper:
    index: int
    region: str
    taste: dict[str, float]
    budget: int  # per round, minor units
    attention: float  # mean clips per session
    seed: int
    token: str = ""
    pending: list[Purchase] = field(default_factory=list)
    bought: set[str] = field(default_factory=set)  # product ids, kept or returned: never bought twice

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_shoppers(n: int, seed: int, topics: list[str], regions: tuple[str, ...]) -> list[Shopper]:
    out = []
    for i in range(n):
        rng = np.random.default_rng(seed * 100_003 + i)
        weights = rng.dirichlet(np.full(len(topics), 0.3))
        out.append(Shopper(i, regions[i % len(regions)], dict(zip(topics, weights.tolist(), strict=True)),
                           int(rng.uniform(3000, 20000)), float(rng.uniform(8, 30)), seed))  # fmt: skip
    return out


def register(client: httpx.Client, psp_url: str, s: Shopper, tag: str) -> None:
    email = f"sim.{tag}.{s.index}@shoppers.example.org"
    r = client.post("/api/v1/accounts", json={"email": email, "password": PASSWORD, "display_name": f"Sim {s.index}",
                                              "birth_date": "1990-04-04", "region_code": s.region})  # fmt: skip
    if r.status_code not in (201, 409):
        raise RuntimeError(f"registering a shopper failed: {r.status_code} {r.text[:300]}")
    for _ in range(30):  # a server's sign-in rate limit (per address) may make shoppers wait their turn
        r = client.post(
            "/api/v1/auth/token", json={"email": email, "password": PASSWORD, "name": "simulation"}
        )
        if r.status_code != 429:
            break
        time.sleep(float(r.headers.get("Retry-After", "2")))
    r.raise_for_status()
    s.token = r.json()["token"]
    client.post("/api/v1/me/addresses", headers=s.headers, json={
        "recipient": f"Sim {s.index}", "line1": "Simulation street 1", "postal_code": "1000", "city": "Simville",
        "country": s.region, "make_default": True}).raise_for_status()  # fmt: skip
    card = httpx.post(f"{psp_url}/v1/tokens", json={"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": date.today().year + 3}}, timeout=10)  # fmt: skip
    card.raise_for_status()
    client.post("/api/v1/me/payment-methods", headers=s.headers,
                json={"token": card.json()["token"], "make_default": True}).raise_for_status()  # fmt: skip


def _sig(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


class Session:
    """One visit: pages of the feed until attention runs out."""

    def __init__(self, client: httpx.Client, shopper: Shopper, truth: dict[str, ProductTruth],
                 mode: str | None, round_no: int) -> None:  # fmt: skip
        self.c, self.s, self.truth = client, shopper, truth
        self.mode, self.round = mode, round_no
        self.tally = Tally()
        self.events: list[dict[str, Any]] = []
        self.spent = 0

    def _event(self, kind: str, **fields: Any) -> None:
        self.events.append({"type": kind, "event_id": uuid.uuid4().hex, "occurred_at": datetime.now(UTC).isoformat(),
                            "surface": "for_you", **fields})  # fmt: skip

    def _flush(self) -> None:
        if self.events:
            now = datetime.now(UTC).isoformat()
            self.c.post(
                "/api/v1/events", headers=self.s.headers, json={"sent_at": now, "events": self.events}
            )
            self.events = []

    def run(self) -> Tally:
        clips = max(
            3, int(crn(self.s.seed, self.s.index, self.round, "attention").exponential(self.s.attention))
        )
        cursor, seen = None, 0
        while seen < clips:
            params: dict[str, Any] = {"limit": 10, "region": self.s.region}
            if self.mode:
                params["mode"] = self.mode
            if cursor:
                params["cursor"] = cursor
            page = self.c.get("/api/v1/feed", headers=self.s.headers, params=params).json()
            for item in page.get("items", []):
                if seen >= clips:
                    break
                seen += 1
                self.clip(item)
            self._flush()
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return self.tally

    def clip(self, item: dict[str, Any]) -> None:
        t = self.tally
        if item["kind"] != "video":
            return
        vid = item["id"]
        rng = crn(self.s.seed, self.s.index, self.round, vid)
        truths = [self.truth[p["id"]] for p in item["products"] if p["id"] in self.truth]
        appeal = max((x.appeal for x in truths), default=float(rng.normal(-0.3, 0.4)))
        taste = max((self.s.taste.get(x.topic, 0.0) for x in truths), default=0.05)
        interest = 3.0 * taste + appeal + float(rng.normal(0, 0.5))
        self._event("impression", video_id=vid)
        t.impressions += 1
        t.bait_impressions += int(any(x.bait for x in truths))
        ratio = float(np.clip(_sig(interest - 0.3) * 1.2 + rng.normal(0, 0.1), 0, 1.5))
        if ratio < 0.25:
            self._event("skip", video_id=vid, dwell_ms=int(ratio * 8000))
            return
        self._event("view_end", video_id=vid, dwell_ms=int(ratio * 8000), watch_ratio=round(ratio, 3))
        t.engaged_views += int(ratio >= 0.5)
        if rng.random() < _sig(interest - 1.5):
            self._event("like", video_id=vid)
            t.likes_shares += 1
        if rng.random() < _sig(interest - 2.5):
            self._event("share", video_id=vid, channel="message")
            t.likes_shares += 1
        if not truths or rng.random() > 0.6 * _sig(interest - 0.8):
            return
        # People buy a thing once: what they own, or sent back disappointed, is not clicked to buy again.
        truths = [x for x in truths if x.id not in self.s.bought]
        if not truths:
            return
        best = max(truths, key=lambda x: self.s.taste.get(x.topic, 0) * 2 + x.appeal)
        self._event("product_click", product_id=best.id, video_id=vid)
        t.clicks += 1
        price = next(
            (p["price"]["amount"] for p in item["products"] if p["id"] == best.id and p["price"]), None
        )
        want = 2.5 * self.s.taste.get(best.topic, 0) + 0.8 * best.appeal - 0.4
        if price is None or self.spent + price > self.s.budget or rng.random() > _sig(want):
            return
        self._event("add_to_cart", product_id=best.id, video_id=vid)
        t.carts += 1
        if rng.random() < 0.65:
            self._flush()
            self.buy(best, vid)

    def buy(self, product: ProductTruth, vid: str) -> None:
        detail = self.c.get(f"/api/v1/products/{product.id}", params={"region": self.s.region})
        variants = [v for v in detail.json().get("variants", []) if (v.get("available") or 0) > 0] if \
            detail.status_code == 200 else []  # fmt: skip
        if not variants:
            self.tally.failed_purchases += 1
            return
        v = variants[0]
        r = self.c.post("/api/v1/buy-now", headers={**self.s.headers, "Idempotency-Key": uuid.uuid4().hex},
                        json={"variant_id": v["id"], "quantity": 1, "source": {"video_id": vid}})  # fmt: skip
        if r.status_code not in (200, 201) or r.json().get("status") != "paid":
            self.tally.failed_purchases += 1
            return
        body = r.json()
        total = int(body["total"]["amount"])
        self.spent += total
        self.s.bought.add(product.id)
        self.tally.purchases += 1
        self.tally.gmv += total
        self.tally.bait_purchases += int(product.bait)
        orders = [(o["id"], o["merchant_id"]) for o in body.get("orders", [])]
        self.s.pending.append(Purchase(total, product, vid, orders, v["id"], self.round))


def merchant_tokens(client: httpx.Client, merchants: int) -> dict[str, dict[str, str]]:
    """Bearer headers of the demo marketplace's shop owners (they ship, and deliver, what was sold), by shop."""
    out: dict[str, dict[str, str]] = {}
    emails = ["merchant@etalage.test", *(f"owner{i}@shops.example.com" for i in range(1, merchants))]
    for email in emails:
        r = client.post(
            "/api/v1/auth/token", json={"email": email, "password": DEMO_PASSWORD, "name": "simulation"}
        )
        if r.status_code != 201 and r.status_code != 200:
            continue
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        for m in client.get("/api/v1/me", headers=headers).json().get("memberships", []):
            out.setdefault(m["merchant_id"], headers)
    return out


def return_through_platform(
    client: httpx.Client, s: Shopper, p: Purchase, shops: dict[str, dict[str, str]]
) -> bool:
    """The shop ships the order and the carrier delivers it (the shop's API), then the shopper asks to return
    it (``POST /api/v1/orders/{id}/returns``): returns reach the platform's after-sale records, which the
    feed's quality signal reads."""
    ok = False
    for order_id, merchant_id in p.orders:
        shop = shops.get(merchant_id)
        if shop is None:
            continue
        r = client.post(f"/api/v1/merchants/{merchant_id}/orders/{order_id}/shipments", headers=shop,
                        json={"carrier": "SimPost", "tracking_number": f"SIM-{order_id[-12:]}"})  # fmt: skip
        if r.status_code not in (200, 201):
            continue
        r = client.post(f"/api/v1/merchants/{merchant_id}/shipments/{r.json()['id']}/delivered", headers=shop,
                        json={"reason": "delivered (simulated carrier)"})  # fmt: skip
        if r.status_code != 200:
            continue
        r = client.post(f"/api/v1/orders/{order_id}/returns", headers=s.headers, json={
            "lines": [{"variant_id": p.variant_id, "quantity": 1}], "reason": "not as described"})  # fmt: skip
        ok = ok or r.status_code in (200, 201)
    return ok


def after_sale(client: httpx.Client, s: Shopper, shops: dict[str, dict[str, str]] | None) -> Tally:
    """Last round's purchases arrive: each is kept (sometimes praised) or returned (through the platform's
    return API when ``shops`` is given) and complained about: a comment under the clip, and now and then a
    report that the clip misled them."""
    t = Tally()
    for n, p in enumerate(s.pending):
        rng = crn(s.seed, s.index, p.product.id, p.round_no, n)  # the same decision in every configuration
        if rng.random() < p.product.return_prob:
            t.returns += 1
            t.returned_value += p.order_total
            if shops is not None:
                t.returns_recorded += int(return_through_platform(client, s, p, shops))
            if p.video_id and rng.random() < 0.8:
                client.post(f"/api/v1/videos/{p.video_id}/comments", headers=s.headers,
                            json={"text": UNHAPPY[int(rng.integers(len(UNHAPPY)))]})  # fmt: skip
            if p.video_id and rng.random() < 0.25:
                now = datetime.now(UTC).isoformat()
                client.post("/api/v1/events", headers=s.headers, json={"sent_at": now, "events": [
                    {"type": "report", "event_id": uuid.uuid4().hex, "occurred_at": now, "video_id": p.video_id,
                     "reason": "other"}]})  # fmt: skip
        elif p.video_id and rng.random() < 0.2:
            client.post(f"/api/v1/videos/{p.video_id}/comments", headers=s.headers,
                        json={"text": HAPPY[int(rng.integers(len(HAPPY)))]})  # fmt: skip
    s.pending = []
    return t
