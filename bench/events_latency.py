"""Appender for the event-to-consumer latency benchmark, run in its own process.

``python -m bench.events_latency BACKEND LOCATION STREAM RATE DURATION BATCH``: appends BATCH events at a
time so that RATE events per second arrive for DURATION seconds, each stamped with the wall-clock time of
its append (``recv``, epoch ms, and ``sent_ns`` for sub-millisecond precision).
"""

from __future__ import annotations

import sys
import time


def main() -> None:
    backend, location, stream, rate, duration, batch = sys.argv[1:7]
    rate_f, duration_f, size = float(rate), float(duration), int(batch)
    if backend == "nats":
        from etalage.events.log.nats import NatsEventLog

        log = NatsEventLog(location, stream=stream)
    else:
        from etalage.events.log.embedded import EmbeddedEventLog

        log = EmbeddedEventLog(location)
    log.last_offset()  # connect before the clock starts
    interval = size / rate_f
    start = time.perf_counter()
    n = 0
    while (elapsed := time.perf_counter() - start) < duration_f:
        due = start + n * interval
        if due > time.perf_counter():
            time.sleep(due - time.perf_counter())
        now_ns = time.time_ns()
        events = [
            {"type": "impression", "event_id": f"lat-{n}-{i}", "user": f"psn_bench{i % 50}",
             "client_ts": now_ns // 1_000_000, "ts": now_ns // 1_000_000, "recv": now_ns // 1_000_000,
             "sent_ns": now_ns, "video_id": "vid_01JD0000000000000000000000"}
            for i in range(size)
        ]  # fmt: skip
        log.append(events)
        n += 1
    log.close()
    print(n * size, round(elapsed, 3))


if __name__ == "__main__":
    main()
