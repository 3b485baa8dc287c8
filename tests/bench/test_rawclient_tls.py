"""The benchmarks' raw client on a TLS port (bench/tls.py): it encrypts and decrypts in memory
over its own socket, and must send what it was given and count every element the server sent,
however the socket's reads cut the records."""

from __future__ import annotations

import socket
import ssl
import sys
import threading
from pathlib import Path

from tlskit import Pki

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from rawclient import Hub
from rawclient import RawClient

ELEMENT = (b"<setNumberVector device='Bench' name='NUM' state='Ok'>"
           b"<oneNumber name='v'>42</oneNumber></setNumberVector>\n")
COUNT = 30_000  # about 3 MB: many records, many reads, records cut between reads


def _serve(listener: socket.socket, context: ssl.SSLContext, heard: list[bytes]) -> None:
    """One TLS client: its request read, then COUNT elements in one write, then the end."""
    raw, _ = listener.accept()
    with context.wrap_socket(raw, server_side=True) as sock:
        request = b""
        while not request.endswith(b"/>\n"):
            request += sock.recv(1 << 16)
        heard.append(request)
        sock.sendall(ELEMENT * COUNT)
        sock.unwrap()


def test_a_tls_client_sends_whole_and_counts_every_element_of_a_long_stream(
    tls_pki: Pki,
) -> None:
    """The server reads the request as the client sent it, and the client counts all COUNT
    elements of a stream of many records (its reads end inside records), then sees the
    end. A client that dropped a record's plaintext it could not fit, or took a read that
    completed no record for the end, would count fewer."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(str(tls_pki.server_cert), str(tls_pki.server_key))
    heard: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        thread = threading.Thread(target=_serve, args=(listener, server, heard), daemon=True)
        thread.start()
        client = RawClient("127.0.0.1", listener.getsockname()[1], "tls",
                           tls=tls_pki.client_context("observer"))
        request = b'<getProperties version="1.7"/>\n'
        client.send(request)
        hub = Hub([client])
        hub.size = 100_000  # (reads much smaller than the stream, as any reader's are)
        assert hub.run_until(lambda: client.eof, timeout=60)
        hub.close()
        client.close()
        thread.join(10)
    assert heard == [request]
    assert client.counts["setNumber"] == COUNT
    assert client.error is None
