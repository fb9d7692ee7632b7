"""``etalage simulate``: synthetic shoppers use the running platform over HTTP, to compare rankers.

Each shopper has hidden tastes (a mix over product categories), a budget and an attention span. They
open the For You feed, watch (or skip) each clip as far as it suits them, like and share, open products,
buy with one tap (the real ``POST /api/v1/buy-now`` against the test PSP), and, once a purchase
disappoints them, return it and say so in a comment. Some products are *bait*: very engaging clips,
often returned. The same shoppers, with the same seeds, go through three configurations on identical
copies of one marketplace: the quality-aware ranker (the published default), an engagement-only
ranker, and the non-profiled feed. The report has GMV (gross and net of returns), conversion,
engagement-to-conversion and return rate per configuration, as a table and a PNG chart.

Nothing is faked in the database: every step is an API call. A return goes through the platform: the shop
(the demo's owner accounts) ships the order and records its delivery, then the shopper asks to return it
(``POST /api/v1/orders/{id}/returns``), which the feed's after-sale quality signal reads. What the platform
does not offer (an older build without returns) is reported as missing (``Report.missing``).
"""

from __future__ import annotations

from etalage.feed.simulate.runner import SimOptions, run_simulation

__all__ = ["SimOptions", "run_simulation"]
