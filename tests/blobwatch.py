"""A relay in front of a server that tells when a client has asked for BLOBs: the evidence a
test waits for before it has an image taken, instead of sleeping while a tool (indi_getprop,
ours) reads the definitions and sends its enableBLOB; and `accept_each`, the accept loop of
that relay and of other threaded TCP peers in tests."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable


def accept_each(sock: socket.socket, handle: Callable[[socket.socket], object]) -> threading.Thread:
    """A started daemon thread that hands each connection `sock` accepts to `handle`, one after
    another, until `sock` is closed: the accept loop of the tests' threaded TCP peers."""
    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            handle(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


class EnableBlobWatch:
    """A relay in front of a server that counts the connections whose client has sent an
    enableBLOB: the evidence that a tool has seen the BLOB definition and asked for BLOBs."""

    def __init__(self, port: int) -> None:
        self.upstream = port
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.enabled = 0
        self._lock = threading.Lock()
        self._pairs: list[threading.Thread] = []
        self._accepting = accept_each(self.sock, self._start_relay)

    def _start_relay(self, client: socket.socket) -> None:
        pair = threading.Thread(target=self._relay, args=(client,), daemon=True)
        self._pairs.append(pair)
        pair.start()

    def _relay(self, client: socket.socket) -> None:
        with client, socket.create_connection(("127.0.0.1", self.upstream)) as server:
            back = threading.Thread(target=self._copy, args=(server, client, False), daemon=True)
            back.start()
            self._copy(client, server, True)
            back.join(30)

    def _copy(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        seen = b""
        counted = False
        try:
            while data := source.recv(65536):
                sink.sendall(data)
                if from_client and not counted:
                    seen = seen[-20:] + data
                    if b"<enableBLOB" in seen:  # forwarded: on its way to the server
                        counted = True
                        with self._lock:
                            self.enabled += 1
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        """Stop accepting; wait for the relayed connections to end (the tools have exited)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept (closing alone does not)
        self.sock.close()
        self._accepting.join(10)
        for pair in self._pairs:
            pair.join(30)
