"""Kill the server with SIGKILL in the middle of checkouts, start it again, and check nothing was lost.

After the restart the server's own worker releases expired holds and asks the PSP about every payment left
open; the PSP keeps retrying its webhooks. Then: no unit lost or sold twice, no hold left behind, and every
payment the PSP captured has a paid order (and no order is paid without one).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from etalage.commerce.models import Order, OrderLine
from etalage.db import Database, upgrade
from etalage.inventory.models import StockReservation
from etalage.payments.models import Payment
from tests.commerce.helpers import assert_stock_consistent, buy, eventually, stock_of
from tests.conftest import ROOT, free_port
from tests.factories import Factory
from tests.payments.psp import CARDS

UNITS, SHOPPERS = 12, 30


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "etalage.cli", "serve", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("server did not start: " + (proc.stderr.read().decode() if proc.stderr else ""))
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_mid_checkout_loses_nothing(scratch_database_url, tmp_path, psp):
    upgrade(scratch_database_url)
    db = Database(scratch_database_url)
    try:
        factory = Factory(db)
        product = factory.product(factory.verified_merchant(), stock=UNITS)  # type: ignore[attr-defined]
        # Half pay with the card the PSP answers slowly, so checkouts are waiting on it when the server dies.
        shoppers = [
            factory.shopper("BE", psp=psp, card=CARDS["slow" if i % 2 else "success"])  # type: ignore[attr-defined]
            for i in range(SHOPPERS)
        ]
        port = free_port()
        env = dict(
            os.environ,
            ETALAGE_DATABASE_URL=scratch_database_url,
            ETALAGE_DATA_DIR=str(tmp_path / "data"),
            ETALAGE_PSP_URL=psp.url,
            ETALAGE_PSP_TIMEOUT_SECONDS="1",
            ETALAGE_RESERVATION_SECONDS="4",
            ETALAGE_PAYMENTS_SWEEP_SECONDS="1",
            ETALAGE_INPROCESS_WORKER="true",
            ETALAGE_AUTO_MIGRATE="false",
        )
        server = _serve(env, port)
        answers: list[int] = []

        def shop(shopper) -> None:  # type: ignore[no-untyped-def]
            try:
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                    answers.append(buy(client, shopper, product["variant_id"]).status_code)
            except httpx.HTTPError:
                answers.append(0)  # the server died under this request

        threads = [threading.Thread(target=shop, args=(s,)) for s in shoppers]
        for t in threads:
            t.start()
        # Kill while the PSP is still holding the slow payments (it answers after 2.5 s).
        eventually(lambda: _count(db, Payment, Payment.status == "pending") >= 3, timeout=10, interval=0.01)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        for t in threads:
            t.join()
        pending_at_crash = _count(db, Payment, Payment.status == "pending")
        assert pending_at_crash >= 1, "the kill came too late to test anything"

        server = _serve(env, port)  # same port: the PSP's webhooks find it again
        try:
            eventually(lambda: _count(db, Payment, Payment.status.in_(("pending", "requires_action"))) == 0, timeout=60)
            eventually(lambda: _count(db, StockReservation, StockReservation.status == "active") == 0, timeout=30)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(15)

        on_hand, reserved = stock_of(db, product["variant_id"])
        with db.read() as s:
            sold = s.scalar(
                select(func.coalesce(func.sum(OrderLine.quantity), 0))
                .join(Order, Order.id == OrderLine.order_id)
                .where(Order.status == "paid")
            )  # fmt: skip
            ours = {p.id: p for p in s.scalars(select(Payment))}
            paid_orders = {o.payment_id for o in s.scalars(select(Order).where(Order.status == "paid"))}
        assert reserved == 0 and on_hand >= 0
        assert on_hand + sold == UNITS, (on_hand, sold)  # no unit lost, none sold twice
        assert_stock_consistent(db)
        captured = {p["idempotency_key"] for p in psp.payments() if p["status"] == "captured" and p["idempotency_key"] in ours}
        assert captured == {pid for pid, p in ours.items() if p.status == "captured"}
        assert captured == paid_orders  # every charge has its paid order, and no order is paid without one
    finally:
        db.dispose()


def _count(db, model, where) -> int:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model).where(where)) or 0
