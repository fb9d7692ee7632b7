"""Demo step: verified traders with their DSA details, warehouses (own or a fulfilment partner's) in the
launch regions, and a few merchant shipping rates."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from etalage.commerce.models import ShippingRate
from etalage.commerce.regions import REGIONS
from etalage.db import new_id, utcnow
from etalage.demo import DemoContext
from etalage.merchants.models import TraderProfile, TraderStatusEvent, Warehouse

CITIES = {
    "BE": ("Antwerpen", "2000", None), "NL": ("Rotterdam", "3011", None), "FR": ("Lyon", "69002", None),
    "DE": ("Leipzig", "04109", None), "ES": ("Valencia", "46001", None), "GB": ("Manchester", "M1 1AE", None),
    "US": ("Reno", "89501", "NV"), "ID": ("Jakarta", "10110", None),
}  # fmt: skip
REGISTERS = {"BE": "KBO/BCE", "NL": "KvK", "FR": "RCS", "DE": "Handelsregister", "ES": "Registro Mercantil",
             "GB": "Companies House", "US": "Secretary of State", "ID": "NIB"}  # fmt: skip
PARTNERS = ("Rhenus Fulfilment", "Bleckmann", "ShipBob", "Cubyn")


def _iban(rng_digits: str) -> str:
    """A Belgian IBAN with correct check digits (the demo's traders pass the same checks real ones do)."""
    bban = rng_digits[:12]
    check = 98 - int(bban + "111400") % 97  # "BE00" -> B=11, E=14
    return f"BE{check:02d}{bban}"


def build_merchants(ctx: DemoContext) -> None:
    rng, now = ctx.rng, utcnow()
    merchant_ids: list[str] = ctx.data.get("merchants") or []
    owners: list[str] = ctx.data.get("merchant_owners") or []
    moderator = ctx.data.get("moderator") or (owners[0] if owners else "system")
    regions = list(REGIONS)
    task = ctx.task("Merchants: traders and warehouses", len(merchant_ids))
    profiles, events, warehouses, rates = [], [], [], []
    coverage: dict[str, list[str]] = {}
    for i, (mid, owner) in enumerate(zip(merchant_ids, owners, strict=False)):
        home = ctx.data.get("user_regions", {}).get(owner) or regions[i % len(regions)]
        city, postal, _state = CITIES[home]
        digits = "".join(str(rng.randint(0, 9)) for _ in range(12))
        profiles.append(dict(
            merchant_id=mid, status="verified", legal_name=f"Demo Trader {i + 1} {'BV' if home in ('BE', 'NL') else 'Ltd'}",
            address_line1=f"{rng.choice(['Market', 'Harbour', 'Station', 'Church'])} street {rng.randint(1, 200)}",
            address_line2=None, postal_code=postal, city=city, country=home, phone=f"+32 3 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            email=f"trader{i + 1}@shops.example.com", id_document_type="company_extract",
            id_document_ref=f"{REGISTERS[home]}-{digits[:8]}", payment_account=_iban(digits),
            trade_register_name=REGISTERS[home], trade_register_number=digits[:10], self_certified_at=now - timedelta(days=60),
            status_reason="documents checked", submitted_at=now - timedelta(days=59), decided_at=now - timedelta(days=58),
            decided_by=moderator, created_at=now - timedelta(days=60), updated_at=now - timedelta(days=58),
        ))  # fmt: skip
        events += [
            dict(merchant_id=mid, from_status="draft", to_status="submitted", actor_id=owner,
                 reason="Submitted for verification.", created_at=now - timedelta(days=59)),
            dict(merchant_id=mid, from_status="submitted", to_status="verified", actor_id=moderator,
                 reason="documents checked", created_at=now - timedelta(days=58)),
        ]  # fmt: skip
        served = [home] + rng.sample([r for r in regions if r != home], rng.randint(1, 3))
        if i < 2 and "ID" not in served:
            served.append("ID")  # someone ships to Indonesia
        for region in served:
            city, postal, state = CITIES[region]
            partner = region != home and rng.random() < 0.5
            wid = new_id("whs")
            warehouses.append(dict(
                id=wid, merchant_id=mid, name=f"{city} {'hub' if partner else 'warehouse'}",
                operator="fulfilment_partner" if partner else "merchant",
                partner_name=rng.choice(PARTNERS) if partner else None, address_line1=f"Logistics park {rng.randint(1, 40)}",
                address_line2=None, postal_code=postal, city=city, state=state, region_code=region, active=True,
                created_at=now - timedelta(days=57),
            ))  # fmt: skip
            coverage.setdefault(mid, []).append(wid)
            if rng.random() < 0.25:
                reg = REGIONS[region]
                rates.append(dict(merchant_id=mid, region_code=region, fee_amount=reg.shipping_fee // 2 + 99,
                                  free_over_amount=reg.free_shipping_over, currency=reg.currency, updated_at=now))  # fmt: skip
        ctx.progress.advance(task)
    with ctx.db.session() as s:
        if profiles:
            s.execute(insert(TraderProfile), profiles)
            s.execute(insert(TraderStatusEvent), events)
            s.execute(insert(Warehouse), warehouses)
        if rates:
            s.execute(insert(ShippingRate), rates)
    ctx.data["warehouses"] = [
        {"id": w["id"], "merchant_id": w["merchant_id"], "region_code": w["region_code"]} for w in warehouses
    ]
    ctx.counts.update(traders=len(profiles), warehouses=len(warehouses))


STEP = (20, "merchants and regions", build_merchants)
