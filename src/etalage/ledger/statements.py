"""A merchant's statement for a period (a calendar month, UTC): opening balances, every movement with its
gross, fee and net, closing balances; as rows, CSV or PDF (reportlab)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etalage.core.errors import InvalidInput
from etalage.core.money import format_minor
from etalage.ledger import accounts as acc
from etalage.ledger.models import JournalEntry, JournalLine

COLUMNS = ["date", "entry", "type", "order", "description", "currency", "gross", "fee", "net",
           "pending_change", "available_change", "in_payout_change"]  # fmt: skip


@dataclass
class Statement:
    merchant_id: str
    period: str
    start: datetime
    end: datetime
    opening: dict[str, dict[str, int]] = field(default_factory=dict)  # currency -> account -> owed
    closing: dict[str, dict[str, int]] = field(default_factory=dict)
    rows: list[dict[str, object]] = field(default_factory=list)


def period_bounds(period: str) -> tuple[datetime, datetime]:
    try:
        year, month = (int(x) for x in period.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("A period is a month, written YYYY-MM.", field="period") from exc
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _owed_before(session: Session, merchant_id: str, before: datetime) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for currency, account, amount in session.execute(
        select(JournalLine.currency, JournalLine.account, func.sum(JournalLine.amount))
        .where(JournalLine.merchant_id == merchant_id, JournalLine.account.in_(acc.MERCHANT_ACCOUNTS),
               JournalLine.created_at < before)
        .group_by(JournalLine.currency, JournalLine.account)
    ):  # fmt: skip
        out.setdefault(currency, dict.fromkeys(acc.MERCHANT_ACCOUNTS, 0))[account] = -int(amount or 0)
    return out


def build(session: Session, merchant_id: str, period: str) -> Statement:
    start, end = period_bounds(period)
    st = Statement(merchant_id, period, start, end, _owed_before(session, merchant_id, start),
                   _owed_before(session, merchant_id, end))  # fmt: skip
    entries = list(
        session.scalars(
            select(JournalEntry)
            .where(JournalEntry.merchant_id == merchant_id, JournalEntry.created_at >= start,
                   JournalEntry.created_at < end)
            .order_by(JournalEntry.created_at, JournalEntry.id)
        )
    )  # fmt: skip
    lines: dict[str, list[JournalLine]] = defaultdict(list)
    if entries:
        for ln in session.scalars(
            select(JournalLine).where(JournalLine.entry_id.in_([e.id for e in entries]))
        ):
            lines[ln.entry_id].append(ln)
    for e in entries:
        own = [ln for ln in lines[e.id] if ln.merchant_id == merchant_id]
        moved = {a: -sum(ln.amount for ln in own if ln.account == a) for a in acc.MERCHANT_ACCOUNTS}
        fee = -sum(ln.amount for ln in lines[e.id] if ln.account == acc.FEE_REVENUE)
        net = sum(moved.values())
        currency = lines[e.id][0].currency if lines[e.id] else ""
        st.rows.append(
            dict(date=e.created_at.strftime("%Y-%m-%d %H:%M"), entry=e.id, type=e.kind, order=e.order_id or "",
                 description=e.memo, currency=currency, gross=net + fee, fee=fee, net=net,
                 pending_change=moved[acc.MERCHANT_PENDING], available_change=moved[acc.MERCHANT_AVAILABLE],
                 in_payout_change=moved[acc.MERCHANT_PAYOUTS])
        )  # fmt: skip
    return st


def to_csv(st: Statement) -> str:
    """Amounts in minor units (machine-readable); balances first, then one row per movement."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["merchant", st.merchant_id, "period", st.period, "from", st.start.isoformat(),
                "to", st.end.isoformat()])  # fmt: skip
    w.writerow(["balance", "currency", "pending", "available", "in_payout"])
    for label, bal in (("opening", st.opening), ("closing", st.closing)):
        for cur, b in sorted(bal.items()):
            w.writerow(
                [label, cur, b[acc.MERCHANT_PENDING], b[acc.MERCHANT_AVAILABLE], b[acc.MERCHANT_PAYOUTS]]
            )
    w.writerow([])
    w.writerow(COLUMNS)
    for row in st.rows:
        w.writerow([row[c] for c in COLUMNS])
    return buf.getvalue()


def to_pdf(st: Statement) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), title=f"Statement {st.period}", author="Etalage")
    styles = getSampleStyleSheet()
    story: list[object] = [
        Paragraph(f"Statement {st.period}", styles["Title"]),
        Paragraph(f"Merchant {st.merchant_id} · {st.start:%Y-%m-%d} to {st.end:%Y-%m-%d} (UTC, end excluded)",
                  styles["Normal"]),
        Spacer(1, 12),
    ]  # fmt: skip
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke), ("FONTSIZE", (0, 0), (-1, -1), 8),
                       ("ALIGN", (1, 1), (-1, -1), "RIGHT")])  # fmt: skip
    bal = [["Balance", "Pending", "Available", "In payout"]]
    for label, balances in (("Opening", st.opening), ("Closing", st.closing)):
        for cur, b in sorted(balances.items()):
            bal.append([f"{label} ({cur})"] + [format_minor(b[a], cur) for a in acc.MERCHANT_ACCOUNTS])
    if len(bal) == 1:
        bal.append(["No activity", "", "", ""])
    story += [Table(bal, style=grid), Spacer(1, 12)]
    body = [["Date", "Type", "Order", "Description", "Gross", "Fee", "Net", "Pending", "Available"]]
    for r in st.rows:
        cur = str(r["currency"])
        money = [
            format_minor(int(r[k]), cur)
            for k in ("gross", "fee", "net", "pending_change", "available_change")
        ]  # type: ignore[call-overload]
        body.append(
            [
                r["date"],
                r["type"],
                r["order"],
                Paragraph(str(r["description"])[:120], styles["Normal"]),
                *money,
            ]
        )
    if len(body) == 1:
        body.append(["", "", "", "No movements in this period.", "", "", "", "", ""])
    story.append(Table(body, style=grid, repeatRows=1, colWidths=[70, 45, 150, 200, 60, 55, 60, 60, 60]))
    doc.build(story)
    return buf.getvalue()
