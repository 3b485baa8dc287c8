"""Alpaca discovery peers for the tests: a responder answering the probe for any API port
(alpaca-simulators has none of its own), or answering with what a broken server sends, and a
management API that fails."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from httpkit import QuietHandler


def free_udp_port() -> int:
    """A UDP port free a moment ago (tests never take the real discovery port, 32227)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


@contextmanager
def responder(port: int, answer: bytes) -> Iterator[list[str]]:
    """Answer every ``alpacadiscovery1`` on UDP `port` (shared, SO_REUSEPORT, as Alpaca
    servers share 32227) with `answer`; yields the senders heard so far."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("0.0.0.0", port))
    sock.settimeout(0.1)
    heard: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, sender = sock.recvfrom(100)
            except TimeoutError:
                continue
            if data.startswith(b"alpacadiscovery1"):
                heard.append(str(sender[0]))
                sock.sendto(answer, sender)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield heard
    finally:
        stop.set()
        thread.join(5)
        sock.close()


def port_answer(port: int) -> bytes:
    """A well-formed discovery answer naming API port `port`."""
    return json.dumps({"AlpacaPort": port}).encode()


@contextmanager
def failing_api(status: int = 500, body: bytes = b"boom", host: str = "127.0.0.1"
                ) -> Iterator[int]:
    """An HTTP server on `host` answering every GET with `status` and `body`; yields its
    port."""

    class Failing(QuietHandler):
        def do_GET(self) -> None:
            self.answer(status, body, "text/plain")

    server = http.server.ThreadingHTTPServer((host, 0), Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
