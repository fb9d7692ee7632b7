"""What routes, pages and other domains use from affiliates.

- Accrual, reversal and the payable sweep run by themselves (``affiliates.accrual`` subscribes in-transaction
  to ``order.paid``, ``order.status.changed`` and ``return.*``, and listens to refunds).
- ``rates.set_rate`` / ``rates.rates_for`` / ``rates_view``: commission rates.
- ``get_commission``, ``creator_commissions``, ``creator_totals`` (per video, live room, month or day),
  ``merchant_liabilities`` (per creator), ``video_commissions`` (for the studio), ``pay_creator`` (admin).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from etalage.accounts.authz import Principal, require_merchant, require_scope
from etalage.affiliates import accrual, rates
from etalage.affiliates.models import Commission
from etalage.affiliates.schemas import (
    CommissionOut,
    LiabilityRow,
    PaidOut,
    RateChangeOut,
    RateOut,
    RatesOut,
    TotalsRow,
)
from etalage.core.errors import InvalidInput, NotFound, Problem
from etalage.core.pagination import PageParams, paginate
from etalage.db import utcnow

Group = Literal["video", "live_room", "month", "day"]
STATUSES = ("pending", "payable", "paid", "reversed")


def commission_out(c: Commission) -> CommissionOut:
    return CommissionOut(
        id=c.id, creator_id=c.creator_id, merchant_id=c.merchant_id, order_id=c.order_id, video_id=c.video_id,
        live_room_id=c.live_room_id, region_code=c.region_code, currency=c.currency, base_amount=c.base_amount,
        rate_bp=c.rate_bp, amount=c.amount, reversed_amount=c.reversed_amount, net_amount=c.net_amount,
        status=c.status, lines=c.lines, accrued_at=c.accrued_at, delivered_at=c.delivered_at,
        payable_at=c.payable_at, paid_at=c.paid_at,
    )  # fmt: skip


def get_commission(session: Session, principal: Principal, commission_id: str) -> Commission:
    """The creator's own commission, or one their merchant owes (404 otherwise: ids reveal nothing)."""
    c = session.get(Commission, commission_id)
    if c is None:
        raise NotFound(f"No commission {commission_id}.")
    if c.creator_id == principal.user_id and principal.bound_merchant_id is None:
        return c
    try:
        require_merchant(principal, c.merchant_id)
    except Problem as exc:  # not the shop's either (a 403 for a scope would say it exists)
        raise NotFound(f"No commission {commission_id}.") from exc
    return c


def _creator(principal: Principal) -> str:
    """Commissions are a person's own: a token bound to a merchant does not read them."""
    require_scope(principal, "profile")
    if principal.bound_merchant_id is not None:
        raise NotFound("A merchant's token has no creator commissions; use a personal token.")
    return principal.user_id


def creator_commissions(
    session: Session, principal: Principal, params: PageParams, status: str | None = None,
    video_id: str | None = None,
) -> tuple[list[Commission], str | None]:  # fmt: skip
    stmt = select(Commission).where(Commission.creator_id == _creator(principal))
    if status:
        stmt = stmt.where(Commission.status == status)
    if video_id:
        stmt = stmt.where(Commission.video_id == video_id)
    return paginate(session, stmt, Commission.id, params)


def _bucket(status: str) -> object:
    return func.coalesce(func.sum(case((Commission.status == status, Commission.amount - Commission.reversed_amount),
                                       else_=0)), 0)  # fmt: skip


def _totals_columns() -> list[object]:
    return [func.count(), func.coalesce(func.sum(Commission.base_amount), 0), _bucket("pending"),
            _bucket("payable"), _bucket("paid"), func.coalesce(func.sum(Commission.reversed_amount), 0)]  # fmt: skip


