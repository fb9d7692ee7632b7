"""Which regions are open for business (the operator's switch), and shipping fees per merchant and region."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant, require_scope
from etalage.commerce.models import LaunchEvent, LaunchRegion, ShippingRate
from etalage.commerce.regions import REGIONS, Region, is_region, region
from etalage.core import bus
from etalage.core.errors import InvalidInput, NotFound
from etalage.db import utcnow

REGION_CHANGED = "commerce.region.changed"
_CACHE_SECONDS = 5.0  # other processes see a launch switch within this long
_cache: dict[str, tuple[float, frozenset[str]]] = {}
_cache_lock = threading.Lock()


def _forget(_topic: str, _payload: dict) -> None:
    _cache.clear()


bus.subscribe(REGION_CHANGED, _forget)


def launched_codes(session: Session) -> frozenset[str]:
    """Codes of the regions where Etalage sells now (cached for a few seconds; it is read on every checkout)."""
    url = str(session.get_bind().engine.url)
    hit = _cache.get(url)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    overrides = dict(session.execute(select(LaunchRegion.code, LaunchRegion.launched)).all())
    codes = frozenset(c for c, r in REGIONS.items() if overrides.get(c, r.launched_by_default))
    with _cache_lock:
        _cache[url] = (time.monotonic() + _CACHE_SECONDS, codes)
    return codes


def is_launched(session: Session, code: str) -> bool:
    return code in launched_codes(session)


@dataclass(frozen=True)
class RegionState:
    region: Region
    launched: bool
    changed_at: object | None
    reason: str | None


def list_regions(session: Session) -> list[RegionState]:
    rows = {r.code: r for r in session.scalars(select(LaunchRegion))}
    out = []
    for code, reg in REGIONS.items():
        row = rows.get(code)
        out.append(
            RegionState(
                reg,
                row.launched if row else reg.launched_by_default,
                row.changed_at if row else None,
                row.reason if row else None,
            )
        )
    return out


def set_launched(
    session: Session, principal: Principal, code: str, launched: bool, reason: str
) -> RegionState:
    require_scope(principal, "admin")
    if not is_region(code):
        raise NotFound(f"No region {code}; Etalage knows {', '.join(REGIONS)}.")
    row = session.get(LaunchRegion, code)
    now = utcnow()
    if row is None:
        row = LaunchRegion(
            code=code, launched=launched, changed_at=now, changed_by=principal.user_id, reason=reason
        )
        session.add(row)
    else:
        row.launched, row.changed_at, row.changed_by, row.reason = launched, now, principal.user_id, reason
    session.add(LaunchEvent(region_code=code, launched=launched, actor_id=principal.user_id, reason=reason))
    bus.publish(session, REGION_CHANGED, {"region": code, "launched": launched})
    return RegionState(region(code), launched, now, reason)


# --- shipping ----------------------------------------------------------------------------------------------


_r = ShippingRate.__table__.c
_SHIPPING = select(_r.merchant_id, _r.fee_amount, _r.free_over_amount).where(
    _r.merchant_id.in_(bindparam("merchants", expanding=True)), _r.region_code == bindparam("region")
)


def shipping_terms(
    session: Session, merchant_ids: list[str], region_code: str
) -> dict[str, tuple[int, int | None]]:
    """(fee, free-over threshold) per merchant for orders into ``region_code``: theirs, or the region's."""
    reg = region(region_code)
    terms = {m: (reg.shipping_fee, reg.free_shipping_over) for m in merchant_ids}
    if merchant_ids:
        rows = session.connection().execute(_SHIPPING, {"merchants": merchant_ids, "region": region_code})
        for mid, fee, free_over in rows:
            terms[mid] = (fee, free_over)
    return terms


def set_shipping_rate(
    session: Session,
    principal: Principal,
    merchant_id: str,
    region_code: str,
    fee: int,
    free_over: int | None,
) -> ShippingRate:
    require_merchant(principal, merchant_id, write=True)
    if not is_region(region_code):
        raise NotFound(f"No region {region_code}.")
    if free_over is not None and free_over <= 0:
        raise InvalidInput("free_over must be positive, or left out.", field="free_over")
    rate = session.get(ShippingRate, (merchant_id, region_code))
    currency = region(region_code).currency
    if rate is None:
        rate = ShippingRate(
            merchant_id=merchant_id,
            region_code=region_code,
            fee_amount=fee,
            free_over_amount=free_over,
            currency=currency,
        )
        session.add(rate)
    else:
        rate.fee_amount, rate.free_over_amount, rate.currency, rate.updated_at = (
            fee,
            free_over,
            currency,
            utcnow(),
        )
    return rate


def list_shipping_rates(session: Session, principal: Principal, merchant_id: str) -> list[ShippingRate]:
    require_merchant(principal, merchant_id)
    return list(
        session.scalars(
            select(ShippingRate)
            .where(ShippingRate.merchant_id == merchant_id)
            .order_by(ShippingRate.region_code)
        )
    )
