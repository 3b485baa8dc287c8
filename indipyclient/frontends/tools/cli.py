"""What every tool's command line shares: indilib-style options, one-line errors, exit status.

indilib's tools read options getopt-style before the first non-option argument: flags may be
combined (``-1m``), an option's value is the next argument. Python's ``getopt`` does the same
and also takes ``-t5``; long options (``--json``, ``--help``) are ours.
"""

from __future__ import annotations

import atexit
import gc
import getopt
import os
import sys
from collections.abc import Callable
from collections.abc import Sequence

from .blockingconnection import Connection
from .toolerror import ToolError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    import ssl

__all__ = ["TLS_LONGOPTS", "TLS_USAGE", "Reporter", "ServerOptions", "parse_options",
           "parse_port", "parse_timeout", "run_tool"]

#: The long options every tool takes to reach a server's TLS port (``indipyserver
#: --tls-port``), as getopt spells them; `ServerOptions.take` takes them without dashes.
TLS_LONGOPTS = ("tls-ca=", "tls-cert=", "tls-key=")
#: Their lines of each tool's usage.
TLS_USAGE = """\
  --tls-ca FILE    reach the server's TLS port: its certificate verified with this CA
  --tls-cert FILE  our certificate, presented when the server asks for one (its CN names us)
  --tls-key FILE   its key (default: in --tls-cert)"""


def parse_options(
    argv: Sequence[str], shortopts: str, longopts: Sequence[str] = ()
) -> tuple[list[tuple[str, str]], list[str]]:
    """getopt in POSIX order (options stop at the first operand); a usage ToolError if bad."""
    try:
        return getopt.getopt(list(argv), shortopts, list(longopts))
    except getopt.GetoptError as exc:
        raise ToolError(f"{exc.msg} (try --help)", 2) from None


def parse_port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ToolError(f"-p needs a port number, got {text!r}", 2) from None
    if not 0 < port < 65536:
        raise ToolError(f"-p needs a port number from 1 to 65535, got {port}", 2)
    return port


def parse_timeout(text: str) -> float | None:
    """``-t secs``: seconds, fractions allowed; 0 means wait for ever (None)."""
    try:
        value = float(text)
    except ValueError:
        raise ToolError(f"-t needs a number of seconds, got {text!r}", 2) from None
    if not 0 <= value < float("inf"):
        raise ToolError(f"-t needs a number of seconds >= 0, got {text!r}", 2)
    return None if value == 0 else value


class ServerOptions:
    """How a tool reaches its server, from the options every tool reads alike: ``-h host``,
    ``-p port``, ``-d fd`` (a socket already open to it) and ``-t secs``. (A plain class:
    ``dataclasses`` would cost indi_getprop start-up time.)"""

    def __init__(self) -> None:
        self.host = "localhost"
        self.port = 7624
        self.fd: int | None = None
        self.timeout: float | None = 2.0
        #: The TLS options given (``tls-ca``, ``tls-cert``, ``tls-key``): any of them, TLS.
        self.tls: dict[str, str] = {}

    def take(self, flag: str, value: str) -> None:
        """One of ``-d``, ``-h``, ``-p``, ``-t`` or the TLS options (`flag` without its
        dashes) and its value."""
        if flag.startswith("tls-"):
            self.tls[flag] = value
        elif flag == "d":
            try:
                self.fd = int(value)
            except ValueError:
                raise ToolError(f"-d needs a file descriptor number, got {value!r}") from None
        elif flag == "h":
            self.host = value
        elif flag == "p":
            self.port = parse_port(value)
        else:
            self.timeout = parse_timeout(value)

    def connect(self, on_error: Callable[[str], None]) -> Connection:
        """The socket ``-d`` gave, else a new connection to host:port."""
        if self.fd is not None:
            return Connection.from_fd(self.fd, on_error=on_error)
        return Connection.open(self.host, self.port, on_error=on_error,
                               tls=self.tls_context())

    def tls_context(self) -> ssl.SSLContext | None:
        """The TLS context the TLS options describe (None: plain TCP); a file that cannot be
        used is a ToolError naming it. ``ssl`` is imported only then (start-up time)."""
        if not self.tls:
            return None
        from indipycore.tls import client_context

        try:
            return client_context(self.tls.get("tls-ca"), self.tls.get("tls-cert"),
                                  self.tls.get("tls-key"))
        except ValueError as exc:
            raise ToolError(str(exc), 2) from None


class Reporter:
    """Writes the tool's messages to stderr, prefixed with its name; ``verbose`` ones with -v."""

    def __init__(self, name: str, verbose: int = 0) -> None:
        self.name = name
        self.verbose = verbose

    def error(self, text: str) -> None:
        sys.stderr.write(f"{self.name}: {text}\n")
        sys.stderr.flush()

    def info(self, text: str, level: int = 1) -> None:
        if self.verbose >= level:
            self.error(text)

    def raw(self, text: str) -> None:
        """A line exactly as indilib's tool writes it to stderr (no prefix)."""
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


_freezing = False


def _freeze_at_exit() -> None:
    """At interpreter exit, move the heap out of the garbage collector's final pass.

    A tool has closed its socket and files and flushed its output when it returns; the
    collection Python runs over every object while shutting down then only costs time: 9-20 ms
    of the whole indipy-getprop run measured by strace, 2 ms with the heap frozen first. Cyclic
    garbage left at exit is not finalized (its memory goes with the process).
    """
    global _freezing
    if not _freezing:
        _freezing = True
        atexit.register(gc.freeze)


def run_tool(name: str, body: Callable[[list[str]], int], argv: Sequence[str] | None) -> int:
    """Run ``body(argv)``; a ToolError becomes one line on stderr and its exit status.

    Ctrl-C ends quietly with 130 (the shell's status for SIGINT); a closed stdout (``| head``)
    ends quietly too.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    _freeze_at_exit()
    try:
        return body(args)
    except ToolError as exc:
        if str(exc):
            sys.stderr.write(f"{name}: {exc}\n")
        return exc.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point it at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
