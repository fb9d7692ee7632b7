"""Content: transcoding speed (seconds of video per second of work) and live chat fan-out latency.

- transcode: a 10 s 1080x1920 portrait clip (made by ffmpeg) probed and transcoded to 720p + 360p + poster
  exactly as the worker does it.
- live: ``etalage serve`` (one process, its own database) with N anonymous viewers on one room's
  WebSocket and 10 signed-in chatters; the time from a chat message's send to its arrival at every
  viewer (p50/p99), and the messages delivered per second.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import BenchContext, row, scratch_database, server


def _transcode(ctx: BenchContext) -> list[dict]:
    from etalage.content import clips, media

    if not media.ffmpeg_available():
        return [row("content", "transcode", None, "", notes="ffmpeg not installed")]
    seconds = 4.0 if ctx.quick else 10.0
    with tempfile.TemporaryDirectory() as tmp:
        src = clips.render_clip(
            Path(tmp),
            title="Bench clip",
            seconds=seconds,
            size=(1080, 1920),
            renditions=False,
            preset="veryfast",
        )
        started = time.perf_counter()
        probe = media.probe(src, min_seconds=1, max_seconds=600)
        media.transcode(src, probe, Path(tmp) / "out")
        took = time.perf_counter() - started
    return [
        row(
            "content",
            f"transcode {seconds:.0f} s 1080x1920 -> 720p+360p+poster",
            round(took, 2),
            "s",
            backend="-",
        ),
        row(
            "content",
            "transcode speed",
            round(seconds / took, 2),
            "x realtime",
            target="> 1x on 2 cores",
            backend="-",
        ),
    ]


async def _live(url: str, viewers: int, messages: int) -> dict[str, float]:
    from websockets.asyncio.client import connect

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        tokens = []
        for i in range(11):
            email = f"bench{i}@example.com"
            await http.post(
                "/api/v1/accounts",
                json={
                    "email": email,
                    "password": "bench-password-1",
                    "display_name": f"B{i}",
                    "as_creator": i == 0,
                },
            )
            tok = await http.post("/api/v1/auth/token", json={"email": email, "password": "bench-password-1"})
            tokens.append(tok.json()["token"])
        room = await http.post(
            "/api/v1/live/rooms",
            headers={"Authorization": f"Bearer {tokens[0]}"},
            json={
                "title": "Bench room",
                "start_now": True,
                "source": {"kind": "hls", "url": "https://cdn.example.com/b.m3u8"},
            },
        )
        ws_url = url.replace("http://", "ws://") + f"/api/v1/live/rooms/{room.json()['id']}/ws"

    arrivals: dict[str, list[float]] = {}

    async def viewer(ready: asyncio.Event, counter: list[int]) -> None:
        async with connect(ws_url, max_queue=None) as ws:
            await ws.recv()  # hello
            counter[0] += 1
            if counter[0] == viewers:
                ready.set()
            async for raw in ws:
                msg = json.loads(raw)
                if msg["type"] == "chat":
                    arrivals.setdefault(msg["text"], []).append(time.perf_counter())

    ready, counter = asyncio.Event(), [0]
    tasks = [asyncio.create_task(viewer(ready, counter)) for _ in range(viewers)]
    await asyncio.wait_for(ready.wait(), 60)
    sent: dict[str, float] = {}
    chatters = [await connect(f"{ws_url}?token={t}") for t in tokens[1:]]
    for c in chatters:
        await c.recv()
    started = time.perf_counter()
    for n in range(messages):
        text = f"m{n}"
        sent[text] = time.perf_counter()
        await chatters[n % len(chatters)].send(json.dumps({"type": "chat", "text": text}))
        await asyncio.sleep(0.2)  # 5 a second in the room, within each chatter's limit
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline and sum(len(v) for v in arrivals.values()) < messages * viewers:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    for t in tasks:
        t.cancel()
    for c in chatters:
        await c.close()
    latencies = sorted(a - sent[k] for k, v in arrivals.items() if k in sent for a in v)
    delivered = len(latencies)
    return {
        "p50": latencies[len(latencies) // 2] * 1000 if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else float("nan"),
        "delivered": delivered / max(1, messages * viewers),
        "rate": delivered / elapsed,
    }


def run(ctx: BenchContext) -> list[dict]:
    rows = _transcode(ctx)
    viewers, messages = (50, 20) if ctx.quick else (300, 50)
    with scratch_database("sqlite") as url, server(url, workers=1) as srv:
        got = asyncio.run(_live(srv.url, viewers, messages))
    note = f"{viewers} viewers, {messages} messages from 10 chatters"
    rows += [
        row("content", "live chat delivery p50", round(got["p50"], 1), "ms", backend="sqlite", notes=note),
        row(
            "content",
            "live chat delivery p99",
            round(got["p99"], 1),
            "ms",
            target="< 500 ms",
            backend="sqlite",
            notes=note,
        ),
        row(
            "content",
            "live chat messages delivered",
            round(got["delivered"] * 100, 1),
            "%",
            target="100 %",
            backend="sqlite",
        ),
        row("content", "live chat fan-out", round(got["rate"]), "msg/s", backend="sqlite", notes=note),
    ]
    return rows
