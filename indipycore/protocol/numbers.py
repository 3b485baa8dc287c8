"""INDI numbers: reading numberValue text, display formatting, and writing numbers for the wire.

Three jobs, kept apart because they follow different rules:

* :func:`parse_number` reads what a peer sent (INDI 1.7 p.5 numberValue: integer, real or
  sexagesimal). It is lenient about separators but refuses anything that is not a finite number.
* :func:`format_number` renders a value for people with the property's ``format`` (a C printf
  conversion for a double, or INDI's ``%<w>.<f>m`` sexagesimal). It is *display only*.
* :func:`number_to_wire` writes a value into a message. C peers read numbers with ``f_scansexa``
  (indilib ``indicom.c``), which deletes every space before ``sscanf("%lf...")``, so ``"-5 30"``
  would reach them as -530: we therefore always send a plain decimal, never sexagesimal and never
  the display format (indilib itself sends ``%.20g``).
"""

from __future__ import annotations

import math
import re

from indipycore.protocol.errors import LocalProtocolError

__all__ = ["check_number_format", "float_format_for", "format_number", "number_to_wire",
           "parse_number"]

# One component of a numberValue: an unsigned decimal integer or real, with an optional exponent
# so that "1e-06" (what indilib's %.20g produces for small values) is read. ASCII digits only:
# Python's float() would also take "1_000", "nan", "inf" and Unicode digits, which no INDI peer
# sends and C peers could not read back, so those are refused on purpose.
_COMPONENT = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"

# Separators (INDI 1.7 p.5): space, ':' or ';'. Runs count as one separator. Tabs are taken as
# spaces (lenient on input). A trailing separator is tolerated: its component is "missing" = 0.
_SEPARATORS = "[ \t:;]+"

_NUMBER_VALUE = re.compile(
    rf"(?P<sign>[-+]?)(?P<a>{_COMPONENT})"
    rf"(?:{_SEPARATORS}(?P<b>{_COMPONENT}))?"
    rf"(?:{_SEPARATORS}(?P<c>{_COMPONENT}))?"
    rf"(?:{_SEPARATORS})?",
    re.ASCII,
)


def parse_number(text: str) -> float:
    """Read an INDI numberValue (integer, real or sexagesimal) as a float.

    Surrounding whitespace is ignored (indilib pads values with newlines). Up to three components
    separated by runs of space, ':' or ';' are added as ``a + b/60 + c/3600``; missing ones are 0.
    A leading '-' negates the whole value, so ``"-0:30"`` is -0.5 and ``"-10:30:18"`` is -10.505.
    Components after the first may exceed 59 (they are just added).

    Raises ``ValueError`` quoting the text for anything else: the empty string, more than three
    components, signs inside, ``nan``/``inf``, ``1_000``, non-ASCII digits, hex, and values too
    large for a float.
    """
    stripped = text.strip()
    match = _NUMBER_VALUE.fullmatch(stripped)
    if match is None:
        raise ValueError(f"not an INDI number: {text!r}")
    a, b, c = match.group("a", "b", "c")
    if b is None:
        # A single component is read by float() itself, so "0.1" gives exactly float("0.1").
        value = float(a)
    else:
        value = float(a) + float(b) / 60.0 + (float(c) / 3600.0 if c is not None else 0.0)
    if not math.isfinite(value):
        raise ValueError(f"INDI number out of range: {text!r}")
    return -value if match.group("sign") == "-" else value


def number_to_wire(value: float) -> str:
    """Write a number for a message so that any peer reads back exactly the same double.

    ``repr(float)`` is the shortest decimal that round-trips, and C's ``sscanf("%lf")`` reads it
    (including exponents such as ``1e-07``). Integral values keep their ``.0`` (``"5.0"``).
    Non-finite values cannot be sent (C peers and :func:`parse_number` refuse them), so they raise
    :class:`LocalProtocolError`.
    """
    number = float(value)
    if not math.isfinite(number):
        raise LocalProtocolError(f"cannot send a non-finite number: {number!r}")
    return repr(number)


