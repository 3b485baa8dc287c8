"""Which line of a TOML text holds a key: `tomllib` gives values but no lines, and a plan's
refusal must name the line. Pure, standard library only.

A key path is what the value's place is in the parsed document: ``("targets", 1, "batches",
0, "exposure")``. `key_lines` walks a document `tomllib` has accepted (so it may assume valid
TOML) and maps each path to the line its key or table header starts on: table headers,
arrays of tables (counted per parent element), dotted keys, inline tables and arrays (each
element on the line it starts). `line_of` then answers for a path, or for the nearest table
that holds it (a missing key is reported at its table's header).
"""

from __future__ import annotations

import bisect
import logging
import string
import tomllib
from collections.abc import Iterator

logger = logging.getLogger(__name__)

KeyPath = tuple[str | int, ...]

_BARE = frozenset(string.ascii_letters + string.digits + "_-")
# Ends a scalar value (a number, a boolean, a date-time with its space) inside any container.
_SCALAR_END = frozenset(",]}\n\r#")


def format_path(path: KeyPath) -> str:
    """``targets[1].batches[0].exposure``; a key that is not bare is quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = part if part and set(part) <= _BARE else '"' + part.replace('"', '\\"') + '"'
            text += f".{name}" if text else name
    return text


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int:
    """The line of `path`, else of the nearest table holding it, else 1."""
    for length in range(len(path), 0, -1):
        if path[:length] in lines:
            return lines[path[:length]]
    return 1


def key_lines(text: str) -> dict[KeyPath, int]:
    """Every key path of a valid TOML document, with the 1-based line it starts on. A text the
    walk cannot follow gives what was found up to there (the lines are a help, not the check:
    `tomllib` has read the values)."""
    walk = _Walk(text)
    try:
        walk.document()
    except (IndexError, ValueError, tomllib.TOMLDecodeError):
        logger.debug("plan locator stopped at offset %d", walk.pos, exc_info=True)
    return walk.found


class _Walk:
    """One pass over the text, offsets turned into lines at the end of each key."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.found: dict[KeyPath, int] = {}
        self.arrays: dict[KeyPath, int] = {}
        self._newlines = [i for i, char in enumerate(text) if char == "\n"]

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self._newlines, pos) + 1

    def remember(self, path: KeyPath, line: int) -> None:
        for length in range(1, len(path) + 1):
            self.found.setdefault(path[:length], line)

    def document(self) -> None:
        table: KeyPath = ()
        while True:
            self.blank(newlines=True)
            if self.pos >= len(self.text):
                return
            if self.text[self.pos] == "[":
                table = self.header()
            else:
                self.key_value(table)

    def header(self) -> KeyPath:
        line = self.line(self.pos)
        array = self.text.startswith("[[", self.pos)
        self.pos += 2 if array else 1
        keys = self.keys()
        self.blank(newlines=False)
        self.pos += 2 if array else 1
        resolved: list[str | int] = []
        for index, key in enumerate(keys):
            resolved.append(key)
            here = tuple(resolved)
            if array and index == len(keys) - 1:
                count = self.arrays.get(here, 0)
                self.arrays[here] = count + 1
                resolved.append(count)
                self.found[tuple(resolved)] = line
            elif here in self.arrays:
                resolved.append(self.arrays[here] - 1)
        self.remember(tuple(resolved), line)
        return tuple(resolved)

    def key_value(self, table: KeyPath) -> None:
        line = self.line(self.pos)
        path = table + self.keys()
        self.remember(path, line)
        self.blank(newlines=False)
        self.pos += 1  # "="
        self.blank(newlines=False)
        self.value(path)

    def keys(self) -> tuple[str, ...]:
        keys: list[str] = []
        while True:
            self.blank(newlines=False)
            keys.append(self.key())
            self.blank(newlines=False)
            if self.pos < len(self.text) and self.text[self.pos] == ".":
                self.pos += 1
                continue
            return tuple(keys)

    def key(self) -> str:
        text, start = self.text, self.pos
        if text[start] in "\"'":
            self.string()
            # the quoted key decoded the way TOML decodes it (escapes included)
            decoded = tomllib.loads("k = " + text[start:self.pos])["k"]
            return str(decoded)
        while self.pos < len(text) and text[self.pos] in _BARE:
            self.pos += 1
        if self.pos == start:
            raise ValueError(f"no key at offset {start}")
        return text[start:self.pos]

    def blank(self, *, newlines: bool) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return

    def value(self, path: KeyPath) -> None:
        char = self.text[self.pos]
        if char in "\"'":
            self.string()
        elif char == "[":
            self.array(path)
        elif char == "{":
            self.inline_table(path)
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in _SCALAR_END:
                self.pos += 1

    def string(self) -> None:
        text = self.text
        quote = text[self.pos]
        if text.startswith(quote * 3, self.pos):
            self.pos += 3
            while not text.startswith(quote * 3, self.pos):
                self.pos += 2 if quote == '"' and text[self.pos] == "\\" else 1
            self.pos += 3
            extra = 0  # a closing delimiter may carry one or two quotes of the content
            while extra < 2 and self.pos < len(text) and text[self.pos] == quote:
                self.pos += 1
                extra += 1
            return
        self.pos += 1
        while text[self.pos] != quote:
            self.pos += 2 if quote == '"' and text[self.pos] == "\\" else 1
        self.pos += 1

    def array(self, path: KeyPath) -> None:
        for index in self.items("]"):
            self.remember(path + (index,), self.line(self.pos))
            self.value(path + (index,))

    def inline_table(self, path: KeyPath) -> None:
        for _ in self.items("}"):
            self.key_value(path)

    def items(self, closing: str) -> Iterator[int]:
        """Past the opening bracket, up to and past `closing` (``]`` or ``}``): each item's
        index, with `pos` at its start, once blanks, newlines and commas are passed over (the
        caller reads the item before asking for the next)."""
        self.pos += 1
        index = 0
        while True:
            self.blank(newlines=True)
            if self.text[self.pos] == closing:
                self.pos += 1
                return
            if self.text[self.pos] == ",":
                self.pos += 1
                continue
            yield index
            index += 1