def creator_totals(
    session: Session, principal: Principal, group: Group = "video", since: datetime | None = None,
    until: datetime | None = None,
) -> list[TotalsRow]:  # fmt: skip
    """The creator's commissions summed per video, live room, month or day (accrual time, UTC)."""
    creator = _creator(principal)
    since, until = (
        t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t for t in (since, until)
    )
    until = until or utcnow() + timedelta(seconds=1)
    since = since or until - timedelta(days=366)
    if since >= until:
        raise InvalidInput("'since' must be before 'until'.", field="since")
    where = [Commission.creator_id == creator, Commission.accrued_at >= since, Commission.accrued_at < until]
    if group in ("video", "live_room"):
        col = Commission.video_id if group == "video" else Commission.live_room_id
        rows = session.execute(
            select(col, Commission.currency, *_totals_columns())
            .where(*where, col.is_not(None)).group_by(col, Commission.currency)
        ).all()  # fmt: skip
        return sorted((_row(TotalsRow, key=k, currency=cur, vals=v) for k, cur, *v in rows),
                      key=lambda r: (-(r.pending + r.payable + r.paid), r.key))  # fmt: skip
    fmt = "%Y-%m" if group == "month" else "%Y-%m-%d"
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 6)
    for at, cur, base, status, amount, back in session.execute(
        select(Commission.accrued_at, Commission.currency, Commission.base_amount, Commission.status,
               Commission.amount, Commission.reversed_amount).where(*where)
    ):  # fmt: skip
        s = sums[(at.strftime(fmt), cur)]
        s[0] += 1
        s[1] += base
        if status in ("pending", "payable", "paid"):
            s[2 + ("pending", "payable", "paid").index(status)] += amount - back
        s[5] += back
    return [_row(TotalsRow, key=k, currency=cur, vals=v) for (k, cur), v in sorted(sums.items())]


def _row(cls, *, vals, **kw):  # type: ignore[no-untyped-def]
    n, base, pending, payable, paid, back = (int(x or 0) for x in vals)
    extra = {"base_amount": base} if cls is TotalsRow else {}
    return cls(**kw, orders=n, pending=pending, payable=payable, paid=paid, reversed=back, **extra)


def merchant_liabilities(session: Session, principal: Principal, merchant_id: str) -> list[LiabilityRow]:
    """What the merchant owes or paid each creator (commissions net of reversals), largest first."""
    from etalage.accounts import service as accounts

    require_merchant(principal, merchant_id)
    rows = session.execute(
        select(Commission.creator_id, Commission.currency, *_totals_columns())
        .where(Commission.merchant_id == merchant_id)
        .group_by(Commission.creator_id, Commission.currency)
    ).all()
    names = accounts.display_names(session, sorted({r[0] for r in rows}))
    out = []
    for creator, cur, n, _base, *rest in rows:
        out.append(_row(LiabilityRow, creator_id=creator, creator_name=names.get(creator, ""), currency=cur,
                        vals=(n, 0, *rest)))  # fmt: skip
    return sorted(out, key=lambda r: (-(r.pending + r.payable + r.paid), r.creator_id))


def video_commissions(
    session: Session, creator_id: str, video_ids: list[str]
) -> dict[str, dict[str, TotalsRow]]:
    """video id -> currency -> the creator's commission totals on it (the studio's figures)."""
    out: dict[str, dict[str, TotalsRow]] = {}
    if not video_ids:
        return out
    rows = session.execute(
        select(Commission.video_id, Commission.currency, *_totals_columns())
        .where(Commission.creator_id == creator_id, Commission.video_id.in_(video_ids[:1000]))
        .group_by(Commission.video_id, Commission.currency)
    ).all()
    for vid, cur, *vals in rows:
        out.setdefault(vid, {})[cur] = _row(TotalsRow, key=vid, currency=cur, vals=vals)
    return out


def rates_view(session: Session, principal: Principal, merchant_id: str) -> RatesOut:
    rows = rates.rate_rows(session, principal, merchant_id)
    own = next((r.rate_bp for r in rows if r.product_id == ""), None)
    return RatesOut(
        merchant_id=merchant_id, max_rate_bp=rates.MAX_RATE_BP,
        region_defaults_bp={"*": rates.DEFAULT_RATE_BP, **rates.DEFAULT_RATE_BP_BY_REGION},
        merchant_rate_bp=own,
        products=[RateOut(product_id=r.product_id, rate_bp=r.rate_bp, updated_by=r.updated_by,
                          updated_at=r.updated_at) for r in rows if r.product_id],
        changes=[RateChangeOut(product_id=ch.product_id or None, from_bp=ch.from_bp, to_bp=ch.to_bp,
                               actor=ch.actor, reason=ch.reason, created_at=ch.created_at)
                 for ch in rates.changes(session, principal, merchant_id)],
    )  # fmt: skip


def pay_creator(session: Session, principal: Principal, creator_id: str, reference: str) -> list[PaidOut]:
    require_scope(principal, "admin")
    totals = accrual.pay_creator(session, creator_id, reference, principal.user_id)
    return [PaidOut(creator_id=creator_id, currency=cur, commissions=n, amount=amount)
            for cur, (n, amount) in sorted(totals.items())]  # fmt: skip