# A format holds one conversion, optionally with literal text around it ("%.2f deg").
_CONVERSION = re.compile(
    r"%(?P<flags>[-+ #0]*)(?P<width>[0-9]+)?(?:\.(?P<precision>[0-9]*))?"
    r"(?P<length>hh|h|ll|l|L|q|j|z|t)?(?P<conv>[a-zA-Z%])",
    re.ASCII,
)

_FLOAT_CONVERSIONS = frozenset("fFeEgG")
_INTEGER_CONVERSIONS = frozenset("diu")

# INDI %<w>.<f>m (indilib numberFormat): the precision f chooses how finely the fraction of the
# whole part is shown, as a count of the smallest unit per whole unit ("fracbase").
_SEXAGESIMAL_FRACBASE = {9: 360000, 8: 36000, 6: 3600, 5: 600}
_SEXAGESIMAL_DEFAULT_FRACBASE = 60  # any other precision, typically 3: ":mm"


def format_number(value: float, fmt: str) -> str:
    """Render ``value`` for display with an INDI ``format`` attribute.

    Supports one printf conversion for a C double with flags, width and precision (``%f %F %e %E
    %g %G``; ``%d %i %u`` print the value truncated toward zero, as a C cast to an integer would,
    since the value is a double), an optional C length modifier (``%lf``), literal text and
    ``%%`` around it, and INDI's ``%<w>.<f>m`` sexagesimal (see :func:`format_sexagesimal`).
    Raises ``ValueError`` for a format without exactly one such conversion; callers showing a
    peer's format may catch it and fall back to ``repr(value)``.
    """
    conversions = [m for m in _CONVERSION.finditer(fmt) if m.group("conv") != "%"]
    if len(conversions) != 1:
        raise ValueError(f"number format needs exactly one conversion: {fmt!r}")
    spec = conversions[0]
    conv = spec.group("conv")
    if conv == "m":
        width = int(spec.group("width") or 0)
        precision = spec.group("precision")
        rendered = format_sexagesimal(value, width, int(precision) if precision else 0)
    elif conv in _FLOAT_CONVERSIONS:
        rendered = _printf(spec, conv, float(value))
    elif conv in _INTEGER_CONVERSIONS:
        rendered = _format_integer(spec, float(value))
    else:
        raise ValueError(f"unsupported conversion %{conv} in number format: {fmt!r}")
    before, after = fmt[: spec.start()], fmt[spec.end() :]
    if "%" in before.replace("%%", "") or "%" in after.replace("%%", ""):
        raise ValueError(f"malformed number format: {fmt!r}")
    return before.replace("%%", "%") + rendered + after.replace("%%", "%")


def check_number_format(fmt: str) -> None:
    """Raise ``ValueError`` unless a C client can print a double with `fmt`.

    indilib's clients hand a number's ``format`` to ``snprintf`` with a ``double`` (or to its
    sexagesimal formatter for ``%m``): ``%d`` or ``%s`` there prints garbage or crashes, so a
    driver's own formats are held to ``%f %F %e %E %g %G`` (``l`` allowed) and ``%<w>.<f>m``,
    with literal text and ``%%`` around. What peers send is only displayed, leniently
    (:func:`format_number`)."""
    conversions = [m for m in _CONVERSION.finditer(fmt) if m.group("conv") != "%"]
    if len(conversions) != 1:
        raise ValueError(f"number format {fmt!r} needs exactly one conversion, such as %g, "
                         "%.2f or %010.6m")
    spec = conversions[0]
    conv = spec.group("conv")
    if conv in _INTEGER_CONVERSIONS:
        raise ValueError(f"number format {fmt!r}: C clients would print the double's bits "
                         f"with %{conv}; use %.0f for whole numbers")
    if conv not in _FLOAT_CONVERSIONS and conv != "m":
        raise ValueError(f"number format {fmt!r}: %{conv} does not print a number; use f, e, "
                         "g (printf) or m (INDI sexagesimal)")
    if spec.group("length") not in (None, "l"):
        raise ValueError(f"number format {fmt!r}: the length modifier "
                         f"{spec.group('length')!r} does not fit a C double")
    format_number(0.0, fmt)  # a stray % around the conversion


