"""Holding stock for checkouts: reserve, then commit (sold), release or expire, exactly once each."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from etalage.db import new_id, utcnow
from etalage.inventory.stock.common import (
    _CANDIDATES,
    _HOLD,
    _INSERT_RESERVATIONS,
    _RESOLVE_IDS,
    _RESOLVE_ORDERS,
    _SELL,
    _UNHOLD,
    SR,
    Held,
    NotDeliverable,
    OutOfStock,
    Want,
    _is_postgres,
    _ledger,
    _move,
    publish_levels,
)
from etalage.inventory.stock.levels import restock

# --- reservations (checkout) -----------------------------------------------------------------------------


def _candidates(
    session: Session, variant_ids: list[str], region_code: str
) -> dict[str, list[tuple[str, int]]]:
    rows = session.connection().execute(_CANDIDATES, {"variants": variant_ids, "region": region_code})
    out: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for vid, wid, available in rows:
        out[vid].append((wid, int(available)))
    return out


def _take(
    session: Session, variant_id: str, need: int, candidates: list[tuple[str, int]], now: datetime
) -> list[tuple[str, int, Any]]:
    """Reserve up to ``need`` units: from one warehouse that has them all if possible (one parcel), else
    split over warehouses in id order. Returns (warehouse, quantity, levels after) per part."""
    whole = [c for c in candidates if c[1] >= need]
    first = [max(whole, key=lambda c: (c[1], c[0]))] if whole else []
    ordered = first + sorted(c for c in candidates if c not in first)
    parts = []
    for warehouse_id, available in ordered:
        if need <= 0:
            break
        q = min(need, available)
        if q <= 0:
            continue
        after = (
            session.connection()
            .execute(_HOLD, {"vid": variant_id, "wid": warehouse_id, "qty": q, "ts": now})
            .first()
        )
        if after is not None:  # None: someone was faster since we looked; the next round re-reads
            parts.append((warehouse_id, q, after))
            need -= q
    return parts


def reserve(
    session: Session, wants: list[Want], region_code: str, *, expires_at: datetime, actor: str
) -> list[Held]:
    """Hold stock for every line, from warehouses that deliver into ``region_code``, or raise.

    Raises :class:`NotDeliverable` if no active warehouse in the region stocks a variant, and
    :class:`OutOfStock` (with what is available) if there are not enough units; the caller's transaction
    then rolls back, so nothing is half-reserved.
    """
    now = utcnow()
    wants = sorted(wants, key=lambda w: (w.variant_id, w.order_id))
    snapshot = _candidates(session, sorted({w.variant_id for w in wants}), region_code)
    held: list[Held] = []
    moves: list[dict[str, Any]] = []
    for want in wants:
        candidates = snapshot.get(want.variant_id)
        if not candidates:
            raise NotDeliverable(
                f"Variant {want.variant_id} is not stocked in any warehouse that delivers to {region_code}.",
                variant_id=want.variant_id,
                region=region_code,
            )
        need = want.quantity
        for attempt in range(3):
            for warehouse_id, q, after in _take(session, want.variant_id, need, candidates, now):
                rid = new_id("rsv")
                held.append(Held(rid, want.order_id, want.variant_id, warehouse_id, q))
                moves.append(
                    _move(
                        want.variant_id,
                        warehouse_id,
                        "reserve",
                        0,
                        q,
                        after,
                        f"held until {expires_at:%Y-%m-%dT%H:%M:%SZ} for payment",
                        actor,
                        want.order_id,
                        now,
                    )
                )
                need -= q
            if need <= 0:
                break
            if attempt == 0:
                release_expired(session, variant_ids=[want.variant_id])  # units held by abandoned checkouts
            candidates = _candidates(session, [want.variant_id], region_code).get(want.variant_id, [])
        if need > 0:
            # what is left, plus what this request already took (its transaction is about to roll back)
            available = sum(max(0, a) for _, a in candidates) + want.quantity - need
            raise OutOfStock(
                f"Only {available} of variant {want.variant_id} left for delivery to {region_code}; "
                "lower the quantity or choose another variant.",
                variant_id=want.variant_id,
                requested=want.quantity,
                available=available,
            )
    session.connection().execute(
        _INSERT_RESERVATIONS,
        [
            dict(
                id=h.reservation_id,
                order_id=h.order_id,
                variant_id=h.variant_id,
                warehouse_id=h.warehouse_id,
                quantity=h.quantity,
                status="active",
                expires_at=expires_at,
                created_at=now,
            )
            for h in held
        ],
    )
    _ledger(session, moves)
    publish_levels(session, {w.variant_id for w in wants})
    return held


def _resolve(
    session: Session,
    stmt: Any,
    params: dict[str, Any],
    to: str,
    *,
    kind: str,
    reason: str,
    actor: str,
    sell: bool,
) -> list[Held]:
    """Move active reservations selected by ``stmt`` to ``to``, adjusting levels and the ledger once each."""
    now = utcnow()
    conn = session.connection()
    rows = conn.execute(stmt, {**params, "to_status": to, "ts": now}).all()
    held = sorted((Held(*r) for r in rows), key=lambda h: (h.variant_id, h.warehouse_id))
    moves = []
    for h in held:
        after = conn.execute(
            _SELL if sell else _UNHOLD,
            {"vid": h.variant_id, "wid": h.warehouse_id, "qty": h.quantity, "ts": now},
        ).one()
        moves.append(
            _move(
                h.variant_id,
                h.warehouse_id,
                kind,
                -h.quantity if sell else 0,
                -h.quantity,
                after,
                reason,
                actor,
                h.order_id,
                now,
            )
        )
    _ledger(session, moves)
    if not sell:  # selling a held unit does not change what is available
        publish_levels(session, {h.variant_id for h in held})
    return held


def commit_for_orders(session: Session, order_ids: list[str], *, actor: str, reason: str) -> list[Held]:
    """The orders are paid: their held units leave stock (``sell``). Returns what was committed; a
    reservation that had already expired is not among them (the caller re-reserves or refunds)."""
    if not order_ids:
        return []
    return _resolve(
        session,
        _RESOLVE_ORDERS,
        {"orders": order_ids},
        "committed",
        kind="sell",
        reason=reason,
        actor=actor,
        sell=True,
    )


def release_for_orders(session: Session, order_ids: list[str], *, actor: str, reason: str) -> list[Held]:
    """The orders will not be paid: give their held units back."""
    if not order_ids:
        return []
    return _resolve(
        session,
        _RESOLVE_ORDERS,
        {"orders": order_ids},
        "released",
        kind="release",
        reason=reason,
        actor=actor,
        sell=False,
    )


def release_expired(session: Session, *, variant_ids: list[str] | None = None, limit: int = 500) -> int:
    """Give back units held past their expiry (abandoned or crashed checkouts). Returns how many rows."""
    stmt = select(SR.id).where(SR.status == "active", SR.expires_at <= utcnow())
    if variant_ids is not None:
        stmt = stmt.where(SR.variant_id.in_(variant_ids))
    stmt = stmt.order_by(SR.expires_at).limit(limit)
    if _is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)  # never wait on a checkout committing these right now
    ids = list(session.connection().execute(stmt).scalars())
    if not ids:
        return 0
    return len(
        _resolve(
            session,
            _RESOLVE_IDS,
            {"ids": ids},
            "expired",
            kind="expire",
            reason="reservation expired unpaid",
            actor="system",
            sell=False,
        )
    )


def restock_order(session: Session, order_id: str, *, reason: str, actor: str) -> list[Held]:
    """Put a sold order's units back where they were taken from (an order cancelled before shipping).
    The caller guarantees this runs once per order (its status transition is conditional)."""
    rows = (
        session.connection()
        .execute(
            select(SR.id, SR.order_id, SR.variant_id, SR.warehouse_id, SR.quantity)
            .where(SR.order_id == order_id, SR.status == "committed")
            .order_by(SR.variant_id, SR.warehouse_id)
        )
        .all()
    )
    held = [Held(*r) for r in rows]
    for h in held:
        restock(
            session,
            variant_id=h.variant_id,
            warehouse_id=h.warehouse_id,
            quantity=h.quantity,
            reason=reason,
            actor=actor,
            reference=order_id,
        )
    return held
