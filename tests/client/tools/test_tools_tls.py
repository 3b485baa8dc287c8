"""Our command-line tools on a server's TLS port: ``--tls-ca FILE [--tls-cert FILE --tls-key FILE]``
(issue 60 item 6). The server is ours (``indipyserver --tls-port``) with the demo thermostat;
indilib's tools have no TLS, so its indi_getprop reads the same values on the plain port."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from peers import GetpropResult
from peers import OurServer
from peers import answer_holding
from peers import free_port
from peers import getprop
from peers import getprop_holding
from peers import parse_getprop_output
from tlskit import Pki
from toolkit import LAUNCHER
from toolkit import STILL
from toolkit import ours
from toolkit import run_tool
from toolkit import wait_defined

WATCH = [sys.executable, "-m", "indipyclient.frontends.tools.watch"]


class TLSServer:
    def __init__(self, server: OurServer, tls_port: int) -> None:
        self.server = server
        self.tls_port = tls_port


@pytest.fixture(scope="module")
def tls_server(tls_pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSServer]:
    """Our server with the thermostat, a TLS port requiring certificates our CA signed."""
    tls_port = free_port()
    server = OurServer(str(LAUNCHER), "--tls-port", str(tls_port), "--tls-cert",
                       str(tls_pki.server_cert), "--tls-key", str(tls_pki.server_key),
                       "--tls-client-ca", str(tls_pki.ca), workdir=tmp_path_factory.mktemp("tls"),
                       env=STILL).start()
    try:
        wait_defined(server.port, "Thermostat.SITE.FIRMWARE")
        yield TLSServer(server, tls_port)
    finally:
        server.stop()


def tls_args(pki: Pki, port: int, name: str | None = "operator",
             ca: Path | None = None) -> list[str]:
    args = ["-h", "localhost", "-p", str(port), "--tls-ca", str(ca or pki.ca)]
    if name is not None:
        cert, key = pki.client(name)
        args += ["--tls-cert", str(cert), f"--tls-key={key}"]
    return args


# One member of each vector the demo defines (its LOG BLOB is not printed).
EVERY_VECTOR = tuple(f"Thermostat.{key}" for key in (
    "CONNECTION.CONNECT", "DRIVER_INFO.DRIVER_NAME", "DEBUG.ENABLE", "CONFIG_PROCESS.CONFIG_SAVE",
    "TEMPERATURE.TEMPERATURE", "TARGET.TARGET", "HEATER_MODE.AUTO", "HEATER.HEATING",
    "SITE.NAME"))


def test_getprop_over_tls_reads_what_indilibs_reads_on_the_plain_port(
    tls_server: TLSServer, tls_pki: Pki,
) -> None:
    """indipy-getprop with --tls-ca/--tls-cert/--tls-key on the TLS port prints the same
    Thermostat values as indilib's indi_getprop on the plain port; the server names the tool
    by its certificate."""
    # Wildcards, as every value is the point: each side read in an answer holding every
    # vector the demo defines, and then both must be the same.
    def read_ours() -> GetpropResult:
        result = run_tool([*ours("indi_getprop"), *tls_args(tls_pki, tls_server.tls_port),
                           "-t", "3", "Thermostat.*.*"])
        return GetpropResult(parse_getprop_output(result.stdout), result)

    ours_result = answer_holding(read_ours, *EVERY_VECTOR, what="our answer over TLS")
    theirs = getprop_holding(tls_server.server.port, "Thermostat.*.*", *EVERY_VECTOR, timeout=3)
    assert sorted(ours_result.stdout.splitlines()) == sorted(theirs.stdout.splitlines())
    assert "connected as operator" in tls_server.server.log()


def test_setprop_and_eval_over_tls_set_and_see_a_value(
    tls_server: TLSServer, tls_pki: Pki,
) -> None:
    """indipy-setprop over TLS sets the target (its close after the set loses nothing) and
    indipy-eval over TLS sees the driver's answer; indilib's indi_getprop on the plain port
    reads it too."""
    done = run_tool([*ours("indi_setprop"), *tls_args(tls_pki, tls_server.tls_port),
                     "Thermostat.TARGET.TARGET=17.5"])
    assert done.returncode == 0, done.describe()
    seen = run_tool([*ours("indi_eval"), *tls_args(tls_pki, tls_server.tls_port, "observer"),
                     "-t", "10", "-w", '"Thermostat.TARGET.TARGET"==17.5'])
    assert seen.returncode == 0, seen.describe()
    plain = getprop(tls_server.server.port, "Thermostat.TARGET.TARGET")
    assert float(plain["Thermostat.TARGET.TARGET"]) == 17.5, plain


def test_watch_over_tls_shows_the_definitions(tls_server: TLSServer, tls_pki: Pki) -> None:
    """indipy-watch with the TLS options shows the thermostat's definitions."""
    result = run_tool([*WATCH, *tls_args(tls_pki, tls_server.tls_port), "-t", "2",
                       "Thermostat.TARGET"])
    assert result.returncode == 0, result.describe()
    assert "Thermostat.TARGET" in result.stdout


@pytest.mark.parametrize(("name", "ca", "said"), [
    ("operator", "stranger", "TLS: certificate verify failed"),
    (None, None, "did not accept our certificate"),
])
def test_a_tls_failure_is_one_line_and_exit_2(
    tls_server: TLSServer, tls_pki: Pki, name: str | None, ca: str | None, said: str,
) -> None:
    """A server certificate our --tls-ca did not sign, or no client certificate where the
    server requires one: exit 2 with one line saying so, no traceback."""
    args = tls_args(tls_pki, tls_server.tls_port, name,
                    tls_pki.stranger_ca if ca == "stranger" else None)
    result = run_tool([*ours("indi_getprop"), *args, "-t", "3", "Thermostat.*.*"])
    assert result.returncode == 2, result.describe()
    assert said in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_missing_ca_file_is_named(tls_server: TLSServer, tmp_path: Path) -> None:
    """--tls-ca naming no file: exit 2, the file named."""
    missing = tmp_path / "nowhere-ca.crt"
    for tool in ("indi_getprop", "indi_setprop"):
        result = run_tool([*ours(tool), "-p", str(tls_server.tls_port), "--tls-ca",
                           str(missing), "Thermostat.TARGET.TARGET" + ("=1" if "set" in tool
                                                                        else "")])
        assert result.returncode == 2 and "nowhere-ca.crt" in result.stderr, result.describe()
