from __future__ import annotations

import pytest

from tests.payments.psp import psp, psp_server  # noqa: F401  (the test PSP, a real subprocess)
from tests.webhooks.receiver import Receiver


@pytest.fixture
def private_targets(monkeypatch):  # type: ignore[no-untyped-def]
    """Let endpoints point at this machine (the receiver listens on 127.0.0.1)."""
    from etalage.webhooks.settings import webhook_settings

    monkeypatch.setattr(webhook_settings(), "allow_private_targets", True)
    monkeypatch.setattr(webhook_settings(), "timeout_seconds", 1.0)


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    r = Receiver()
    r.start()
    yield r
    r.stop()
