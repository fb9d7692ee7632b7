"""Builders for the buying domains, attached to ``tests.factories.Factory``; all go through the services."""

from __future__ import annotations

import itertools
from datetime import date
from typing import TYPE_CHECKING, Any

from etalage.accounts import service as accounts
from etalage.commerce import addresses
from etalage.merchants import service as merchants
from etalage.payments import service as payments
from etalage.payments.provider import ProviderToken

if TYPE_CHECKING:  # tests.factories imports this module to attach the builders
    from tests.factories import Actor, Factory

_seq = itertools.count(1)
US_STATE = "CA"
TRADER = {
    "legal_name": "Test Trading BV",
    "address_line1": "Rue de la Loi 1",
    "postal_code": "1000",
    "city": "Brussels",
    "country": "BE",
    "phone": "+32 2 123 45 67",
    "email": "trader@example.com",
    "id_document_type": "company_extract",
    "id_document_ref": "KBO-0123.456.789",
    "payment_account": "BE68539007547034",
    "trade_register_name": "KBO/BCE",
    "trade_register_number": "0123.456.789",
}


def _moderator(self: Factory) -> Actor:
    if not hasattr(self, "_moderator_actor"):
        self._moderator_actor = self.user("moderator", "shopper")  # type: ignore[attr-defined]
    return self._moderator_actor  # type: ignore[attr-defined]


def verified_merchant(
    self: Factory, name: str | None = None, *, regions: tuple[str, ...] = ("BE",), owner: Actor | None = None
) -> Actor:
    """A merchant whose trader details were submitted and verified, with one warehouse per region."""
    m = self.merchant(name=name, owner=owner)
    mod = _moderator(self)
    with self.db.session() as s:
        merchants.update_profile(s, m.principal, m.merchant_id or "", {**TRADER, "self_certification": True})
        merchants.submit_profile(s, m.principal, m.merchant_id or "")
        merchants.decide(s, mod.principal, m.merchant_id or "", "verify", "documents checked")
        warehouses = {}
        for region in regions:
            w = merchants.create_warehouse(
                s,
                m.principal,
                m.merchant_id or "",
                dict(
                    name=f"Warehouse {region}",
                    operator="merchant",
                    partner_name=None,
                    address_line1="Dock 1",
                    address_line2=None,
                    postal_code="1000",
                    city="City",
                    state=US_STATE if region == "US" else None,
                    region_code=region,
                ),
            )
            warehouses[region] = w.id
    m.extra["warehouses"] = warehouses
    return m


def product(
    self: Factory,
    merchant: Actor,
    *,
    prices: dict[str, int] | None = None,
    stock: int | dict[str, int] = 10,
    variants: int = 1,
    status: str = "active",
    tax_class: str = "standard",
    title: str | None = None,
) -> dict[str, Any]:
    """A product with ``variants`` SKUs priced in ``prices`` (default BE 19.99 EUR) and ``stock`` units of
    each in every one of the merchant's warehouses (a dict: per region)."""
    from etalage.catalog import service as catalog
    from etalage.commerce.regions import currency_of
    from etalage.inventory import service as inventory

    n = next(_seq)
    prices = prices or {"BE": 1999}
    body = {
        "title": title or f"Product {n}",
        "description": "A fine thing",
        "brand": "Brand",
        "category_id": None,
        "tax_class": tax_class,
        "status": status,
        "variants": [
            {
                "sku": f"SKU-{n}-{i}",
                "options": {"size": str(i)},
                "prices": [
                    {"region_code": r, "amount": a, "currency": currency_of(r)} for r, a in prices.items()
                ],
            }
            for i in range(variants)
        ],
    }
    with self.db.session() as s:
        p = catalog.create_product(s, merchant.principal, merchant.merchant_id or "", body)
        out = catalog.product_out(s, p)
        for v in out.variants:
            for region, wid in merchant.extra.get("warehouses", {}).items():
                qty = stock.get(region, 0) if isinstance(stock, dict) else stock
                if qty:
                    inventory.record_movement(
                        s,
                        merchant.principal,
                        merchant.merchant_id or "",
                        variant_id=v.id,
                        warehouse_id=wid,
                        kind="receive",
                        quantity=qty,
                        reason="initial stock",
                    )
    return {
        "product_id": out.id,
        "variant_ids": [v.id for v in out.variants],
        "variant_id": out.variants[0].id,
    }


def shopper(
    self: Factory,
    region: str = "BE",
    *,
    psp: Any = None,
    card: str = "4242424242424242",
    birth_date: date | None = date(1990, 1, 1),
    address: bool = True,
    method_type: str = "card",
) -> Actor:
    """A shopper with a default address in ``region`` and a default payment method (tokenised at ``psp``,
    or, without one, recorded as if it had been)."""
    actor = self.user("shopper", region_code=region, birth_date=birth_date)
    with self.db.session() as s:
        if address:
            a = addresses.add_address(
                s,
                actor.principal,
                dict(
                    recipient="Sam Shopper",
                    line1="Main street 1",
                    line2=None,
                    postal_code="1000",
                    city="City",
                    state=US_STATE if region == "US" else None,
                    country=region,
                    phone="+32 470 00 00 00",
                ),
                True,
            )
            actor.extra["address_id"] = a.id
        if psp is not None:  # the real path: tokenised at the provider, described by it
            m = payments.add_method(s, actor.principal, psp.tokenize(card, method_type), True)
        else:
            info = ProviderToken(f"tok_test_fake{next(_seq):08d}", method_type, "visa", card[-4:], 12, 2099)
            m = payments.save_method(s, actor.id, info, True)
        actor.extra["payment_method_id"] = m.id
    return actor


def admin(self: Factory) -> Actor:
    return self.user("admin", "shopper")


def set_birth_date(self: Factory, actor: Actor, birth: date | None) -> None:
    with self.db.session() as s:
        accounts.get_user(s, actor.id).birth_date = birth


FACTORY_METHODS = {
    "verified_merchant": verified_merchant,
    "product": product,
    "shopper": shopper,
    "admin": admin,
    "moderator": _moderator,
    "set_birth_date": set_birth_date,
}
