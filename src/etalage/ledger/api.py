"""Ledger routes: a merchant's balances, payouts, statements (CSV/PDF) and order journals; admin payout
runs, payout confirmation and the trial balance."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query, Response

from etalage.accounts.deps import Admin, MerchantReader
from etalage.core.deps import DbSession
from etalage.core.pagination import Page, PageParams, page_params
from etalage.core.routing import api_router
from etalage.ledger import service, statements
from etalage.ledger.jobs import schedule_release
from etalage.ledger.models import Payout
from etalage.ledger.schemas import (
    BalanceOut,
    EntryOut,
    PayoutOut,
    PayoutPaidIn,
    PayoutRunIn,
    TrialBalanceOut,
    TrialBalanceRow,
)

router = api_router(prefix="/api/v1", tags=["ledger"])
Period = Annotated[
    str,
    Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="A month, YYYY-MM (UTC).", examples=["2026-01"]),
]


def startup(app) -> None:  # type: ignore[no-untyped-def]
    schedule_release(app.state.db, next_slot=False)


def payout_out(p: Payout) -> PayoutOut:
    return PayoutOut.model_validate(p, from_attributes=True)


@router.get("/merchants/{merchant_id}/balance", response_model=list[BalanceOut], tags=["merchants"])
def balance(merchant_id: str, principal: MerchantReader, session: DbSession) -> list[BalanceOut]:
    """What the merchant is owed per currency: pending (within the return window), available, in payout."""
    return service.merchant_balances(session, principal, merchant_id)


@router.get("/merchants/{merchant_id}/payouts", response_model=Page[PayoutOut], tags=["merchants"])
def list_payouts(
    merchant_id: str,
    principal: MerchantReader,
    session: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[PayoutOut]:
    rows, cursor = service.merchant_payouts(session, principal, merchant_id, params)
    return Page(items=[payout_out(p) for p in rows], next_cursor=cursor)


@router.get("/merchants/{merchant_id}/payouts/{payout_id}", response_model=PayoutOut, tags=["merchants"])
def get_payout(merchant_id: str, payout_id: str, principal: MerchantReader, session: DbSession) -> PayoutOut:
    return payout_out(service.merchant_payout(session, principal, merchant_id, payout_id))


@router.get(
    "/merchants/{merchant_id}/statement",
    tags=["merchants"],
    responses={200: {"content": {"text/csv": {}, "application/pdf": {}}}},
)
def statement(
    merchant_id: str,
    period: Period,
    principal: MerchantReader,
    session: DbSession,
    format: Literal["csv", "pdf"] = "csv",
) -> Response:
    """The payout statement for a month: opening and closing balances, every movement (gross, fee, net)."""
    st = service.statement(session, principal, merchant_id, period)
    name = f"etalage-statement-{merchant_id}-{period}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"}
    if format == "pdf":
        return Response(statements.to_pdf(st), media_type="application/pdf", headers=headers)
    return Response(statements.to_csv(st), media_type="text/csv; charset=utf-8", headers=headers)


@router.get(
    "/merchants/{merchant_id}/orders/{order_id}/ledger", response_model=list[EntryOut], tags=["merchants"]
)
def order_ledger(
    merchant_id: str, order_id: str, principal: MerchantReader, session: DbSession
) -> list[EntryOut]:
    return service.order_entries(session, principal, merchant_id, order_id)


@router.post("/admin/payouts/run", response_model=list[PayoutOut], tags=["admin"])
def run_payouts(body: PayoutRunIn, principal: Admin, session: DbSession) -> list[PayoutOut]:
    """A payout run: every merchant's available balance (per currency) into a payout for the period."""
    made = service.run_payouts(session, period_end=body.period_end, actor=principal.user_id)
    return [payout_out(p) for p in made]


@router.post("/admin/payouts/{payout_id}/paid", response_model=PayoutOut, tags=["admin"])
def payout_paid(payout_id: str, body: PayoutPaidIn, principal: Admin, session: DbSession) -> PayoutOut:
    """Record that the bank transfer of a payout went out (idempotent for the same reference)."""
    return payout_out(
        service.mark_paid(session, payout_id, reference=body.reference, actor=principal.user_id)
    )


@router.get("/admin/ledger/trial-balance", response_model=TrialBalanceOut, tags=["admin"])
def trial_balance(principal: Admin, session: DbSession) -> TrialBalanceOut:
    rows = [TrialBalanceRow(**r) for r in service.trial_balance(session)]
    sums: dict[str, int] = {}
    for r in rows:
        sums[r.currency] = sums.get(r.currency, 0) + r.balance
    return TrialBalanceOut(rows=rows, balanced=all(v == 0 for v in sums.values()))
