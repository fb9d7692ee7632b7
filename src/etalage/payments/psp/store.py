"""The test PSP's own storage: one SQLite file, used from the PSP's single event-loop thread."""

from __future__ import annotations

import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

import orjson

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
  token TEXT PRIMARY KEY, type TEXT NOT NULL, number TEXT, brand TEXT, last4 TEXT,
  exp_month INTEGER, exp_year INTEGER, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS payments (
  id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, amount INTEGER NOT NULL, currency TEXT NOT NULL,
  token TEXT, method_type TEXT, status TEXT NOT NULL, capture INTEGER NOT NULL,
  captured_amount INTEGER NOT NULL DEFAULT 0, refunded_amount INTEGER NOT NULL DEFAULT 0,
  decline_code TEXT, reference TEXT, webhook_url TEXT, return_url TEXT, next_action TEXT,
  created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (
  id TEXT PRIMARY KEY, payment_id TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, amount INTEGER NOT NULL,
  status TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY, payment_id TEXT, type TEXT NOT NULL, data TEXT NOT NULL, webhook_url TEXT,
  created_at REAL NOT NULL, delivered_at REAL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL,
  state TEXT NOT NULL DEFAULT 'pending');
CREATE INDEX IF NOT EXISTS ix_events_due ON events (state, next_attempt_at);
"""
PAYMENT_COLUMNS = (
    "id",
    "idempotency_key",
    "amount",
    "currency",
    "token",
    "method_type",
    "status",
    "capture",
    "captured_amount",
    "refunded_amount",
    "decline_code",
    "reference",
    "webhook_url",
    "return_url",
    "next_action",
    "created_at",
    "updated_at",
)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


class Store:
    def __init__(self, path: Path | str) -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # tokens
    def add_token(self, **row: Any) -> dict[str, Any]:
        row = dict(token=new_id("tok_test"), created_at=time.time(), **row)
        cols = ",".join(row)
        self.db.execute(
            f"INSERT INTO tokens ({cols}) VALUES ({','.join('?' * len(row))})", list(row.values())
        )
        return row

    def token(self, token: str) -> dict[str, Any] | None:
        cur = self.db.execute(
            "SELECT token, type, number, brand, last4, exp_month, exp_year FROM tokens WHERE token = ?",
            (token,),
        )
        r = cur.fetchone()
        if r is None:
            return None
        return dict(
            zip(("token", "type", "number", "brand", "last4", "exp_month", "exp_year"), r, strict=True)
        )

    def delete_token(self, token: str) -> bool:
        return self.db.execute("DELETE FROM tokens WHERE token = ?", (token,)).rowcount > 0

    # payments
    def _payment(self, where: str, arg: str) -> dict[str, Any] | None:
        r = self.db.execute(
            f"SELECT {','.join(PAYMENT_COLUMNS)} FROM payments WHERE {where} = ?", (arg,)
        ).fetchone()
        if r is None:
            return None
        p = dict(zip(PAYMENT_COLUMNS, r, strict=True))
        p["capture"] = bool(p["capture"])
        p["next_action"] = orjson.loads(p["next_action"]) if p["next_action"] else None
        return p

    def payment(self, payment_id: str) -> dict[str, Any] | None:
        return self._payment("id", payment_id)

    def payment_by_key(self, key: str) -> dict[str, Any] | None:
        return self._payment("idempotency_key", key)

    def insert_payment(self, p: dict[str, Any]) -> None:
        row = dict(p, next_action=orjson.dumps(p["next_action"]).decode() if p.get("next_action") else None)
        cols = [c for c in PAYMENT_COLUMNS if c in row]
        self.db.execute(
            f"INSERT INTO payments ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
            [row[c] for c in cols],
        )

    def update_payment(self, payment_id: str, **changes: Any) -> None:
        if "next_action" in changes:
            changes["next_action"] = (
                orjson.dumps(changes["next_action"]).decode() if changes["next_action"] else None
            )
        changes["updated_at"] = time.time()
        sets = ",".join(f"{k} = ?" for k in changes)
        self.db.execute(f"UPDATE payments SET {sets} WHERE id = ?", [*changes.values(), payment_id])

    def all_payments(self) -> list[dict[str, Any]]:
        ids = [r[0] for r in self.db.execute("SELECT id FROM payments ORDER BY created_at")]
        return [p for p in (self.payment(i) for i in ids) if p]

    # refunds
    def refund_by_key(self, key: str) -> dict[str, Any] | None:
        r = self.db.execute(
            "SELECT id, payment_id, amount, status FROM refunds WHERE idempotency_key = ?", (key,)
        ).fetchone()
        return dict(zip(("id", "payment_id", "amount", "status"), r, strict=True)) if r else None

    def insert_refund(self, payment_id: str, key: str, amount: int) -> dict[str, Any]:
        rid = new_id("re")
        self.db.execute(
            "INSERT INTO refunds (id, payment_id, idempotency_key, amount, status, created_at) VALUES (?,?,?,?,?,?)",
            (rid, payment_id, key, amount, "succeeded", time.time()),
        )
        return {"id": rid, "payment_id": payment_id, "amount": amount, "status": "succeeded"}

    # events (the webhook outbox)
    def add_event(
        self, payment_id: str | None, type_: str, data: dict[str, Any], webhook_url: str | None
    ) -> None:
        now = time.time()
        self.db.execute(
            "INSERT INTO events (id, payment_id, type, data, webhook_url, created_at, next_attempt_at, state) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (
                new_id("evt"),
                payment_id,
                type_,
                orjson.dumps(data).decode(),
                webhook_url,
                now,
                now,
                "pending" if webhook_url else "no_endpoint",
            ),
        )

    def due_events(self, limit: int = 100) -> list[tuple[str, str, str, str, int]]:
        return self.db.execute(
            "SELECT id, type, data, webhook_url, attempts FROM events WHERE state = 'pending' AND next_attempt_at <= ? "
            "ORDER BY created_at LIMIT ?",
            (time.time(), limit),
        ).fetchall()

    def mark_delivered(self, ids: list[str]) -> None:
        self.db.executemany(
            "UPDATE events SET state = 'delivered', delivered_at = ?, attempts = attempts + 1 WHERE id = ?",
            [(time.time(), i) for i in ids],
        )

    def mark_failed(self, ids: list[str], next_attempt_at: float, give_up: bool) -> None:
        state = "dead" if give_up else "pending"
        self.db.executemany(
            "UPDATE events SET attempts = attempts + 1, next_attempt_at = ?, state = ? WHERE id = ?",
            [(next_attempt_at, state, i) for i in ids],
        )

    def mark_dropped(self, ids: list[str]) -> None:
        self.db.executemany("UPDATE events SET state = 'dropped' WHERE id = ?", [(i,) for i in ids])

    def event_counts(self) -> dict[str, int]:
        counts = dict(self.db.execute("SELECT state, count(*) FROM events GROUP BY state").fetchall())
        due = "SELECT count(*) FROM events WHERE state = 'pending' AND next_attempt_at <= ?"
        counts["due"] = self.db.execute(due, (time.time(),)).fetchone()[0]
        return counts
