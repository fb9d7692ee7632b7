"""The creator studio's figures per video and the earnings page: views and completions from the events
domain's engagement counters, orders and sales from commerce, commission from affiliates (each through
its own read functions). Charts reuse the seller dashboard's small server-rendered SVG bars."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from etalage.db import utcnow
from etalage.web import i18n
from etalage.web.i18n import N_

DAYS = 30


def _engagement(session: Session, video_ids: list[str]) -> dict[str, dict[str, int]]:
    try:
        from etalage.events import engagement
    except ImportError:
        return {}
    return engagement.engagement_for(session, video_ids)


def _money_list(amounts: dict[str, int], lang: str) -> str:
    """Amounts in several currencies, as one string ("€12.00 + $3.00"); "—" when there is nothing."""
    shown = [i18n.money(a, c, lang) for c, a in sorted(amounts.items()) if a]
    return " + ".join(shown) or "—"


def video_figures(
    session: Session, creator_id: str, video_ids: list[str], lang: str
) -> dict[str, dict[str, Any]]:
    """Per video: views, completion (% of views watched to the end), orders, sales, commission by state."""
    from etalage.affiliates import service as affiliates
    from etalage.commerce import sales

    counts = _engagement(session, video_ids)
    sold = sales.video_sales(session, video_ids)
    earned = affiliates.video_commissions(session, creator_id, video_ids)
    out: dict[str, dict[str, Any]] = {}
    for vid in video_ids:
        c = counts.get(vid, {})
        views, done = int(c.get("views", 0)), int(c.get("completions", 0))
        by_cur = earned.get(vid, {})
        out[vid] = {
            "views": i18n.number(views, lang),
            "completion": f"{i18n.number(round(100 * done / views), lang)} %" if views else "—",
            "orders": i18n.number(sum(n for n, _gmv in sold.get(vid, {}).values()), lang),
            "sales": _money_list({cur: gmv for cur, (_n, gmv) in sold.get(vid, {}).items()}, lang),
            "pending": _money_list({cur: t.pending for cur, t in by_cur.items()}, lang),
            "payable": _money_list({cur: t.payable for cur, t in by_cur.items()}, lang),
            "paid": _money_list({cur: t.paid for cur, t in by_cur.items()}, lang),
            "commission": _money_list(
                {cur: t.pending + t.payable + t.paid for cur, t in by_cur.items()}, lang
            ),
        }
    return out


def video_stats(session: Session, creator_id: str, video_id: str, lang: str) -> dict[str, str]:
    """The video page's figures, label (translated by the template) -> value."""
    f = video_figures(session, creator_id, [video_id], lang)[video_id]
    return {
        N_("Views"): f["views"],
        N_("Watched to the end"): f["completion"],
        N_("Orders"): f["orders"],
        N_("Sales"): f["sales"],
        N_("Commission pending"): f["pending"],
        N_("Commission payable"): f["payable"],
        N_("Commission paid"): f["paid"],
    }


def earnings(session: Session, principal: Any, lang: str) -> dict[str, Any]:
    """The earnings page: totals by state, commission per day (30 days, the main currency), per video, per month."""
    from etalage.affiliates import service as affiliates
    from etalage.content import service as content
    from etalage.web import seller_stats

    per_video = affiliates.creator_totals(session, principal, "video")
    per_month = affiliates.creator_totals(session, principal, "month")
    today = utcnow().date()
    since = today - timedelta(days=DAYS - 1)
    per_day = affiliates.creator_totals(session, principal, "day", since=utcnow() - timedelta(days=DAYS))
    totals: dict[str, dict[str, int]] = {}
    for t in per_month:
        cur = totals.setdefault(t.currency, {"pending": 0, "payable": 0, "paid": 0, "reversed": 0})
        for k in cur:
            cur[k] += getattr(t, k)
    main = max(totals, key=lambda c: sum(totals[c].values()), default="EUR")
    daily = {t.key: t.pending + t.payable + t.paid for t in per_day if t.currency == main}
    days = [since + timedelta(days=i) for i in range(DAYS)]
    chart = seller_stats.bar_chart([(i18n.when(d, lang, "d MMM"), daily.get(d.isoformat(), 0)) for d in days],
                                   "commission")  # fmt: skip
    videos = content.get_videos(session, [t.key for t in per_video])

    def money(amount: int, currency: str) -> str:
        return i18n.money(amount, currency, lang)

    return {
        "totals": {k: _money_list({c: v[k] for c, v in totals.items()}, lang) for k in ("pending", "payable", "paid")},
        "commission_chart": chart,
        "money_of": lambda v: money(v, main),
        "by_video": [{"id": t.key, "caption": videos[t.key].caption if t.key in videos else t.key,
                      "orders": i18n.number(t.orders, lang), "pending": money(t.pending, t.currency),
                      "payable": money(t.payable, t.currency), "paid": money(t.paid, t.currency)}
                     for t in per_video],
        "by_month": [{"month": t.key, "orders": i18n.number(t.orders, lang), "pending": money(t.pending, t.currency),
                      "payable": money(t.payable, t.currency), "paid": money(t.paid, t.currency),
                      "reversed": money(t.reversed, t.currency)} for t in reversed(per_month)],
    }  # fmt: skip
