"""The test PSP as a real subprocess, shared by the buying tests (import ``psp`` into a conftest)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port

SLOW_SECONDS = 2.5  # the "slow" test card answers after this; Etalage gives up waiting after 1 s
CLIENT_TIMEOUT = 1.0
CARDS = {
    "success": "4242424242424242",
    "mastercard": "5555555555554444",
    "declined": "4000000000000002",
    "insufficient_funds": "4000000000009995",
    "three_ds": "4000000000003220",
    "slow": "4000000000000119",
}


@dataclass
class Psp:
    url: str
    proc: subprocess.Popen[bytes]
    api_key: str = "psp_test_key"

    def tokenize(self, number: str = CARDS["success"], kind: str = "card") -> str:
        body: dict = {"type": kind}
        if kind in ("card", "apple_pay", "google_pay"):
            body["card"] = {"number": number, "exp_month": 12, "exp_year": 2099, "cvc": "123"}
        resp = httpx.post(f"{self.url}/v1/tokens", json=body, timeout=5)
        assert resp.status_code == 201, resp.text
        return resp.json()["token"]

    def approve(self, action_url: str, outcome: str = "approve") -> dict:
        resp = httpx.post(action_url, json={"outcome": outcome}, timeout=5)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def payments(self) -> list[dict]:
        return httpx.get(f"{self.url}/v1/test/payments", timeout=5).json()

    def webhooks(self, deliver: bool | None = None) -> dict:
        if deliver is None:
            return httpx.get(f"{self.url}/v1/test/webhooks", timeout=5).json()
        return httpx.post(f"{self.url}/v1/test/webhooks", json={"deliver": deliver}, timeout=5).json()


def start_psp(data: Path, port: int | None = None, *, slow_seconds: float = SLOW_SECONDS) -> Psp:
    port = port or free_port()
    env = dict(os.environ, ETALAGE_LOG_LEVEL="WARNING")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "etalage.cli",
            "payments",
            "psp",
            "--port",
            str(port),
            "--data",
            str(data),
            "--slow-seconds",
            str(slow_seconds),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return Psp(url, proc)
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                "test PSP did not start: " + (proc.stderr.read().decode() if proc.stderr else "")
            )
        time.sleep(0.05)


@pytest.fixture(scope="session")
def psp_server(settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    server = start_psp(tmp_path_factory.mktemp("psp") / "psp.db")
    yield server
    server.proc.terminate()
    server.proc.wait(10)


@pytest.fixture
def psp(psp_server, settings, monkeypatch):  # type: ignore[no-untyped-def]
    """The running test PSP, with Etalage (the live test server) pointed at it."""
    monkeypatch.setattr(settings, "psp_url", psp_server.url)
    monkeypatch.setattr(settings, "psp_timeout_seconds", CLIENT_TIMEOUT)
    psp_server.webhooks(True)
    yield psp_server
    # Let webhooks for this test's payments land before the database is emptied under them.
    deadline = time.monotonic() + 5
    while psp_server.webhooks()["events"].get("due") and time.monotonic() < deadline:
        time.sleep(0.05)
