"""indipyserver.standalone: how a driver program chooses between serving itself and speaking
INDI on stdin/stdout (the simulators' one main; tests/examples/test_ccd_simulator.py runs both
ways end to end)."""

from __future__ import annotations

import io

import pytest

from indipyserver.standalone import serves_itself
from indipyserver.standalone import serving_parser


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("argv", "stdin", "serves"), [
    ([], Terminal(), True),                       # run from a terminal
    ([], io.StringIO(), False),                   # a pipe: under an INDI server
    (["--port", "7625"], io.StringIO(), True),    # asked to serve, whatever stdin is
    (["--host", "0.0.0.0"], io.StringIO(), True),
    (["--stdio"], Terminal(), False),             # --stdio wins over a terminal...
    (["--stdio", "--port", "7625"], Terminal(), False),  # ...and over --port
])
def test_serves_itself_when_asked_or_on_a_terminal_never_with_stdio(
        argv: list[str], stdin: io.StringIO, serves: bool) -> None:
    args = serving_parser("A driver.\n\nMore.").parse_args(argv)
    assert serves_itself(args, stdin) is serves


def test_the_parser_is_described_by_the_docstrings_first_line() -> None:
    """A program's ``--help`` starts with what it is: its module docstring's first line."""
    assert serving_parser("A simulated mount.\n\nRun it...").description == "A simulated mount."
