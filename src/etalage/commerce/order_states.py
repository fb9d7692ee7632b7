"""The order state machine, in one place: which transitions exist, and who may make them.

    awaiting_payment ─► paid ─► fulfilling ─► shipped ─► delivered ─► completed
           │              │          │            │           │           │
           ▼              ▼          └────────────┴───────────┴───────────┴─► partially_refunded ─► refunded
       cancelled      cancelled (before fulfilment; the payment is refunded in full)

A partially refunded order keeps moving through fulfilment for what was not refunded. Every transition is
recorded in ``order_events`` (from, to, actor, reason, at) by ``commerce.orders.transition``.
"""

from __future__ import annotations

from typing import Literal

OrderStatus = Literal[
    "awaiting_payment",
    "paid",
    "fulfilling",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "partially_refunded",
    "refunded",
]
STATUSES: tuple[OrderStatus, ...] = (
    "awaiting_payment",
    "paid",
    "fulfilling",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "partially_refunded",
    "refunded",
)
_REFUNDS: frozenset[OrderStatus] = frozenset({"partially_refunded", "refunded"})

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    "awaiting_payment": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"fulfilling", "cancelled"}) | _REFUNDS,
    "fulfilling": frozenset({"shipped"}) | _REFUNDS,
    "shipped": frozenset({"delivered"}) | _REFUNDS,
    "delivered": frozenset({"completed"}) | _REFUNDS,
    "completed": _REFUNDS,
    "partially_refunded": frozenset({"fulfilling", "shipped", "delivered", "completed"}) | _REFUNDS,
    "cancelled": frozenset(),
    "refunded": frozenset(),
}
TERMINAL: frozenset[OrderStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)

# Transitions a merchant makes by hand; the rest follow from payments (paid, cancelled on decline,
# refunds) or from the system (expiry).
MERCHANT_MOVES: frozenset[OrderStatus] = frozenset({"fulfilling", "shipped", "delivered", "completed"})
# What a shopper may still cancel, and whether money goes back.
SHOPPER_CANCELLABLE: frozenset[OrderStatus] = frozenset({"awaiting_payment", "paid"})


def can_move(current: str, to: str) -> bool:
    return to in TRANSITIONS.get(current, frozenset())  # type: ignore[arg-type]


def next_states(current: str) -> list[str]:
    return sorted(TRANSITIONS.get(current, frozenset()))  # type: ignore[arg-type]
