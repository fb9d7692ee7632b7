from __future__ import annotations

import time

import pytest

from etalage.webhooks import signing


@pytest.mark.db_agnostic
def test_a_signature_verifies_only_with_its_secret_body_and_time() -> None:
    body = b'{"id":"evt_1","type":"order.paid"}'
    now = int(time.time())
    header = signing.sign("whsec_a", now, body)
    signing.verify("whsec_a", header, body)
    for secret, b, h, at in (("whsec_b", body, header, now), ("whsec_a", body + b" ", header, now),
                             ("whsec_a", body, "t=1,v1=00", now), ("whsec_a", body, "garbage", now),
                             ("whsec_a", body, header, now + 301)):  # fmt: skip
        with pytest.raises(signing.BadSignature):
            signing.verify(secret, h, b, now=at)


@pytest.mark.db_agnostic
def test_payloads_are_stored_as_plain_json_without_the_shoppers_account() -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from etalage.webhooks.outbox import _clean

    payload = {"order_id": "ord_1", "user_id": "usr_1", "amount": Decimal("1.50"),
               "at": datetime(2026, 1, 1, tzinfo=UTC), "items": [{"user_id": "usr_1", "quantity": 2}]}  # fmt: skip
    assert _clean(payload) == {"order_id": "ord_1", "amount": "1.50", "at": "2026-01-01T00:00:00+00:00",
                               "items": [{"quantity": 2}]}  # fmt: skip
