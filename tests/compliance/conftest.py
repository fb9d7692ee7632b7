from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_notice_limits(live_server):  # type: ignore[no-untyped-def]
    """Every test client is 127.0.0.1: forget its notice count after each test."""
    yield
    live_server.server.config.app.state.limiter.reset("compliance:notice-ip:127.0.0.1")
