"""One cart per shopper, across merchants, priced for one region; lines remember the price the shopper saw."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal
from etalage.catalog import lookups as catalog
from etalage.catalog.lookups import CheckoutItem
from etalage.commerce.checkout import LineIn
from etalage.commerce.errors import NoLongerSold, NotDeliverable
from etalage.commerce.models import Cart, CartLine
from etalage.commerce.regions import is_region, region
from etalage.commerce.schemas import CartLineOut, CartOut
from etalage.core.errors import InvalidInput, NotFound
from etalage.core.money import Money
from etalage.db import new_id, utcnow
from etalage.promotions import offers as promo

MAX_LINES = 50


def _priced(session: Session, variant_ids: list[str], region_code: str) -> dict[str, CheckoutItem]:
    """Today's price of each variant, a running flash sale's included: the price checkout will charge, so
    the price a line remembers and the cart shows is the one checkout compares with."""
    items = catalog.checkout_items(session, variant_ids, region_code)
    return promo.with_flash_prices(session, items, region_code, utcnow())


def _cart(
    session: Session, principal: Principal, *, create: bool, region_code: str | None = None
) -> Cart | None:
    cart = session.scalars(select(Cart).where(Cart.user_id == principal.user_id)).first()
    if cart is None and create:
        user = accounts.get_user(session, principal.user_id)
        code = region_code or (user.region_code if user.region_code and is_region(user.region_code) else "BE")
        cart = Cart(id=new_id("crt"), user_id=principal.user_id, region_code=code)
        session.add(cart)
        session.flush()
    return cart


def set_line(
    session: Session,
    principal: Principal,
    variant_id: str,
    quantity: int,
    source_video_id: str | None,
    source_live_room_id: str | None,
) -> Cart:
    """Put ``quantity`` of a variant in the cart at today's price (0 removes it). Setting a line again is how a
    shopper accepts a changed price."""
    cart = _cart(session, principal, create=True)
    assert cart is not None
    if quantity == 0:
        session.execute(
            delete(CartLine).where(CartLine.cart_id == cart.id, CartLine.variant_id == variant_id)
        )
        cart.updated_at = utcnow()
        return cart
    item = _priced(session, [variant_id], cart.region_code).get(variant_id)
    if item is None or item.product_status == "draft":
        raise NotFound(f"No variant {variant_id}.")
    if item.product_status != "active" or item.variant_status != "active":
        raise NoLongerSold(f"{item.title} is no longer sold.", variant_id=variant_id)
    if item.price_amount is None or item.currency is None:
        raise NotDeliverable(
            f"{item.title} is not sold in {cart.region_code}.", variant_id=variant_id, region=cart.region_code
        )
    line = session.get(CartLine, (cart.id, variant_id))
    if line is None:
        count = len(session.scalars(select(CartLine.variant_id).where(CartLine.cart_id == cart.id)).all())
        if count >= MAX_LINES:
            raise InvalidInput(f"A cart holds at most {MAX_LINES} different items.")
        line = CartLine(
            cart_id=cart.id,
            variant_id=variant_id,
            quantity=quantity,
            unit_amount=item.price_amount,
            currency=item.currency,
            source_video_id=source_video_id,
            source_live_room_id=source_live_room_id,
        )
        session.add(line)
    else:
        line.quantity, line.unit_amount, line.currency = quantity, item.price_amount, item.currency
        if source_video_id or source_live_room_id:
            line.source_video_id, line.source_live_room_id = source_video_id, source_live_room_id
    cart.updated_at, cart.checkout_id = utcnow(), None
    return cart


def remove_line(session: Session, principal: Principal, variant_id: str) -> Cart:
    cart = _cart(session, principal, create=False)
    line = session.get(CartLine, (cart.id, variant_id)) if cart else None
    if cart is None or line is None:
        raise NotFound(f"Variant {variant_id} is not in your cart.")
    session.delete(line)
    cart.updated_at = utcnow()
    return cart


def set_region(session: Session, principal: Principal, region_code: str) -> Cart:
    """Price the cart for another region: every line takes that region's price (or is dropped if not sold there)."""
    if not is_region(region_code):
        raise InvalidInput(f"Etalage has no region {region_code}.", field="region_code")
    cart = _cart(session, principal, create=True, region_code=region_code)
    assert cart is not None
    cart.region_code, cart.updated_at = region_code, utcnow()
    lines = list(session.scalars(select(CartLine).where(CartLine.cart_id == cart.id)))
    items = _priced(session, [ln.variant_id for ln in lines], region_code)
    for ln in lines:
        it = items.get(ln.variant_id)
        if it is None or it.price_amount is None or it.currency is None:
            session.delete(ln)
        else:
            ln.unit_amount, ln.currency = it.price_amount, it.currency
    return cart


def view(session: Session, principal: Principal) -> CartOut:
    cart = _cart(session, principal, create=False)
    if cart is None:
        user = accounts.get_user(session, principal.user_id)
        code = user.region_code if user.region_code and is_region(user.region_code) else "BE"
        return CartOut(
            region_code=code,
            lines=[],
            subtotal=Money(amount=0, currency=region(code).currency),
            updated_at=None,
        )
    lines = list(
        session.scalars(select(CartLine).where(CartLine.cart_id == cart.id).order_by(CartLine.added_at))
    )
    items = _priced(session, [ln.variant_id for ln in lines], cart.region_code)
    out = []
    for ln in lines:
        it = items.get(ln.variant_id)
        sellable = (
            it is not None
            and it.product_status == "active"
            and it.variant_status == "active"
            and it.price_amount
        )
        out.append(
            CartLineOut(
                variant_id=ln.variant_id,
                product_id=it.product_id if it else None,
                merchant_id=it.merchant_id if it else None,
                title=it.title if it else None,
                sku=it.sku if it else None,
                quantity=ln.quantity,
                unit_price=Money(amount=ln.unit_amount, currency=ln.currency),
                current_price=Money(amount=it.price_amount, currency=it.currency)
                if sellable and it and it.currency
                else None,  # type: ignore[arg-type]
                source_video_id=ln.source_video_id,
                source_live_room_id=ln.source_live_room_id,
            )
        )
    currency = region(cart.region_code).currency
    subtotal = sum(ln.unit_amount * ln.quantity for ln in lines if ln.currency == currency)
    return CartOut(
        region_code=cart.region_code,
        lines=out,
        subtotal=Money(amount=subtotal, currency=currency),
        updated_at=cart.updated_at,
    )


def checkout_lines(session: Session, principal: Principal) -> tuple[Cart, list[LineIn]]:
    cart = _cart(session, principal, create=False)
    lines = list(session.scalars(select(CartLine).where(CartLine.cart_id == cart.id))) if cart else []
    if cart is None or not lines:
        raise InvalidInput("Your cart is empty; add something first (PUT /api/v1/cart/lines/{variant_id}).")
    return cart, [
        LineIn(
            ln.variant_id,
            ln.quantity,
            ln.unit_amount,
            ln.currency,
            ln.source_video_id,
            ln.source_live_room_id,
        )
        for ln in lines
    ]
