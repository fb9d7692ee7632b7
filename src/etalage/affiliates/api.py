"""Affiliate routes: a creator's own commissions and totals; a merchant's rates and liabilities per creator;
the admin's record of commissions paid to a creator."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query

from etalage.accounts.deps import Admin, CurrentPrincipal, MerchantReader, MerchantWriter
from etalage.affiliates import rates, service
from etalage.affiliates.jobs import schedule_sweep
from etalage.affiliates.schemas import (
    CommissionOut,
    LiabilityRow,
    PaidOut,
    PayCreatorIn,
    RateIn,
    RatesOut,
    TotalsRow,
)
from etalage.core.deps import DbSession
from etalage.core.pagination import Page, PageParams, page_params
from etalage.core.routing import api_router

router = api_router(prefix="/api/v1", tags=["affiliates"])
Status = Literal["pending", "payable", "paid", "reversed"]


def startup(app) -> None:  # type: ignore[no-untyped-def]
    schedule_sweep(app.state.db, next_slot=False)


@router.get("/me/commissions", response_model=Page[CommissionOut])
def my_commissions(
    principal: CurrentPrincipal,
    session: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
    status: Status | None = None,
    video_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[CommissionOut]:
    """Your commissions as a creator, newest first."""
    rows, cursor = service.creator_commissions(session, principal, params, status, video_id)
    return Page(items=[service.commission_out(c) for c in rows], next_cursor=cursor)


@router.get("/me/commissions/totals", response_model=list[TotalsRow])
def my_totals(
    principal: CurrentPrincipal,
    session: DbSession,
    group: Literal["video", "live_room", "month", "day"] = "video",
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[TotalsRow]:
    """Your commissions summed per video, live room, month or day (UTC; default the last year), by state."""
    return service.creator_totals(session, principal, group, since, until)


@router.get("/commissions/{commission_id}", response_model=CommissionOut)
def get_commission(commission_id: str, principal: CurrentPrincipal, session: DbSession) -> CommissionOut:
    """One commission: for the creator who earned it and the merchant who owes it."""
    return service.commission_out(service.get_commission(session, principal, commission_id))


@router.get("/merchants/{merchant_id}/commissions", response_model=list[LiabilityRow], tags=["merchants"])
def liabilities(merchant_id: str, principal: MerchantReader, session: DbSession) -> list[LiabilityRow]:
    """What the merchant owes (pending, payable) or paid each creator, net of reversals."""
    return service.merchant_liabilities(session, principal, merchant_id)


@router.get("/merchants/{merchant_id}/commission-rates", response_model=RatesOut, tags=["merchants"])
def get_rates(merchant_id: str, principal: MerchantReader, session: DbSession) -> RatesOut:
    return service.rates_view(session, principal, merchant_id)


@router.put("/merchants/{merchant_id}/commission-rates", response_model=RatesOut, tags=["merchants"])
def set_rate(merchant_id: str, body: RateIn, principal: MerchantWriter, session: DbSession) -> RatesOut:
    """Set the creators' commission rate, merchant-wide or for one product (orders paid from now on)."""
    rates.set_rate(
        session, principal, merchant_id, body.rate_bp, product_id=body.product_id, reason=body.reason
    )
    return service.rates_view(session, principal, merchant_id)


@router.post("/admin/creators/{user_id}/commission-payments", response_model=list[PaidOut], tags=["admin"])
def pay_creator(user_id: str, body: PayCreatorIn, principal: Admin, session: DbSession) -> list[PaidOut]:
    """Record a transfer to a creator: every payable commission of theirs becomes paid."""
    return service.pay_creator(session, principal, user_id, body.reference)
