"""The one place that changes stock (this package). Every write is a conditional ``UPDATE … RETURNING`` plus a ledger row.

Why this cannot oversell, on either database:
- A reservation is ``UPDATE stock_levels SET reserved = reserved + :q WHERE … AND on_hand - reserved >= :q``.
  On PostgreSQL the row lock makes concurrent updates wait and re-check the condition on the row's newest
  version; on SQLite writers are serialised (``BEGIN IMMEDIATE``). A zero-row answer means "not enough".
- The CHECK constraints (``on_hand >= 0``, ``0 <= reserved <= on_hand``) back it up in the database.
- Reservation rows change state only ``WHERE status = 'active'`` (with ``RETURNING``), so a reservation is
  committed, released or expired exactly once even if payment, cancellation and expiry race.
- Rows are locked in (variant, warehouse) order so two checkouts never deadlock each other.

Every change appends a ``stock_movements`` row in the same transaction, with the levels after it.
"""

from etalage.inventory.stock.common import (
    STOCK_CHANGED,
    Held,
    NotDeliverable,
    OutOfStock,
    Want,
    publish_levels,
)
from etalage.inventory.stock.holds import (
    commit_for_orders,
    release_expired,
    release_for_orders,
    reserve,
    restock_order,
)
from etalage.inventory.stock.levels import adjust, count, level_of, receive, restock, set_warehouse_active

__all__ = [
    "STOCK_CHANGED",
    "Held",
    "NotDeliverable",
    "OutOfStock",
    "Want",
    "adjust",
    "commit_for_orders",
    "count",
    "level_of",
    "publish_levels",
    "receive",
    "release_expired",
    "release_for_orders",
    "reserve",
    "restock",
    "restock_order",
    "set_warehouse_active",
]
