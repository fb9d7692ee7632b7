"""Several worker processes for ``etalage serve``, each accepting connections on a listening socket of its own.

uvicorn's workers share one listening socket. Whichever worker wakes first accepts every connection that is
waiting, and a keep-alive connection then stays with that worker for its life. Clients that open their
connections together (a reverse proxy's upstream pool, a load generator) can all land on one worker while
the other idles. Measured on the feed at catalogue scale, 32 clients on 2 workers: 30 s of CPU on one worker
and 1.3 s on the other over 20 s, and a third of the throughput of a balanced run.

Here each worker binds the same port with ``SO_REUSEPORT``, and the kernel spreads new connections over the
workers' sockets by a hash of the peer's address. A worker that dies takes its socket with it (the kernel
stops sending it connections) and is started again. Linux only; elsewhere ``serve`` uses uvicorn's workers.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("etalage.serving")
RESTART_PAUSE_S = 1.0  # between restarts of a worker that keeps dying
PING_EVERY_S = 2.0


class CannotServe(RuntimeError):
    pass


def available() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def claim_port(host: str, port: int) -> None:
    """Fail early if the port is taken. The probe does not set SO_REUSEPORT, so it also fails against another
    ``etalage serve`` on the port: this one's workers would otherwise join that one's and share its traffic."""
    try:
        _socket(host, port, reuse_port=False).close()
    except OSError as exc:
        raise CannotServe(f"{host}:{port} is already in use ({exc.strerror}).") from exc


def _worker(host: str, port: int, options: dict[str, Any], pings: Any) -> None:
    import uvicorn

    def answer() -> None:  # a thread of the worker: no answer means the whole process is stuck
        with contextlib.suppress(EOFError, OSError):
            while True:
                pings.recv()
                pings.send(True)
        # The pipe closed: the supervisor is gone (even killed), and nobody would stop or replace this worker.
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown

    threading.Thread(target=answer, name="etalage-supervisor-ping", daemon=True).start()
    sock = _socket(host, port, reuse_port=True)  # listens once the server starts (asyncio calls listen)
    uvicorn.Server(uvicorn.Config(**options)).run(sockets=[sock])


@dataclass
class _Worker:
    process: Any
    pings: Any  # our end of the pipe to its answering thread
    answered_at: float


class Supervisor:
    """Starts ``workers`` processes, starts again any that dies or hangs, and stops them all on SIGINT or
    SIGTERM."""

    def __init__(self, host: str, port: int, count: int, options: dict[str, Any], timeout_s: float) -> None:
        self.host, self.port, self.count, self.options, self.timeout_s = host, port, count, options, timeout_s
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[_Worker] = []
        self.stopping = threading.Event()
        self.exit_code = 0

    def _start(self) -> _Worker:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=_worker, args=(self.host, self.port, self.options, theirs))
        process.start()
        theirs.close()
        return _Worker(process, ours, time.monotonic())

    def run(self) -> int:
        claim_port(self.host, self.port)
        stop = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, lambda *_: self.stopping.set()) for sig in stop}
        try:
            self.workers = [self._start() for _ in range(self.count)]
            while not self.stopping.wait(PING_EVERY_S):
                self._kill_hung()
                self._replace_dead()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return self.exit_code

    def _kill_hung(self) -> None:
        """Read the answers to the last pings, kill a worker silent for ``timeout_s``, ping them again."""
        now = time.monotonic()
        for w in self.workers:
            try:
                while w.pings.poll():
                    w.pings.recv()
                    w.answered_at = now
                w.pings.send(b"ping")
            except (EOFError, OSError):
                continue  # it is exiting: _replace_dead sees to it
            if now - w.answered_at > self.timeout_s and w.process.is_alive():
                log.error(
                    "worker %s has not answered for %.0f s; killing it", w.process.pid, now - w.answered_at
                )
                w.process.kill()

    def _replace_dead(self) -> None:
        # STARTUP_FAILURE: the app could not start, and would fail the same way again
        from uvicorn.config import STARTUP_FAILURE

        for i, w in enumerate(self.workers):
            if w.process.is_alive():
                continue
            w.process.join()
            w.pings.close()
            if w.process.exitcode == STARTUP_FAILURE:
                log.error("worker %s could not start the app; stopping", w.process.pid)
                self.exit_code = STARTUP_FAILURE
                self.stopping.set()
                return
            log.warning("worker %s exited (code %s); starting another", w.process.pid, w.process.exitcode)
            _forget_metrics_of(w.process.pid)
            time.sleep(RESTART_PAUSE_S)  # a worker that dies at once must not spin the supervisor
            if self.stopping.is_set():
                return
            self.workers[i] = self._start()

    def _stop_all(self, grace_s: float = 30.0) -> None:
        for w in self.workers:
            if w.process.is_alive() and w.process.pid is not None:
                os.kill(w.process.pid, signal.SIGTERM)  # uvicorn finishes the requests in flight, then exits
        deadline = time.monotonic() + grace_s
        for w in self.workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join()


def _forget_metrics_of(pid: int | None) -> None:
    """A dead worker's live gauges must not count in /metrics any more (prometheus_client's multiprocess mode)."""
    if pid is None or not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


def serve(host: str, port: int, workers: int, *, timeout_s: float, **options: Any) -> int:
    """Run ``workers`` uvicorn servers of ``options`` (uvicorn.Config's keywords) on host:port; the exit code."""
    if port == 0:
        raise CannotServe(
            "port 0 (any free port) works with one worker only: each worker binds the port itself."
        )
    return Supervisor(host, port, workers, dict(options, host=host, port=port), timeout_s).run()
