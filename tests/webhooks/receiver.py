"""A merchant's webhook receiver: a real HTTP server in a thread that verifies signatures, deduplicates by
event id, and can be told to fail (500) or hang past the sender's timeout (after taking the event in)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

from etalage.webhooks import signing


class Receiver:
    def __init__(self) -> None:
        self.mode = "ok"  # ok | fail | hang
        self.hang_seconds = 1.5
        self.secret = ""
        self.received: list[dict] = []  # every request that verified, duplicates included
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    signing.verify(receiver.secret, self.headers.get(signing.SIGNATURE_HEADER, ""), body)
                except signing.BadSignature:
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                event = orjson.loads(body)
                assert event["id"] == self.headers[signing.EVENT_ID_HEADER]
                if receiver.mode == "fail":
                    self.send_response(500)
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.received.append(event)
                if receiver.mode == "hang":  # took it in, but answers too late: the sender will retry
                    time.sleep(receiver.hang_seconds)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def unique(self) -> list[dict]:
        """What the merchant's system keeps: the first copy of each event id, in arrival order."""
        seen: set[str] = set()
        out = []
        with self.lock:
            for e in self.received:
                if e["id"] not in seen:
                    seen.add(e["id"])
                    out.append(e)
        return out
