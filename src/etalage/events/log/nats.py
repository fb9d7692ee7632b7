"""The event log on NATS JetStream: one stream (file storage), one message per event, offset = stream sequence.

Appends publish every event of a batch at once (``publish_async``) with ``Nats-Msg-Id`` set to the event's
de-duplication identity, and return only when JetStream has acknowledged each one (a PubAck means stored),
so the server's duplicate window does the de-duplication and a PubAck marked duplicate carries the first
copy's sequence. Reads go through an ephemeral pull consumer starting at the wanted sequence, kept open
while a reader keeps reading forward, with our own pull requests so a waiting reader gets each new event
as soon as JetStream delivers it (nats-py's ``fetch`` waits for a full batch or the timeout).

nats-py is asyncio-only: the client lives on an event loop in its own thread, and both the synchronous
methods (consumers, the demo, bus handlers) and ``append_async`` (the ingest route) hand it coroutines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from etalage.events.log import Appended, StoredEvent, dumps, loads, msg_id

T = TypeVar("T")
log = logging.getLogger("etalage.events.nats")


class NatsEventLog:
    name = "nats"
    ack_timeout = 10.0
    connect_timeout = 5.0
    retry_seconds = 2.0

    def __init__(self, url: str, *, stream: str = "ETALAGE_EVENTS", duplicate_window: float = 90_000) -> None:
        self.url = url
        self.stream = stream
        self.duplicate_window = duplicate_window
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="etalage-events-nats", daemon=True
        )
        self._thread.start()
        self._nc: Any = None
        self._js: Any = None
        self._connect_lock = asyncio.Lock()
        self._readers: dict[int, _Reader] = {}  # one per calling thread
        self._closed = False
        self._retry_at = 0.0
        self._acks = ""  # reply subject prefix for PubAcks: <inbox>.<batch>.<index>
        self._batches = 0
        self._pending: dict[int, _Pending] = {}

    # --- plumbing -------------------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _ensure(self) -> Any:
        if self._js is not None and not self._nc.is_closed:
            return self._js
        async with self._connect_lock:
            if self._js is not None and not self._nc.is_closed:
                return self._js
            if time.monotonic() < self._retry_at:  # failed a moment ago: answer at once, not after a timeout
                raise ConnectionError(f"NATS at {self.url} is not reachable; retrying shortly")
            try:
                await self._connect()
            except Exception:
                self._retry_at = time.monotonic() + self.retry_seconds
                raise
        return self._js

    async def _connect(self) -> None:
        import nats
        from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

        async def on_error(exc: Exception) -> None:
            log.warning("NATS event log: %s", exc or exc.__class__.__name__)

        async def on_disconnect() -> None:
            if not self._closed:
                log.warning("NATS event log: disconnected from %s; reconnecting", self.url)

        # Bounded, so an unreachable server fails the first append quickly (503) instead of hanging;
        # once connected the client reconnects on its own for as long as it takes.
        nc = await asyncio.wait_for(
            nats.connect(
                self.url, name="etalage-events", connect_timeout=2, max_reconnect_attempts=-1,
                error_cb=on_error, disconnected_cb=on_disconnect,
            ),
            self.connect_timeout,
        )  # fmt: skip
        js = nc.jetstream(timeout=self.ack_timeout)
        config = StreamConfig(
            name=self.stream,
            subjects=[f"{self.stream}.>"],
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            duplicate_window=self.duplicate_window,
        )
        try:
            await js.add_stream(config)
        except Exception:  # exists with other settings (e.g. an operator's limits): keep theirs
            await js.stream_info(self.stream)
        self._acks = nc.new_inbox()
        await nc.subscribe(f"{self._acks}.>", cb=self._on_ack)
        self._nc, self._js = nc, js

    # --- append ---------------------------------------------------------------------------------------

    async def _append(self, events: Sequence[dict[str, Any]]) -> list[Appended]:
        # Plain publishes with our own reply subjects, and one future per batch: nats-py's publish_async
        # costs a task, a future and a JSON decode into a dataclass per message, which halved throughput.
        await self._ensure()
        self._batches += 1
        batch = self._batches
        pending = _Pending(len(events), asyncio.get_running_loop().create_future())
        self._pending[batch] = pending
        prefix = f"{self._acks}.{batch}."
        publish = self._nc.publish
        try:
            for i, event in enumerate(events):
                await publish(
                    f"{self.stream}.{event['type']}",
                    dumps(event),
                    reply=prefix + str(i),
                    headers={"Nats-Msg-Id": msg_id(event)},
                )
            await asyncio.wait_for(asyncio.shield(pending.done), self.ack_timeout)
        finally:
            self._pending.pop(batch, None)
        return pending.results  # type: ignore[return-value]

    async def _on_ack(self, msg: Any) -> None:
        _, batch, index = msg.subject.rsplit(".", 2)
        pending = self._pending.get(int(batch))
        if pending is None or pending.done.done():
            return
        if msg.headers and msg.headers.get("Status"):  # 503: no stream listens on the subject
            pending.done.set_exception(ConnectionError(f"JetStream did not store the event: {msg.headers}"))
            return
        ack = loads(msg.data)
        if "error" in ack:
            pending.done.set_exception(RuntimeError(f"JetStream refused the event: {ack['error']}"))
            return
        pending.results[int(index)] = Appended(ack["seq"], bool(ack.get("duplicate")))
        pending.left -= 1
        if pending.left == 0:
            pending.done.set_result(None)

    def append(self, events: Sequence[dict[str, Any]]) -> list[Appended]:
        if not events:
            return []
        return self._run(self._append(events), self.ack_timeout + 5)

    async def append_async(self, events: Sequence[dict[str, Any]]) -> list[Appended]:
        if not events:
            return []
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._append(events), self._loop))

    # --- read -----------------------------------------------------------------------------------------

    def read(self, from_offset: int, limit: int = 1000, *, wait: float = 0.0) -> list[StoredEvent]:
        key = threading.get_ident()
        reader = self._readers.get(key)
        if reader is None:
            reader = self._readers[key] = _Reader(self)
        return self._run(reader.read(max(1, from_offset), limit, wait), wait + self.ack_timeout + 5)

    def last_offset(self) -> int:
        async def go() -> int:
            js = await self._ensure()
            return (await js.stream_info(self.stream)).state.last_seq

        return self._run(go(), self.ack_timeout + 5)

    def count(self) -> int:
        async def go() -> int:
            js = await self._ensure()
            return (await js.stream_info(self.stream)).state.messages

        return self._run(go(), self.ack_timeout + 5)

    def delete_stream(self) -> None:
        """Remove the stream and everything in it (tests and benchmarks use their own streams)."""

        async def go() -> None:
            js = await self._ensure()
            await js.delete_stream(self.stream)

        self._run(go(), self.ack_timeout + 5)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        async def go() -> None:
            for reader in list(self._readers.values()):
                await reader.stop()
            if self._nc is not None:
                with contextlib.suppress(Exception):
                    await self._nc.drain()

        with contextlib.suppress(Exception):
            self._run(go(), 10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


class _Pending:
    __slots__ = ("done", "left", "results")

    def __init__(self, n: int, done: asyncio.Future[None]) -> None:
        self.results: list[Appended | None] = [None] * n
        self.left = n
        self.done = done


class _Reader:
    """An ephemeral pull consumer read forward from one sequence; recreated when a read jumps elsewhere."""

    def __init__(self, log: NatsEventLog) -> None:
        self.log = log
        self.next_seq = 0  # the sequence the consumer will deliver next
        self.consumer: str | None = None
        self.sub: Any = None
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.ready: deque[StoredEvent] = deque()
        self.outstanding = 0  # messages still owed by open pull requests

    async def stop(self) -> None:
        if self.sub is not None:
            with contextlib.suppress(Exception):
                await self.sub.unsubscribe()
        if self.consumer is not None:
            with contextlib.suppress(Exception):
                await self.log._js.delete_consumer(self.log.stream, self.consumer)
        self.sub = self.consumer = None
        self.ready.clear()
        self.outstanding = 0

    async def _start(self, seq: int) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        await self.stop()
        js = await self.log._ensure()
        info = await js.add_consumer(
            self.log.stream,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=seq,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=300,
                mem_storage=True,
            ),
        )
        self.consumer = info.name
        self.queue = asyncio.Queue()
        self.sub = await self.log._nc.subscribe(self.log._nc.new_inbox(), cb=self.queue.put)
        self.next_seq = seq

    async def _pull(self, limit: int, wait: float) -> None:
        request: dict[str, Any] = {"batch": limit}
        if wait > 0:
            request["expires"] = int(wait * 1e9)
        else:
            request["no_wait"] = True
        subject = f"$JS.API.CONSUMER.MSG.NEXT.{self.log.stream}.{self.consumer}"
        await self.log._nc.publish(subject, dumps(request), reply=self.sub.subject)
        self.outstanding = limit

    def _take(self, msg: Any) -> None:
        if msg.headers and msg.headers.get("Status"):  # 404 no messages / 408 expired / 409: request over
            self.outstanding = 0
            return
        self.outstanding = max(0, self.outstanding - 1)
        seq = msg.metadata.sequence.stream
        self.ready.append(StoredEvent(seq, loads(msg.data)))

    def _drain(self) -> None:
        while not self.queue.empty():
            self._take(self.queue.get_nowait())

    async def read(self, seq: int, limit: int, wait: float) -> list[StoredEvent]:
        if self.consumer is None or seq != self.next_seq:
            await self._start(seq)
        loop = asyncio.get_running_loop()
        self._drain()
        if len(self.ready) < limit and self.outstanding == 0:
            # What is there now: JetStream sends it, then a 404 status if it had fewer than asked for.
            await self._pull(limit - len(self.ready), 0)
            while self.outstanding > 0:
                self._take(await asyncio.wait_for(self.queue.get(), self.log.ack_timeout))
        if not self.ready and wait > 0:
            deadline = loop.time() + wait
            while not self.ready:
                remaining = deadline - loop.time()
                if remaining <= 0.001:
                    break
                if self.outstanding == 0:
                    await self._pull(limit, remaining)  # a lingering request: delivers each event as it lands
                try:
                    self._take(await asyncio.wait_for(self.queue.get(), remaining))
                except TimeoutError:
                    break
            while self.ready and len(self.ready) < limit:  # events that land together leave together
                try:
                    self._take(await asyncio.wait_for(self.queue.get(), 0.002))
                except TimeoutError:
                    break
        self._drain()
        out = [self.ready.popleft() for _ in range(min(limit, len(self.ready)))]
        if out:
            self.next_seq = out[-1].offset + 1
        return out
