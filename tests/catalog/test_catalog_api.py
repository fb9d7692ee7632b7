"""Products, variants, regional prices, images, search, and what other domains ask of the catalog."""

from __future__ import annotations

import io

from PIL import Image

from etalage.catalog import service as catalog
from etalage.core import bus


def _new(api, m, **overrides):  # type: ignore[no-untyped-def]
    body = {
        "title": "Linen shirt",
        "description": "Breathable summer shirt in washed linen",
        "brand": "Atelier",
        "status": "active",
        "variants": [
            {"sku": "LIN-S", "options": {"size": "S"}, "prices": [{"region_code": "BE", "amount": 4900}]},
            {"sku": "LIN-M", "options": {"size": "M"}, "prices": [{"region_code": "BE", "amount": 4900},
                                                                  {"region_code": "GB", "amount": 4200}]},
        ],
        **overrides,
    }  # fmt: skip
    return api.post(f"/api/v1/merchants/{m.merchant_id}/products", json=body, headers=m.headers)


def test_create_publish_and_browse(api, factory):
    m = factory.verified_merchant(regions=("BE",))
    changed: list[dict] = []

    def on_change(_t: str, p: dict) -> None:
        changed.append(p)

    bus.subscribe("catalog.product.changed", on_change)
    try:
        r = _new(api, m)
    finally:
        bus.unsubscribe("catalog.product.changed", on_change)
    assert r.status_code == 201, r.text
    product = r.json()
    assert [v["sku"] for v in product["variants"]] == ["LIN-S", "LIN-M"]
    assert product["variants"][1]["prices"] == [
        {"region_code": "BE", "amount": 4900, "currency": "EUR"},
        {"region_code": "GB", "amount": 4200, "currency": "GBP"},
    ]
    assert changed == [{"product_id": product["id"]}]
    listing = api.get("/api/v1/products", params={"region": "BE"}).json()["items"]
    assert [p["id"] for p in listing] == [product["id"]]
    assert listing[0]["variants"][0]["price"] == {"amount": 4900, "currency": "EUR"}
    assert listing[0]["variants"][0]["available"] == 0  # no stock received yet
    gb = api.get(f"/api/v1/products/{product['id']}", params={"region": "GB"}).json()
    assert [v["price"] for v in gb["variants"]] == [None, {"amount": 4200, "currency": "GBP"}]
    # A trader who is not verified is not on sale, whatever their products say.
    newcomer = factory.merchant()
    assert _new(api, newcomer, variants=[{"sku": "X1", "prices": [{"region_code": "BE", "amount": 100}]}]).status_code == 201
    assert len(api.get("/api/v1/products", params={"region": "BE"}).json()["items"]) == 1


def test_search_finds_words_and_prefixes_on_both_databases(api, factory):
    m = factory.verified_merchant()
    shirt = _new(api, m).json()
    _new(api, m, title="Ceramic mug", description="Hand-thrown stoneware", variants=[
        {"sku": "MUG-1", "prices": [{"region_code": "BE", "amount": 1800}]}])  # fmt: skip
    found = lambda q: [p["title"] for p in api.get("/api/v1/products", params={"region": "BE", "q": q}).json()["items"]]  # noqa: E731
    assert found("linen") == ["Linen shirt"]
    assert found("stonew") == ["Ceramic mug"]  # a prefix
    assert found("summer shirt") == ["Linen shirt"]  # every word
    assert found("LIN-M") == ["Linen shirt"]  # SKUs are searchable
    assert found("mug linen") == []
    assert found('"); DROP TABLE products; --') == []  # user input never reaches the query language
    assert found("") == ["Ceramic mug", "Linen shirt"]
    api.patch(f"/api/v1/merchants/{m.merchant_id}/products/{shirt['id']}", json={"title": "Hemp shirt"},
              headers=m.headers)  # fmt: skip
    assert found("hemp") == ["Hemp shirt"] and found("linen") == ["Hemp shirt"]  # description still says linen


