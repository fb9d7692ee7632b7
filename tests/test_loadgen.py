"""The benchmarks' load generator counts server failures as errors, not a kept-alive connection that the
server closed while it sat idle (which HTTP clients simply open again)."""

from __future__ import annotations

import socket
import threading

from bench.loadgen import Request, open_loop


def _server_closing_after_each_answer() -> tuple[str, threading.Event]:
    """Answers each connection's first request with a keep-alive response, then closes it silently, as a
    server's idle timeout does."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")
        sock.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{sock.getsockname()[1]}", stop


def test_a_stale_kept_alive_connection_is_opened_again_not_counted_as_an_error() -> None:
    url, stop = _server_closing_after_each_answer()
    try:
        result = open_loop(url, [Request("GET", "/")], rate=20, duration=1.0, max_conns=1)
    finally:
        stop.set()
    assert result["errors"] == 0 and result["status_counts"] == {200: 20}
