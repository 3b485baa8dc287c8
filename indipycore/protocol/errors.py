"""Errors of the protocol core, split by whose fault they are (as h11 does)."""


class ProtocolError(ValueError):
    """The peer sent something that breaks INDI or XML; the message says what and where."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.offset = offset
        where = f" (at byte {offset} of the stream)" if offset is not None else ""
        super().__init__(message + where)


class LocalProtocolError(ValueError):
    """Our own code tried to build or send something INDI does not allow."""
