"""What checkout checks before it holds any stock: the buyer, the address, the payment method, the items.

Every check raises a problem that says what to do next; nothing is written until all of them pass.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from etalage.accounts import service as accounts
from etalage.catalog import lookups as catalog
from etalage.catalog.lookups import CheckoutItem
from etalage.commerce import addresses, launch, sources
from etalage.commerce.errors import (
    AgeRestricted,
    MerchantNotSelling,
    MissingCheckoutDetail,
    NoLongerSold,
    NotDeliverable,
    PriceChanged,
    RegionMismatch,
    RegionNotLaunched,
)
from etalage.commerce.regions import region
from etalage.core.errors import InvalidInput, NotFound
from etalage.db import utcnow
from etalage.merchants import service as merchants
from etalage.payments import service as payments
from etalage.promotions import offers as promo


def merge_lines(lines: list[Any]) -> list[Any]:
    """One line per variant (quantities add up)."""
    merged: dict[str, Any] = {}
    for ln in lines:
        prev = merged.get(ln.variant_id)
        merged[ln.variant_id] = (
            ln
            if prev is None
            else type(ln)(
                ln.variant_id,
                prev.quantity + ln.quantity,
                prev.expected_unit_amount,
                prev.expected_currency,
                prev.source_video_id or ln.source_video_id,
                prev.source_live_room_id or ln.source_live_room_id,
            )
        )
    return list(merged.values())


def check_buyer(session: Session, user_id: str, region_code: str, age_band: str | None = None) -> None:
    if not launch.is_launched(session, region_code):
        raise RegionNotLaunched(
            f"Etalage does not deliver to {region_code} yet; choose an address in another region."
        )
    min_age = region(region_code).min_purchase_age
    if not min_age:
        return
    if min_age == 18 and age_band in ("minor", "adult"):  # the caller's credential already says (core.auth)
        old_enough = age_band == "adult"
    else:
        age = accounts.user_age(session, user_id)
        if age is None:
            raise AgeRestricted(
                f"Buying for delivery to {region_code} needs your age: add your birth date "
                "(PATCH /api/v1/me) and try again.",
                min_age=min_age,
            )
        old_enough = age >= min_age
    if not old_enough:
        raise AgeRestricted(
            f"The law in {region_code} does not allow purchases by people under {min_age}; "
            "nothing was ordered or charged.",
            min_age=min_age,
        )


def buyer_details(session: Session, user_id: str, req: Any) -> tuple[Any, Any, str]:
    """The delivery address and payment method (chosen or default) and the region they deliver into."""
    address = addresses.address_for_checkout(session, user_id, req.address_id)
    if address is None:
        if req.address_id:
            raise NotFound(f"No address {req.address_id}.", field="address_id")
        raise MissingCheckoutDetail(
            "Add a delivery address (POST /api/v1/me/addresses), then try again.", missing="address"
        )
    region_code = address.country
    if req.cart_region is not None and req.cart_region != region_code:
        raise RegionMismatch(
            f"Your cart is priced for {req.cart_region} but the address is in {region_code}; "
            f"set the cart's region (PATCH /api/v1/cart) to see prices there."
        )
    check_buyer(session, user_id, region_code, req.buyer_age_band)
    method = payments.method_for_checkout(session, user_id, req.payment_method_id)
    if method is None:
        if req.payment_method_id:
            raise NotFound(f"No payment method {req.payment_method_id}.", field="payment_method_id")
        raise MissingCheckoutDetail(
            "Save a payment method (POST /api/v1/me/payment-methods), then try again.",
            missing="payment_method",
        )
    home = payments.METHOD_REGIONS.get(method.type)
    if home is not None and region_code not in home:
        raise InvalidInput(
            f"{method.type} works only for delivery to {', '.join(sorted(home))}; choose a card.",
            field="payment_method_id",
        )
    return address, method, region_code


def sellable_items(session: Session, lines: list[Any], region_code: str) -> dict[str, CheckoutItem]:
    """Today's facts for every line: on sale, priced for the region, at the price the shopper saw, from a
    trader allowed to sell. Raises on the first line that fails (price changes are reported together)."""
    sources.check(session, lines)
    items = catalog.checkout_items(session, [ln.variant_id for ln in lines], region_code)
    items = promo.with_flash_prices(session, items, region_code, utcnow())  # a running flash sale's price
    changes = []
    for ln in lines:
        it = items.get(ln.variant_id)
        if it is None or it.product_status == "draft":
            raise NotFound(f"No variant {ln.variant_id}.", field="variant_id")
        if it.product_status != "active" or it.variant_status != "active":
            raise NoLongerSold(
                f"{it.title} ({it.sku}) is no longer sold; remove it and try again.", variant_id=it.variant_id
            )
        if it.price_amount is None:
            raise NotDeliverable(
                f"{it.title} is not sold for delivery to {region_code}.",
                variant_id=it.variant_id,
                region=region_code,
            )
        seen = (ln.expected_unit_amount, ln.expected_currency or it.currency)
        if ln.expected_unit_amount is not None and seen != (it.price_amount, it.currency):
            changes.append(
                {
                    "variant_id": it.variant_id,
                    "was": {"amount": seen[0], "currency": seen[1]},
                    "now": {"amount": it.price_amount, "currency": it.currency},
                }
            )
    if changes:
        raise PriceChanged(
            "Some prices changed since you saw them; review them (GET /api/v1/cart shows the new "
            "ones, PUT the line again to accept) and check out again.",
            changes=changes,
        )
    merchant_ids = {it.merchant_id for it in items.values()}
    not_selling = merchant_ids - merchants.verified_merchant_ids(session, merchant_ids)
    if not_selling:
        raise MerchantNotSelling(
            "A seller in your order is not allowed to sell right now; remove their items.",
            merchant_ids=sorted(not_selling),
        )
    return items
