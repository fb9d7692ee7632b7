"""Seed a checkout benchmark: verified merchants with stock in Belgium, shoppers with saved card and address.

Runs in the benchmark's process against the server's database, through the services (as the tests do).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx


@dataclass
class Seeded:
    variant_ids: list[str]
    shoppers: list[tuple[str, str]]  # (user id, bearer token)


def seed(
    database_url: str,
    psp_url: str,
    *,
    merchants: int = 10,
    products_per_merchant: int = 20,
    shoppers: int = 200,
    stock: int = 1_000_000,
) -> Seeded:
    os.environ["ETALAGE_DATABASE_URL"] = database_url
    os.environ["ETALAGE_PSP_URL"] = psp_url
    os.environ.setdefault("ETALAGE_ARGON2_TIME_COST", "1")
    os.environ.setdefault("ETALAGE_ARGON2_MEMORY_KIB", "1024")
    from etalage.config import get_settings

    get_settings.cache_clear()
    from etalage.accounts import service as accounts
    from etalage.catalog import service as catalog
    from etalage.commerce import addresses
    from etalage.db import Database
    from etalage.inventory import service as inventory
    from etalage.merchants import service as merchant_service
    from etalage.payments import service as payments

    db = Database(database_url)
    variant_ids: list[str] = []
    people: list[tuple[str, str]] = []
    try:
        with db.session() as s:
            mod = accounts.register_user(
                s,
                email="mod@bench.example.com",
                password="bench-password-1",
                display_name="Mod",
                roles=["moderator"],
            )
            s.flush()
            mod_p = accounts.principal_for_user(s, mod.id)
            for i in range(merchants):
                owner = accounts.register_user(
                    s,
                    email=f"owner{i}@bench.example.com",
                    password="bench-password-1",
                    display_name=f"Owner {i}",
                )
                s.flush()
                org = accounts.create_organisation(s, owner.id, f"Bench shop {i}")
                s.flush()
                p = accounts.principal_for_user(s, owner.id)
                merchant_service.update_profile(
                    s,
                    p,
                    org.id,
                    dict(
                        legal_name=f"Bench {i} BV",
                        address_line1="Rue 1",
                        postal_code="1000",
                        city="Brussels",
                        country="BE",
                        phone="+32 2 123 45 67",
                        email=f"shop{i}@bench.example.com",
                        id_document_type="company_extract",
                        id_document_ref="KBO-1",
                        payment_account="BE68539007547034",
                        self_certification=True,
                    ),
                )
                merchant_service.submit_profile(s, p, org.id)
                merchant_service.decide(s, mod_p, org.id, "verify", "bench")
                w = merchant_service.create_warehouse(
                    s,
                    p,
                    org.id,
                    dict(
                        name="BE",
                        operator="merchant",
                        partner_name=None,
                        address_line1="Dock 1",
                        address_line2=None,
                        postal_code="1000",
                        city="Antwerp",
                        state=None,
                        region_code="BE",
                    ),
                )
                for j in range(products_per_merchant):
                    prod = catalog.create_product(
                        s,
                        p,
                        org.id,
                        dict(
                            title=f"Bench product {i}-{j}",
                            description="",
                            brand=None,
                            category_id=None,
                            tax_class="standard",
                            status="active",
                            variants=[
                                {
                                    "sku": f"B{i}-{j}",
                                    "options": {},
                                    "prices": [{"region_code": "BE", "amount": 1999}],
                                }
                            ],
                        ),
                    )
                    vid = catalog.product_out(s, prod).variants[0].id
                    inventory.record_movement(
                        s,
                        p,
                        org.id,
                        variant_id=vid,
                        warehouse_id=w.id,
                        kind="receive",
                        quantity=stock,
                        reason="bench stock",
                    )
                    variant_ids.append(vid)
        with httpx.Client(base_url=psp_url) as psp, db.session() as s:
            for k in range(shoppers):
                u = accounts.register_user(
                    s,
                    email=f"shopper{k}@bench.example.com",
                    password="bench-password-1",
                    display_name=f"Shopper {k}",
                    region_code="BE",
                    birth_date=None,
                )
                s.flush()
                p = accounts.principal_for_user(s, u.id)
                token, _ = accounts.create_api_token(s, p, name="bench")
                # No birth date is needed outside Belgium's age rule; give one so BE purchases pass it.
                import datetime as _dt

                u.birth_date = _dt.date(1990, 1, 1)
                addresses.add_address(
                    s,
                    p,
                    dict(
                        recipient=f"Shopper {k}",
                        line1="Main 1",
                        line2=None,
                        postal_code="1000",
                        city="Brussels",
                        state=None,
                        country="BE",
                        phone=None,
                    ),
                    True,
                )
                tok = psp.post(
                    "/v1/tokens",
                    json={
                        "type": "card",
                        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2099},
                    },
                ).json()
                from etalage.payments.provider import ProviderToken

                payments.save_method(
                    s, u.id, ProviderToken(tok["token"], "card", tok["brand"], tok["last4"], 12, 2099), True
                )
                people.append((u.id, token))
    finally:
        db.dispose()
    return Seeded(variant_ids, people)
