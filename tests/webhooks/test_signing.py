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
