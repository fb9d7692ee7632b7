"""A person's reviews in their data export, and gone (files too) after erasure; voucher use exported."""

from __future__ import annotations

import io

from PIL import Image

from etalage.config import get_settings
from etalage.promotions import privacy as promotions_privacy
from etalage.reviews import privacy
from tests.fulfilment.helpers import delivered_order


def test_export_then_erase_a_shoppers_reviews(api, factory, psp, db):
    merchant, shopper, product, order = delivered_order(api, factory, psp)
    r = api.post(f"/api/v1/orders/{order['id']}/reviews", json={"variant_id": product["variant_id"], "rating": 2,
                 "text": "My own words"}, headers=shopper.headers)  # fmt: skip
    review_id = r.json()["id"]
    buf = io.BytesIO()
    Image.new("RGB", (40, 40), (0, 90, 200)).save(buf, "PNG")
    assert api.post(f"/api/v1/reviews/{review_id}/photos", files={"file": ("a.png", buf.getvalue(), "image/png")},
                    headers=shopper.headers).status_code == 201  # fmt: skip
    folder = get_settings().media_dir / "reviews" / review_id
    assert folder.is_dir()
    with db.read() as s:
        exported = privacy.export_user_reviews(s, shopper.id)
        assert promotions_privacy.export_user_vouchers(s, shopper.id) == {"redemptions": []}
    assert exported["reviews"][0]["text"] == "My own words" and len(exported["reviews"][0]["photos"]) == 1
    with db.session() as s:
        assert privacy.erase_user_reviews(s, shopper.id) == {"reviews_deleted": 1, "reports_deleted": 0}
    assert not folder.exists()
    assert api.get(f"/api/v1/products/{product['product_id']}/reviews").json()["items"] == []
    with db.session() as s:  # idempotent
        assert privacy.erase_user_reviews(s, shopper.id) == {"reviews_deleted": 0, "reports_deleted": 0}
