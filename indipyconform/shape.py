"""Pure checks of what a device defines against the table (``expected``).

Given the vectors a client's model holds for one device, each :class:`Spec` becomes a
:class:`Check`: present or not, its type, permission and switch rule, and its member names.
No I/O: the command (``cli``) and the tests feed it the model at each step.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import Protocol

from indipycore.interface import Interface

from .expected import DEVICE_WIDE
from .expected import ROLES
from .expected import Spec
from .report import Check
from .report import Level

__all__ = ["VectorView", "check_spec", "device_wide_checks", "interface_checks", "role_checks",
           "role_names"]

_KIND = {"NumberVector": "number", "SwitchVector": "switch", "TextVector": "text",
         "LightVector": "light", "BLOBVector": "BLOB"}


class VectorView(Protocol):
    """What the checks read of a vector (``indipyclient``'s model vectors have it)."""

    vectortype: str
    perm: str
    rule: str | None

    def __iter__(self) -> Iterator[str]: ...

    def __getitem__(self, name: str, /) -> Any: ...


def _describe(kind: str, perm: str | None, rule: str | None) -> str:
    return " ".join(p for p in (_KIND.get(kind, kind), perm or "", rule or "") if p)


def check_spec(device: str, spec: Spec, vector: VectorView | None, *, required: bool) -> Check:
    """One property against its Spec (a missing optional one is not checked: None is only
    passed for required ones)."""
    wanted = _describe(spec.kind, spec.perm, spec.rule)
    members = f" with {', '.join(spec.members)}" if spec.members else ""
    if spec.member_prefix:
        members = f" with {spec.member_prefix}1..N"
    if vector is None:
        return Check(Level.FAIL if required else Level.PASS, device, spec.name,
                     f"expected {wanted}{members}; not defined")
    names = list(vector)
    found = _describe(vector.vectortype, vector.perm if spec.kind != "LightVector" else None,
                      vector.rule)
    problems: list[str] = []
    warnings: list[str] = []
    if vector.vectortype != spec.kind:
        problems.append(f"type {_KIND.get(vector.vectortype, vector.vectortype)}")
    if spec.perm is not None and vector.perm != spec.perm and not _switch_wo_as_rw(spec, vector):
        if vector.perm in spec.tolerated.perms:
            warnings.append(f"permission {vector.perm} ({spec.tolerated.why})")
        else:
            problems.append(f"permission {vector.perm}")
    if spec.rule is not None and vector.rule != spec.rule:
        if vector.rule in spec.tolerated.rules:
            warnings.append(f"rule {vector.rule} ({spec.tolerated.why})")
        else:
            problems.append(f"rule {vector.rule}")
    missing = [m for m in spec.members if m not in names]
    if missing:
        problems.append(f"no member {', '.join(missing)}")
    if vector.vectortype == "SwitchVector":
        _switch_states(vector, names, problems, warnings)
    if spec.member_prefix and not any(n.startswith(spec.member_prefix) for n in names):
        problems.append(f"no member {spec.member_prefix}N")
    detail = f"expected {wanted}{members}; found {found} [{', '.join(names)}]"
    if problems:
        return Check(Level.FAIL, device, spec.name, f"{detail}: {'; '.join(problems)}")
    if warnings:
        return Check(Level.WARN, device, spec.name, f"{detail}: {'; '.join(warnings)}")
    return Check(Level.PASS, device, spec.name, detail)


def _switch_wo_as_rw(spec: Spec, vector: VectorView) -> bool:
    """A switch indilib declares wo, found rw: the INDI 1.7 specification allows a switch
    only ro or rw, so rw is that property written to the letter (indipydriver sends it so)."""
    return spec.kind == "SwitchVector" and spec.perm == "wo" and vector.perm == "rw"


def _switch_states(vector: VectorView, names: list[str], problems: list[str],
                   warnings: list[str]) -> None:
    """What the switch rule says of the switches On: more than one in a OneOfMany or
    AtMostOne is a FAIL; none in a OneOfMany a WARN, as indipydriver warns when a driver
    builds one (a momentary button with no switch On is AtMostOne, as indilib's ABORTs)."""
    on = [name for name in names if str(vector[name]) == "On"]
    if len(on) > 1 and vector.rule in ("OneOfMany", "AtMostOne"):
        problems.append(f"{vector.rule} with {len(on)} switches On ({', '.join(on)})")
    elif not on and vector.rule == "OneOfMany":
        warnings.append("OneOfMany with no switch On (clients expect exactly one)")


def device_wide_checks(device: str, vectors: Mapping[str, VectorView]) -> list[Check]:
    """CONNECTION and DRIVER_INFO, which every device defines from the start."""
    return [check_spec(device, spec, vectors.get(spec.name), required=True)
            for spec in DEVICE_WIDE]


def interface_checks(device: str, text: str | None) -> tuple[Interface | None, list[Check]]:
    """DRIVER_INTERFACE read: the bits, and a check saying what they mean (FAIL when it is
    missing or not a number; WARN for 0, which Ekos offers in no module, and for bits this
    tool has no table for)."""
    if text is None:
        return None, [Check(Level.FAIL, device, "DRIVER_INFO.DRIVER_INTERFACE",
                            "no DRIVER_INTERFACE: clients cannot tell what this device is")]
    try:
        bits = Interface.from_text(text)
    except ValueError:
        return None, [Check(Level.FAIL, device, "DRIVER_INFO.DRIVER_INTERFACE",
                            f"expected a decimal number; found {text!r}")]
    if bits == Interface.GENERAL:
        return bits, [Check(Level.WARN, device, "DRIVER_INFO.DRIVER_INTERFACE",
                            "0 (general): Ekos offers this device in no module; a device with "
                            "no standard role reports AUX (32768)")]
    checks = [Check(Level.PASS, device, "DRIVER_INFO.DRIVER_INTERFACE",
                    f"{int(bits)} = {' | '.join(role_names(bits))}")]
    known = Interface.GENERAL
    for bit in ROLES:
        known |= bit
    others = [flag.name or str(int(flag)) for flag in Interface
              if flag and flag.value & (flag.value - 1) == 0 and flag & bits and not flag & known]
    if others:
        checks.append(Check(Level.WARN, device, "DRIVER_INFO.DRIVER_INTERFACE",
                            f"no checks for {', '.join(others)} in this version"))
    return bits, checks


def role_names(bits: Interface) -> list[str]:
    """The single-bit names in ``bits`` (``["CCD", "GUIDER", "FILTER"]``)."""
    return [flag.name or str(int(flag)) for flag in Interface
            if flag and flag.value & (flag.value - 1) == 0 and flag & bits]


def role_checks(device: str, bits: Interface, vectors: Mapping[str, VectorView]) -> list[Check]:
    """Every role the bits name, against what the connected device defines."""
    checks: list[Check] = []
    for bit, role in ROLES.items():
        if not bit & bits:
            continue
        for spec in role.required:
            checks.append(check_spec(device, spec, vectors.get(spec.name), required=True))
        for spec in role.optional:
            if spec.name in vectors:
                checks.append(check_spec(device, spec, vectors[spec.name], required=False))
        for group in role.one_of:
            if not any(name in vectors for name in group):
                checks.append(Check(Level.FAIL, device, " or ".join(group),
                                    f"a {role.name.lower()} defines at least one of them; "
                                    f"none is defined"))
    return checks
