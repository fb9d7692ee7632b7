"""Demo step: categories, products with 1–4 variants, prices in every region their merchant delivers to,
a generated image each (small JPEGs, written in parallel with the inserts), and the search index."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import insert

from etalage.catalog import search
from etalage.catalog.media import relpath
from etalage.catalog.models import Category, Product, ProductMedia, Variant, VariantPrice
from etalage.catalog.views import media_url
from etalage.commerce.regions import REGIONS
from etalage.db import new_id, utcnow
from etalage.demo import DemoContext

# slug, name, tax class, nouns, option sets
CATEGORIES: list[tuple[str, str, str, list[str], list[dict[str, list[str]]]]] = [
    ("fashion", "Fashion", "standard", ["linen shirt", "denim jacket", "wrap dress", "knit sweater", "cargo pants"],
     [{"size": ["S", "M", "L", "XL"]}, {"colour": ["sand", "navy", "olive"]}]),
    ("beauty", "Beauty", "standard", ["lip tint", "face serum", "clay mask", "hair oil", "sunscreen"],
     [{"shade": ["light", "medium", "deep"]}, {}]),
    ("home", "Home", "standard", ["scented candle", "linen throw", "ceramic vase", "wall print", "rattan basket"],
     [{"colour": ["white", "terracotta", "sage"]}, {}]),
    ("kitchen", "Kitchen", "standard", ["chef knife", "cast-iron pan", "pour-over set", "bamboo board", "spice grinder"],
     [{}, {"size": ["small", "large"]}]),
    ("tech", "Tech accessories", "standard", ["phone case", "wireless charger", "earbuds", "ring light", "tripod"],
     [{"colour": ["black", "white", "pink"]}, {}]),
    ("books", "Books", "reduced", ["cookbook", "graphic novel", "travel guide", "poetry collection", "sketchbook"],
     [{}, {"format": ["paperback", "hardcover"]}]),
    ("food", "Food & snacks", "reduced", ["matcha powder", "chili crisp", "dark chocolate", "granola", "olive oil"],
     [{"size": ["250 g", "500 g"]}, {}]),
    ("toys", "Toys & games", "standard", ["puzzle", "plush bear", "building set", "card game", "kite"], [{}]),
    ("sports", "Sports", "standard", ["yoga mat", "running belt", "water bottle", "resistance bands", "cap"],
     [{"colour": ["black", "coral", "teal"]}, {}]),
    ("jewellery", "Jewellery", "standard", ["hoop earrings", "charm necklace", "signet ring", "anklet", "bracelet"],
     [{"metal": ["silver", "gold plated"]}, {}]),
    ("pets", "Pets", "standard", ["dog harness", "cat tree", "chew toy", "pet bed", "treat pouch"],
     [{"size": ["S", "M", "L"]}, {}]),
    ("stationery", "Stationery", "standard", ["dot-grid notebook", "gel pens", "washi tape", "desk planner", "brush pens"],
     [{}, {"colour": ["black", "assorted"]}]),
]  # fmt: skip
ADJECTIVES = ["Everyday", "Organic", "Handmade", "Classic", "Vintage", "Minimal", "Cosy", "Bold", "Pastel",
              "Recycled", "Premium", "Travel", "Mini", "Studio", "Coastal"]  # fmt: skip
# Rough conversion from a EUR price (VAT in) to the other regions' price conventions.
FX = {"EUR": 1.0, "GBP": 0.86, "USD": 1.08 / 1.2, "IDR": 17_000.0}


def _price(eur: int, currency: str) -> int:
    if currency == "IDR":
        return max(1_000_000, round(eur * FX["IDR"], -5))
    converted = round(eur * FX[currency] / 100) * 100 - 1  # a .99 price
    return max(99, converted)


def _image(path: Any, title: str, hue: int) -> None:
    img = Image.new("RGB", (320, 320), ((hue * 53) % 256, (hue * 97) % 256, (hue * 151) % 256))
    draw = ImageDraw.Draw(img)
    for y in range(0, 320, 8):  # a cheap gradient
        draw.line([(0, y), (320, y)], fill=((hue * 53 + y // 3) % 256, (hue * 97 + y // 5) % 256, 200))
    draw.rectangle([24, 230, 296, 296], fill=(255, 255, 255))
    draw.text((36, 250), title[:32], fill=(20, 20, 20))
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=78)
    path.write_bytes(buf.getvalue())


def build_catalog(ctx: DemoContext) -> None:
    rng, now = ctx.rng, utcnow()
    merchants: list[str] = ctx.data.get("merchants") or []
    regions_of: dict[str, set[str]] = {}
    for w in ctx.data.get("warehouses") or []:
        regions_of.setdefault(w["merchant_id"], set()).add(w["region_code"])
    if not merchants:
        return
    count = ctx.scale["products"]
    task = ctx.task("Catalog: products and images", count)
    categories = [dict(id=new_id("cat"), slug=slug, name=name, parent_id=None, position=i, created_at=now)
                  for i, (slug, name, *_rest) in enumerate(CATEGORIES)]  # fmt: skip
    products, variants, prices, media, docs, published = [], [], [], [], [], []
    images: list[tuple[Any, str, int]] = []
    media_root = ctx.settings.media_dir
    for n in range(count):
        merchant = merchants[n % len(merchants)]
        ci = rng.randrange(len(CATEGORIES))
        slug, cat_name, tax_class, nouns, option_sets = CATEGORIES[ci]
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(nouns)}"
        pid, created = new_id("prd"), now - timedelta(minutes=count - n)
        status = "draft" if rng.random() < 0.03 else "active"
        options = rng.choice(option_sets)
        combos = (
            [{}]
            if not options
            else [{k: v} for k, vals in options.items() for v in vals][: rng.randint(1, 4)]
        )
        base = rng.choice([900, 1200, 1500, 1999, 2499, 2900, 3499, 3900, 4900, 5900, 7900, 9900, 12900])
        served = sorted(regions_of.get(merchant) or {"BE"})
        vids = []
        for j, opts in enumerate(combos):
            vid = new_id("var")
            vids.append(vid)
            variants.append(dict(id=vid, product_id=pid, merchant_id=merchant, sku=f"D{n:04d}-{j}", options=opts,
                                 status="active", position=j, created_at=created))  # fmt: skip
            for region in served:
                currency = REGIONS[region].currency
                prices.append(dict(variant_id=vid, region_code=region, amount=_price(base + j * 100, currency),
                                   currency=currency, updated_at=created))  # fmt: skip
        description = f"{title} from our {cat_name.lower()} range. Ships from {', '.join(served)}."
        products.append(dict(id=pid, merchant_id=merchant, title=title, description=description, brand=None,
                             category_id=categories[ci]["id"], tax_class=tax_class, status=status, created_at=created,
                             updated_at=created, search_vector=None))  # fmt: skip
        mid = new_id("med")
        path = relpath(pid, mid)
        images.append((media_root / path, title, n))
        media.append(dict(id=mid, product_id=pid, merchant_id=merchant, path=path, content_type="image/jpeg",
                          width=320, height=320, alt=title, position=0, created_at=created))  # fmt: skip
        docs.append(
            (pid, search.document(title, None, description, cat_name, [(f"D{n:04d}", o) for o in combos]))
        )
        if status == "active":
            published.append({
                "id": pid, "title": title, "merchant_id": merchant, "category_id": categories[ci]["id"],
                "category": slug, "variant_ids": vids, "price_amount": base, "regions": served,
                "image_url": media_url(path), "tax_class": tax_class,
            })  # fmt: skip
    with ThreadPoolExecutor(max_workers=2) as pool:  # Pillow releases the GIL while encoding
        futures = [pool.submit(_image, *args) for args in images]
        with ctx.db.session() as s:
            s.execute(insert(Category), categories)
            for chunk in range(0, len(products), 500):
                s.execute(insert(Product), products[chunk : chunk + 500])
            s.execute(insert(Variant), variants)
            for chunk in range(0, len(prices), 2000):
                s.execute(insert(VariantPrice), prices[chunk : chunk + 2000])
            s.execute(insert(ProductMedia), media)
            search.write_documents(s, docs)
        for f in futures:
            f.result()
            ctx.progress.advance(task)
    ctx.data["products"] = published
    ctx.data["variants"] = [
        {"id": v["id"], "product_id": v["product_id"], "merchant_id": v["merchant_id"]} for v in variants
    ]
    ctx.data["prices"] = {(p["variant_id"], p["region_code"]): p["amount"] for p in prices}
    ctx.data["tax_classes"] = {p["id"]: p["tax_class"] for p in products}
    ctx.counts.update(products=len(products), variants=len(variants))


STEP = (30, "catalog", build_catalog)
