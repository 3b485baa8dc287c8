"""The access rules file (``--acl``) as pure code: text in, rules out. No I/O.

One rule a line, ``IDENTITY read|write DEVICE[.VECTOR]``:

* IDENTITY is who connects: ``anonymous`` (the plain TCP port), ``unix:USER`` (the Unix
  socket), a TLS client certificate's CN; ``*`` is everyone. Quote it (``"Jane Doe"``) when it
  holds a space.
* ``write`` grants ``read`` too.
* DEVICE[.VECTOR]: the rest of the line. Device names hold spaces (``CCD Simulator``), so the
  vector is what follows the *last* dot; a device whose name holds a dot is quoted
  (``"iOptron v3.0".*``). Without a vector the rule is the whole device.
* ``*`` (any run of characters) and ``?`` (one character) are globs in each of the three
  parts; every other character stands for itself.
* ``#`` at the start of a line or after a space starts a comment; blank lines are ignored.

A malformed line is an `AclError` naming the source, the line number and why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

__all__ = ["AclError", "Rule", "compile_glob", "format_rule", "parse_acl"]

PERMISSIONS = ("read", "write")


class AclError(ValueError):
    """A malformed line of an access rules file."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}, line {line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


def compile_glob(pattern: str) -> Callable[[str], bool]:
    """A matcher of whole names for `pattern`, in which ``*`` and ``?`` are the only globs
    (``fnmatch`` would also take ``[...]``, which INDI names may hold literally)."""
    if pattern == "*":
        return _anything
    if "*" not in pattern and "?" not in pattern:
        return pattern.__eq__
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    matcher = re.compile(regex, re.DOTALL).fullmatch
    return lambda name: matcher(name) is not None


def _anything(name: str) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    """One line: `identity` may read (or, with `write`, set too) `device`.`vector` (`vector`
    None: the whole device). The three are glob patterns."""

    identity: str
    write: bool
    device: str
    vector: str | None = None
    line: int = field(default=0, compare=False)
    _identity: Callable[[str], bool] = field(init=False, repr=False, compare=False)
    _device: Callable[[str], bool] = field(init=False, repr=False, compare=False)
    _vector: Callable[[str], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_identity", compile_glob(self.identity))
        object.__setattr__(self, "_device", compile_glob(self.device))
        object.__setattr__(self, "_vector",
                           compile_glob(self.vector) if self.vector is not None else _anything)

    def for_identity(self, identity: str) -> bool:
        return self._identity(identity)

    def covers(self, device: str, vector: str | None) -> bool:
        """Whether the rule names `device`.`vector`; `vector` None: some vector of `device`
        (what a device-level element -- a message, a whole device deleted -- is shown by)."""
        if not self._device(device):
            return False
        return vector is None or self._vector(vector)

    @property
    def everything(self) -> bool:
        """Whether the rule names every vector of every device."""
        return self.device == "*" and self.vector in (None, "*")


def parse_acl(text: str, source: str = "<acl>") -> list[Rule]:
    """The rules of an access rules file's `text`; AclError at the first malformed line."""
    rules = []
    for number, line in enumerate(text.splitlines(), 1):
        rule = _parse_line(line, source, number)
        if rule is not None:
            rules.append(rule)
    return rules


def format_rule(rule: Rule) -> str:
    """`rule` as a line `parse_acl` reads back as the same rule (identities and devices with
    a double quote cannot be written)."""
    identity = rule.identity
    if not identity or any(c.isspace() or c in '"#' for c in identity):
        identity = f'"{identity}"'
    target = f'"{rule.device}"' + (f".{rule.vector}" if rule.vector is not None else "")
    return f"{identity} {'write' if rule.write else 'read'} {target}"


def _word(line: str, start: int, source: str, number: int, what: str) -> tuple[str, int]:
    """The word (or quoted string) of `line` at `start` (no space there), and where it ends."""
    if line[start] == '"':
        end = line.find('"', start + 1)
        if end < 0:
            raise AclError(source, number, f"the quote opened before the {what} is not closed")
        if end + 1 < len(line) and not line[end + 1].isspace():
            raise AclError(source, number, f"a space must follow the quoted {what}")
        return line[start + 1:end], end + 1
    end = start
    while end < len(line) and not line[end].isspace():
        end += 1
    return line[start:end], end


def _skip_space(line: str, at: int) -> int:
    while at < len(line) and line[at].isspace():
        at += 1
    return at


def _uncomment(line: str) -> str:
    """`line` without its comment: from a ``#`` that starts it or follows a space, outside
    quotes."""
    quoted = False
    for at, c in enumerate(line):
        if c == '"':
            quoted = not quoted
        elif c == "#" and not quoted and (at == 0 or line[at - 1].isspace()):
            return line[:at]
    return line


def _parse_line(raw: str, source: str, number: int) -> Rule | None:
    line = _uncomment(raw).strip()
    if not line:
        return None
    identity, at = _word(line, 0, source, number, "identity")
    if not identity:
        raise AclError(source, number, "the identity is empty")
    at = _skip_space(line, at)
    if at >= len(line):
        raise AclError(source, number, "expected 'read' or 'write' after the identity")
    permission, at = _word(line, at, source, number, "permission")
    if permission not in PERMISSIONS:
        raise AclError(source, number,
                       f"expected 'read' or 'write' after the identity, not {permission!r}")
    target = line[_skip_space(line, at):]
    if not target:
        raise AclError(source, number, f"expected DEVICE[.VECTOR] after {permission!r}")
    device, vector = _target(target, source, number)
    return Rule(identity, permission == "write", device, vector, number)


def _target(target: str, source: str, number: int) -> tuple[str, str | None]:
    """DEVICE[.VECTOR]: a quoted device and an optional ``.VECTOR``, or the device up to the
    last dot."""
    if target.startswith('"'):
        end = target.find('"', 1)
        if end < 0:
            raise AclError(source, number, "the quote opened before the device is not closed")
        device, rest = target[1:end], target[end + 1:]
        if not rest:
            vector = None
        elif rest.startswith("."):
            vector = rest[1:]
        else:
            raise AclError(source, number,
                           f"after the quoted device, expected '.VECTOR' or nothing, not {rest!r}")
    else:
        device, dot, vector_text = target.rpartition(".")
        if not dot:
            device, vector = target, None
        else:
            vector = vector_text
    if not device:
        raise AclError(source, number, "the device is empty")
    if '"' in device:
        raise AclError(source, number, "a device holds a double quote only when quoted whole")
    if vector is not None:
        if not vector:
            raise AclError(source, number, "the vector after the '.' is empty")
        if any(c.isspace() or c == '"' for c in vector):
            raise AclError(source, number, f"a vector name holds no space or quote: {vector!r}")
    return device, vector
