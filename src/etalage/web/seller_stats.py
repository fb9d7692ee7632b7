"""The seller dashboard's figures, computed from the merchant's own orders: GMV and orders per day, and
the videos and creators that sold most; conversion from the events domain's engagement counters of the
shop's products (purchases per product view). Charts are small server-rendered SVGs: no chart library,
no script."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from etalage.core.pagination import PageParams
from etalage.db import utcnow

SOLD = {"paid", "fulfilling", "shipped", "delivered", "completed", "partially_refunded"}
DAYS = 30
MAX_ORDERS = 5000


@dataclass
class Figures:
    currency: str | None = None
    gmv: int = 0
    orders: int = 0
    by_day: dict[date, tuple[int, int]] = field(default_factory=dict)  # day -> (gmv, orders)
    by_video: dict[str, int] = field(default_factory=dict)
    units: int = 0


def figures(session: Any, principal: Any, merchant_id: str, today: date | None = None) -> Figures:
    from etalage.commerce import manage

    today = today or utcnow().date()
    since = today - timedelta(days=DAYS - 1)
    out = Figures(by_day={since + timedelta(days=i): (0, 0) for i in range(DAYS)})
    by_video: dict[str, int] = defaultdict(int)
    cursor, seen = None, 0
    while seen < MAX_ORDERS:
        rows, cursor = manage.list_for_merchant(
            session, principal, merchant_id, PageParams(cursor, 200), None
        )
        for o in rows:
            seen += 1
            day = o.created_at.date()
            if day < since:
                cursor = None
                break
            if o.status not in SOLD:
                continue
            out.currency = out.currency or o.currency
            if o.currency != out.currency:
                continue  # one currency per chart; a multi-region shop sees its main one
            net = o.total_amount - o.refunded_amount
            out.gmv += net
            out.orders += 1
            gmv, count = out.by_day.get(day, (0, 0))
            out.by_day[day] = (gmv + net, count + 1)
            if o.source_video_id:
                by_video[o.source_video_id] += net
        if not cursor:
            break
    out.by_video = dict(sorted(by_video.items(), key=lambda kv: -kv[1])[:5])
    return out


def conversion(session: Any, merchant_id: str) -> tuple[int, int]:
    """(purchases, product views) over all the shop's products since they were listed, as counted by the
    events domain from the interaction stream (views are product opens: ``product_click``)."""
    from etalage.catalog import lookups as catalog
    from etalage.events import engagement

    counts = engagement.engagement_for(session, catalog.product_ids_of_merchant(session, merchant_id))
    return (
        sum(c.get("purchases", 0) for c in counts.values()),
        sum(c.get("clicks", 0) for c in counts.values()),
    )


def bar_chart(
    values: list[tuple[str, int]], label: str, width: int = 600, height: int = 160
) -> dict[str, Any]:
    """Bars (x, y, w, h) scaled to the largest value, for the template to draw as SVG rectangles."""
    top = max((v for _k, v in values), default=0) or 1
    gap, bottom = 2, 18
    slot = width / max(len(values), 1)
    bars = []
    for i, (key, value) in enumerate(values):
        h = round((height - bottom) * value / top, 1)
        bars.append({"x": round(i * slot + gap / 2, 1), "y": round(height - bottom - h, 1),
                     "w": round(slot - gap, 1), "h": h, "key": key, "value": value})  # fmt: skip
    return {"bars": bars, "width": width, "height": height, "label": label, "baseline": height - bottom}
