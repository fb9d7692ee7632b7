"""Webhook delivery: the PSP's outbox of events, posted to each payment's webhook URL in signed batches
(Adyen-style), retried with exponential backoff and jitter, given up after MAX_WEBHOOK_ATTEMPTS."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from contextlib import suppress
from typing import TYPE_CHECKING

import httpx

from etalage.payments.signing import SIGNATURE_HEADER, sign

if TYPE_CHECKING:
    from etalage.payments.psp.app import PSP

log = logging.getLogger("etalage.psp")
MAX_WEBHOOK_ATTEMPTS = 15


async def deliver_forever(psp: PSP) -> None:
    async with httpx.AsyncClient(timeout=5.0) as client:
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(psp.wakeup.wait(), timeout=0.5)
            psp.wakeup.clear()
            await asyncio.sleep(0.05)  # let a few events gather into one batch
            try:
                await deliver_due(psp, client)
            except Exception:  # never let the loop die
                log.exception("webhook delivery round failed")


async def deliver_due(psp: PSP, client: httpx.AsyncClient) -> None:
    rows = psp.store.due_events(200)
    by_url: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
    for eid, type_, data, url, attempts in rows:
        by_url[url].append((eid, type_, data, attempts))
    for url, events in by_url.items():
        ids = [e[0] for e in events]
        if not psp.deliver_webhooks:
            psp.store.mark_dropped(ids)  # a lost webhook, for tests of recovery by polling
            continue
        body = (
            b'{"events":['
            + b",".join(
                b'{"id":"%s","type":"%s","data":%s}' % (e[0].encode(), e[1].encode(), e[2].encode())
                for e in events
            )
            + b"]}"
        )
        try:
            resp = await client.post(
                url,
                content=body,
                headers={
                    "content-type": "application/json",
                    SIGNATURE_HEADER: sign(psp.webhook_secret, body),
                },
            )
            ok = 200 <= resp.status_code < 300
        except httpx.HTTPError:
            ok = False
        if ok:
            psp.store.mark_delivered(ids)
        else:
            attempts = max(e[3] for e in events) + 1
            delay = min(600.0, 2.0**attempts) * random.uniform(0.5, 1.0)
            psp.store.mark_failed(ids, time.time() + delay, attempts >= MAX_WEBHOOK_ATTEMPTS)