def float_format_for(fmt: str) -> str | None:
    """`fmt` with its one integer conversion (``%d``, ``%5i``, ``%+03u``) made the ``%.0f``
    that prints the same whole number from a double (flags and width kept), or None if it has
    no such conversion: how indipydriver 3.x drivers' ``%d`` formats keep working."""
    conversions = [m for m in _CONVERSION.finditer(fmt) if m.group("conv") != "%"]
    if len(conversions) != 1 or conversions[0].group("conv") not in _INTEGER_CONVERSIONS:
        return None
    spec = conversions[0]
    flags = spec.group("flags").replace("#", "")
    return f"{fmt[: spec.start()]}%{flags}{spec.group('width') or ''}.0f{fmt[spec.end() :]}"


def _printf(spec: re.Match[str], conv: str, value: float) -> str:
    """Apply one printf conversion with Python's %-operator, which follows C for these."""
    precision = spec.group("precision")
    dot = "" if precision is None else "." + (precision or "0")
    return f"%{spec.group('flags')}{spec.group('width') or ''}{dot}{conv}" % value


def _format_integer(spec: re.Match[str], value: float) -> str:
    if not math.isfinite(value):
        # A C cast would be undefined; show what %f shows, padded like the integer would be.
        width = int(spec.group("width") or 0)
        text = f"{value:f}"
        return text.ljust(width) if "-" in spec.group("flags") else text.rjust(width)
    # %u of a negative double has no sensible C meaning; print it signed rather than wrap it.
    return _printf(spec, "d", math.trunc(value))


def format_sexagesimal(value: float, width: int, precision: int) -> str:
    """Render INDI ``%<width>.<precision>m``: the whole part then ``:mm``, ``:mm.m`` etc.

    Following indilib (``numberFormat``/``fs_sexa`` in ``indicom.c``): precision 9 gives
    ``:mm:ss.ss``, 8 ``:mm:ss.s``, 6 ``:mm:ss``, 5 ``:mm.m`` and any other ``:mm``; the whole part
    is right-aligned in ``width - precision`` columns. The value is rounded once, as a count of
    the smallest unit shown (half up on the magnitude), so carries propagate: 0.9999999 with
    precision 6 is ``1:00:00``, never ``0:59:60``. A negative value whose whole part is 0 prints
    ``-0`` (``-0.5`` -> ``-0:30``); as in indilib the sign comes from ``value < 0``, so ``-0.0``
    prints ``0`` but a tiny negative that rounds to zero prints ``-0:00``. Width flags such as
    the ``0`` in the common ``%010.6m`` are ignored, as indilib does. Non-finite values print as
    ``%f`` would, right-aligned in ``width``.
    """
    if not math.isfinite(value):
        return f"{value:f}".rjust(width)
    fracbase = _SEXAGESIMAL_FRACBASE.get(precision, _SEXAGESIMAL_DEFAULT_FRACBASE)
    negative = value < 0
    # Rounding as indilib does it: (unsigned long)(|a| * fracbase + 0.5).
    total = math.floor(abs(value) * fracbase + 0.5)
    whole, fraction = divmod(total, fracbase)
    whole_text = ("-" if negative else "") + str(whole)
    out = [whole_text.rjust(width - precision)]
    if fracbase == 60:
        out.append(f":{fraction:02d}")
    elif fracbase == 600:
        minutes, tenths = divmod(fraction, 10)
        out.append(f":{minutes:02d}.{tenths:d}")
    else:
        subunits = fracbase // 3600  # 1, 10 or 100 parts per second
        minutes, rest = divmod(fraction, 60 * subunits)
        seconds, part = divmod(rest, subunits)
        out.append(f":{minutes:02d}:{seconds:02d}")
        if subunits == 10:
            out.append(f".{part:d}")
        elif subunits == 100:
            out.append(f".{part:02d}")
    return "".join(out)
