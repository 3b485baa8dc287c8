"""Real receivers of the night's notifications on loopback (issue 93 item 4), each on a free
port: a JSON webhook (`JsonReceiver`, an HTTP server of the test), a mail server (`MailReceiver`,
aiosmtpd's Controller, plain SMTP) and a receiver that never answers (`SilentReceiver`: it
accepts a connection and reads, never replies); each gives the Apprise URL that reaches it.
The MQTT receiver is the bridges' real mosquitto (`tests/agents/notify/conftest.py`)."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from typing import Any
from typing import Self

from httpkit import QuietHandler


class _Receiver:
    """What every receiver shares: started for a `with` block and stopped at its end,
    however the block ends (a failed test leaves no thread or port behind)."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    @contextmanager
    def running(self) -> Iterator[Self]:
        self.start()
        try:
            yield self
        finally:
            self.stop()


class JsonReceiver(_Receiver):
    """An HTTP server taking POSTs: each body (Apprise's JSON) in `received`, in order."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append({"path": self.path, **json.loads(self.rfile.read(length))})
                self.answer(200, b"{}", "application/json")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "night") -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/{path}"

    def titles(self) -> list[str]:
        return [str(one.get("title", "")) for one in self.received]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SilentReceiver(_Receiver):
    """A listener that accepts each connection, reads what comes and never answers: a
    service that hangs. `accepted` counts the connections; `open` those still held; `refuse`
ends the hang (the service gone)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def url(self, path: str = "hung") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def open(self) -> int:
        """The connections accepted that the peer has not closed."""
        still = 0
        for held in self._held:
            try:
                held.setblocking(False)
                still += held.recv(65536, socket.MSG_PEEK) != b""
            except BlockingIOError:
                still += 1
            except OSError:
                pass
        return still

    def refuse(self) -> None:
        """Hang no longer: the connections held are closed and nothing more is accepted (a
        service gone: each try fails at once)."""
        self._stop.set()
        self._thread.join(5)
        for held in self._held:
            held.close()
        self.listener.close()

    def _accept(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(conn)
            self.accepted += 1

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.refuse()


class MailReceiver(_Receiver):
    """aiosmtpd's SMTP server on a free port, plain (no TLS, no login): each mail in
    `mails`, parsed."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.mails: list[Message] = []
        mails = self.mails

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                mails.append(message_from_bytes(envelope.original_content or b""))
                return "250 OK"

        self.port = port
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def url(self, to: str = "owner@example.com") -> str:
        return (f"mailto://127.0.0.1:{self.port}?mode=insecure"
                f"&from=night@example.com&to={to}")

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
