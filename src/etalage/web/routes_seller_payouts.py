"""Seller center: money. What the shop is owed (pending within the return window, available for the next
payout, on its way), its payouts, and a statement per month to download as CSV or PDF."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.responses import Response

from etalage.core.errors import NotFound
from etalage.core.routing import api_router
from etalage.web import i18n
from etalage.web.i18n import N_
from etalage.web.pages import MerchantPage, PageRoute, render
from etalage.web.routes_seller import SECTIONS, shop_context

router = api_router(route_class=PageRoute, include_in_schema=False)
SECTIONS.append(("payouts", "/payouts", N_("Payouts"), "bag"))
STATUS = {"created": N_("On its way"), "paid": N_("Paid")}


def _months(now: datetime, n: int = 12) -> list[str]:
    y, m = now.year, now.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


@router.get("/seller/{merchant_id}/payouts")
def payouts_page(ctx: MerchantPage, merchant_id: str) -> Response:
    from etalage.core.pagination import PageParams
    from etalage.ledger import service as ledger

    shop = shop_context(ctx, merchant_id, "payouts")
    balances = ledger.merchant_balances(ctx.db, ctx.principal, merchant_id)  # type: ignore[arg-type]
    payouts, _ = ledger.merchant_payouts(ctx.db, ctx.principal, merchant_id, PageParams(None, 24))  # type: ignore[arg-type]

    def money(amount: int, currency: str) -> str:
        return i18n.money(amount, currency, ctx.lang)

    return render(
        ctx, "seller/payouts.html",
        balances=[{"currency": b.currency, "pending": money(b.pending, b.currency),
                   "available": money(b.available, b.currency), "in_payout": money(b.in_payout, b.currency)}
                  for b in balances],
        payouts=[{"p": p, "amount": money(p.amount, p.currency), "status": STATUS.get(p.status, p.status)}
                 for p in payouts],
        months=_months(datetime.now(UTC)), **shop,
    )  # fmt: skip


@router.get("/seller/{merchant_id}/statements/{name}")
def statement_file(ctx: MerchantPage, merchant_id: str, name: str) -> Response:
    """``YYYY-MM.csv`` or ``YYYY-MM.pdf``: the month's statement, as the API gives it."""
    from etalage.ledger import service as ledger
    from etalage.ledger import statements

    period, _, fmt = name.partition(".")
    if fmt not in ("csv", "pdf") or len(period) != 7:
        raise NotFound("No such statement.")
    st = ledger.statement(ctx.db, ctx.principal, merchant_id, period)  # type: ignore[arg-type]
    headers = {"Content-Disposition": f'attachment; filename="etalage-statement-{period}.{fmt}"',
               "Cache-Control": "private, no-store"}  # fmt: skip
    if fmt == "pdf":
        return Response(statements.to_pdf(st), media_type="application/pdf", headers=headers)
    return Response(statements.to_csv(st), media_type="text/csv; charset=utf-8", headers=headers)
