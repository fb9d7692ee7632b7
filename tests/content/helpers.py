"""Shared helpers for the content tests: uploading over real HTTP, products from the catalog API."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import httpx

from tests.factories import Actor

_sku = itertools.count(1)


def upload_resumable(api: httpx.Client, actor: Actor, path: Path, *, chunk: int = 256 * 1024) -> str:
    """Declare, then PATCH the file in chunks at the offset; returns the upload id."""
    data = path.read_bytes()
    resp = api.post("/api/v1/uploads", json={"size": len(data), "filename": path.name}, headers=actor.headers)
    assert resp.status_code == 201, resp.text
    upload_id = resp.json()["id"]
    offset = 0
    while offset < len(data):
        piece = data[offset : offset + chunk]
        r = api.patch(
            f"/api/v1/uploads/{upload_id}",
            content=piece,
            headers={
                **actor.headers,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert r.status_code == 204, r.text
        offset = int(r.headers["Upload-Offset"])
    return upload_id


def upload_form(api: httpx.Client, actor: Actor, path: Path, **metadata) -> httpx.Response:  # type: ignore[no-untyped-def]
    with path.open("rb") as fh:
        return api.post(
            "/api/v1/videos/upload",
            files={"file": (path.name, fh, "video/mp4")},
            data={"metadata": json.dumps(metadata)},
            headers=actor.headers,
        )


def make_product(
    api: httpx.Client, merchant: Actor, title: str = "Linen shirt", *, status: str = "active"
) -> dict:
    """An active product with one priced variant, through the catalog's API."""
    n = next(_sku)
    body = {
        "title": title,
        "status": status,
        "variants": [
            {"sku": f"SKU-{n}", "prices": [{"region_code": "BE", "amount": 2999, "currency": "EUR"}]}
        ],
    }
    resp = api.post(f"/api/v1/merchants/{merchant.merchant_id}/products", json=body, headers=merchant.headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


def is_problem(resp: httpx.Response, status: int) -> dict:
    assert resp.status_code == status, f"{resp.status_code}: {resp.text[:400]}"
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers["content-type"]
    body = resp.json()
    assert body["status"] == status and body["detail"]
    return body