def test_bad_products_are_refused(api, factory):
    m = factory.verified_merchant()
    cases = [
        {"variants": []},
        {"title": ""},
        {"variants": [{"sku": "A", "prices": [{"region_code": "BE", "amount": 0}]}]},
        {"variants": [{"sku": "A", "prices": [{"region_code": "BE", "amount": -100}]}]},
        {"variants": [{"sku": "A", "prices": [{"region_code": "BE", "amount": 10**15}]}]},
        {"variants": [{"sku": "A"}, {"sku": "A"}]},
        {"variants": [{"sku": "has space"}]},
        {"tax_class": "luxury"},
        {"status": "archived"},
    ]
    for overrides in cases:
        assert _new(api, m, **overrides).status_code == 422, overrides
    wrong_currency = [{"sku": "A", "prices": [{"region_code": "GB", "amount": 100, "currency": "EUR"}]}]
    assert _new(api, m, variants=wrong_currency).status_code == 422
    assert _new(api, m, variants=[{"sku": "A", "prices": [{"region_code": "ZZ", "amount": 1}]}]).status_code == 422
    unpriced = _new(api, m, variants=[{"sku": "A"}])
    assert unpriced.status_code == 409  # cannot be active without a price
    assert _new(api, m, category_id="cat_nope").status_code == 422
    assert _new(api, m).status_code == 201
    assert _new(api, m).status_code == 409  # the SKUs are taken


def test_lifecycle_and_tenant_walls(api, factory):
    m = factory.verified_merchant()
    product = _new(api, m, status="draft").json()
    base = f"/api/v1/merchants/{m.merchant_id}/products/{product['id']}"
    assert api.get(f"/api/v1/products/{product['id']}", params={"region": "BE"}).status_code == 404
    assert api.patch(base, json={"status": "active"}, headers=m.headers).json()["status"] == "active"
    assert api.get(f"/api/v1/products/{product['id']}", params={"region": "BE"}).status_code == 200
    assert api.patch(base, json={"status": "archived"}, headers=m.headers).json()["status"] == "archived"
    assert api.get(f"/api/v1/products/{product['id']}", params={"region": "BE"}).status_code == 404
    other = factory.merchant()
    assert api.get(base.replace(m.merchant_id, other.merchant_id), headers=other.headers).status_code == 404
    assert api.patch(base, json={"title": "Mine now"}, headers=other.headers).status_code == 404
    listed = api.get(f"/api/v1/merchants/{m.merchant_id}/products", params={"status": "archived"}, headers=m.headers)
    assert [p["id"] for p in listed.json()["items"]] == [product["id"]]


def test_images_are_checked_and_stripped(api, factory, settings):
    m = factory.verified_merchant()
    product = _new(api, m).json()
    buf = io.BytesIO()
    image = Image.new("RGB", (2000, 1000), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera maker: metadata a merchant's photo may leak
    image.save(buf, "JPEG", exif=exif)
    url = f"/api/v1/product-images/{product['id']}"
    r = api.post(url, files={"file": ("shirt.jpg", buf.getvalue(), "image/jpeg")}, data={"alt": "Blue shirt"},
                 headers=m.headers)  # fmt: skip
    assert r.status_code == 201, r.text
    media = r.json()["media"][0]
    assert (media["width"], media["height"]) == (1200, 600) and media["alt"] == "Blue shirt"
    served = api.get(media["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert b"SecretCam" not in served.content
    assert api.post(url, files={"file": ("x.jpg", b"not an image", "image/jpeg")}, headers=m.headers).status_code == 422
    assert api.post(url, headers=m.headers).status_code == 422
    other = factory.merchant()
    assert api.post(url, files={"file": ("y.jpg", buf.getvalue(), "image/jpeg")}, headers=other.headers).status_code == 404
    assert api.get("/media/products/../../etalage.db/x").status_code == 404


def test_interfaces_for_other_domains(api, factory, db):
    m = factory.verified_merchant(regions=("BE",))
    in_stock = factory.product(m, prices={"BE": 1000}, stock=2)
    sold_out = factory.product(m, prices={"BE": 1000}, stock=0)
    not_here = factory.product(m, prices={"NL": 1000}, stock=2)
    draft = factory.product(m, prices={"BE": 1000}, stock=2, status="draft")
    with db.read() as s:
        got = catalog.get_products(s, [draft["product_id"], in_stock["product_id"], "prd_unknown"])
        assert [p.id for p in got] == [draft["product_id"], in_stock["product_id"]]
        assert got[0].status == "draft" and got[1].variant_ids == [in_stock["variant_id"]]
        assert catalog.sellable_product_ids(s, "BE") == {in_stock["product_id"]}
        assert catalog.sellable_product_ids(s, "NL") == set()  # priced for NL, but no warehouse there
        assert catalog.sellable_product_ids(s, "ZZ") == set()
    assert sold_out and not_here
