"""Certificates for the TLS tests, made by the real ``openssl`` command as a user would.

`make_pki(folder)` writes a CA, a server certificate for ``localhost`` and 127.0.0.1 (the
name and address tests connect to), client certificates signed by the CA (their CN is the
identity the server gives them), and an unknown CA with a client certificate of its own (a
stranger). The ``tls_pki`` fixture (tests/conftest.py) makes one set per test session.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Client identities every set has, signed by the CA.
CLIENT_NAMES = ("operator", "observer", "site-east")


@dataclass(frozen=True)
class Pki:
    """Paths of one set of certificates and keys (PEM)."""

    folder: Path
    ca: Path
    server_cert: Path
    server_key: Path
    stranger_ca: Path

    def client(self, name: str) -> tuple[Path, Path]:
        """(certificate, key) of client `name` (one of CLIENT_NAMES, or ``stranger``, signed
        by the unknown CA)."""
        return self.folder / f"{name}.crt", self.folder / f"{name}.key"

    def client_context(self, name: str | None = "operator", ca: Path | None = None,
                       ) -> ssl.SSLContext:
        """A Python client's context: the server verified against `ca` (default: ours),
        presenting client `name`'s certificate (None: none)."""
        context = ssl.create_default_context(cafile=str(ca or self.ca))
        if name is not None:
            cert, key = self.client(name)
            context.load_cert_chain(str(cert), str(key))
        return context


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=60, check=False)
    if result.returncode:
        raise AssertionError(f"openssl {' '.join(args)} failed: {result.stderr}")


def _ca(folder: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "30",
             "-subj", f"/CN={name}", cwd=folder)


def _signed(folder: Path, name: str, ca: str, extensions: str) -> None:
    (folder / f"{name}.ext").write_text(extensions)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}",
             cwd=folder)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.crt", "-days", "30", "-extfile",
             f"{name}.ext", cwd=folder)


def make_pki(folder: Path) -> Pki:
    """Write a CA, a server certificate, client certificates and a stranger's CA and client
    into `folder`; fails the test when ``openssl`` is missing (it is a real peer here)."""
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command is not installed (Debian: openssl)", pytrace=False)
    folder.mkdir(parents=True, exist_ok=True)
    _ca(folder, "ca")
    _ca(folder, "stranger-ca")
    _signed(folder, "server", "ca",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    for name in CLIENT_NAMES:
        _signed(folder, name, "ca", "extendedKeyUsage=clientAuth\n")
    _signed(folder, "stranger", "stranger-ca", "extendedKeyUsage=clientAuth\n")
    return Pki(folder=folder, ca=folder / "ca.crt", server_cert=folder / "server.crt",
               server_key=folder / "server.key", stranger_ca=folder / "stranger-ca.crt")
