"""A plan checked against the instruments as they are, once they are seen and before anything
moves: a filter the wheel does not have, gain on a camera without CCD_GAIN, autofocus without a
focuser, a slew or dithering without a mount, a dome named that the rig has not opened. Each
problem is a `PlanError` at the plan line that asks for it. Pure: the rig is seen through
`RigFacts`, which `RigFacts.of` reads from a `rig.protocols.Rig` (or anything shaped like one).

A flat's ``adu`` above the camera's full scale is one of these problems, and the one the
camera alone can say before the rig is opened: `check_levels` is that part, which the agent
runs at load where its server already shows the camera's CCD_INFO (`check_against` at START
stays the fallback).

And against this install (`check_install`): autofocus asked for where the optional extra
``[agents]`` (numpy and sep, which measure the stars) is missing is refused, saying which
extra to install, rather than a night that never focuses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .locate import format_path
from .model import Plan
from .needs import Need
from .needs import needs
from .toml import PlanError
from .toml import located


class _CameraView(Protocol):
    @property
    def name(self) -> str: ...

    def has_gain(self) -> bool: ...

    def has_offset(self) -> bool: ...

    def full_scale(self) -> float | None: ...


class _WheelView(Protocol):
    @property
    def name(self) -> str: ...

    def filters(self) -> list[str]: ...


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _RigView(Protocol):
    """What `RigFacts.of` reads of a `Rig` (structurally: the plan stands below the rig)."""

    @property
    def camera(self) -> _CameraView: ...

    @property
    def wheel(self) -> _WheelView | None: ...

    @property
    def focuser(self) -> _Named | None: ...

    @property
    def mount(self) -> _Named | None: ...

    @property
    def dome(self) -> _Named | None: ...

    @property
    def guider(self) -> _Named | None: ...

    @property
    def panel(self) -> _Named | None: ...


@dataclass(frozen=True)
class RigFacts:
    """What the devices can do: `filters` the wheel's names slot 1 first (None: no wheel),
    whether the camera has CCD_GAIN / CCD_OFFSET, and which devices are there (by name, ""
    for none)."""

    camera: str = ""
    filters: tuple[str, ...] | None = None
    wheel: str = ""
    gain: bool = False
    offset: bool = False
    focuser: str = ""
    mount: str = ""
    dome: str = ""
    guider: str = ""
    panel: str = ""
    #: The camera's full scale in ADU (None: not said): a flat's adu above it is refused.
    full: float | None = None

    @classmethod
    def of(cls, rig: _RigView) -> RigFacts:
        wheel = rig.wheel
        return cls(camera=rig.camera.name,
                   filters=None if wheel is None else tuple(wheel.filters()),
                   wheel="" if wheel is None else wheel.name,
                   gain=rig.camera.has_gain(), offset=rig.camera.has_offset(),
                   focuser="" if rig.focuser is None else rig.focuser.name,
                   mount="" if rig.mount is None else rig.mount.name,
                   dome="" if rig.dome is None else rig.dome.name,
                   guider="" if rig.guider is None else rig.guider.name,
                   panel="" if rig.panel is None else rig.panel.name,
                   full=rig.camera.full_scale())


def _problem(plan: Plan, need: Need, facts: RigFacts) -> str | None:
    """Why the rig cannot do what `need` asks, or None."""
    where = f"{format_path(need.path)} ({need.what})"
    if need.kind == "site":
        if plan.site is None and not facts.mount:
            return f"{format_path(need.path)} needs the site: no mount tells it, add [site]"
        return None
    if need.kind in ("gain", "offset"):
        if facts.gain if need.kind == "gain" else facts.offset:
            return None
        vector = "CCD_GAIN" if need.kind == "gain" else "CCD_OFFSET"
        return f"{where}: the camera {facts.camera!r} has no {need.kind} ({vector})"
    if need.kind == "level":
        return _level_problem(where, need.adu, facts)
    present = {"wheel": facts.wheel or facts.filters is not None,
               "focuser": facts.focuser, "mount": facts.mount,
               "guider": facts.guider, "panel": facts.panel}[need.kind]
    if not present:
        return f"{where} needs a {need.kind}, and the rig has none"
    if need.kind == "wheel" and need.filter is not None:
        return _filter_problem(where, need.filter, facts)
    return None


def _level_problem(where: str, adu: float | None, facts: RigFacts) -> str | None:
    if adu is None or facts.full is None or adu <= facts.full:
        return None
    return (f"{where}: adu = {adu:g} is above the camera {facts.camera!r}'s range "
            f"(0 to {facts.full:g} ADU)")


def _filter_problem(where: str, wanted: str | int, facts: RigFacts) -> str | None:
    names = facts.filters or ()
    if isinstance(wanted, int):
        if wanted <= len(names):
            return None
        return f"{where}: slot {wanted}, but the wheel {facts.wheel!r} has {len(names)}"
    if wanted in names or wanted.lower() in (name.lower() for name in names):
        return None
    return (f"{where}: the wheel {facts.wheel!r} has no filter {wanted!r} "
            f"(it has {', '.join(names) or 'no names'})")


def check_against(plan: Plan, facts: RigFacts, *, text: str | None = None,
                  source: str = "<plan>") -> list[PlanError]:
    """Every problem of `plan` on these devices (empty: it can run). With the plan's `text`
    each problem names its line."""
    problems = []
    dome = plan.devices.dome
    if dome and facts.dome != dome:  # open_rig refuses a device that is no dome
        problems.append(located(source, text, ("devices", "dome"),
                                f"the dome {dome!r} is not a dome of the rig"))
    for need in needs(plan):
        reason = _problem(plan, need, facts)
        if reason is not None:
            problems.append(located(source, text, need.path, reason))
    return problems


def check_levels(plan: Plan, facts: RigFacts, *, text: str | None = None,
                 source: str = "<plan>") -> list[PlanError]:
    """`check_against`'s part that the camera's full scale alone decides (`facts.full`: a
    flat's adu above it, the panel's or the sky's), each at its line: the check at load."""
    found = ((need, _problem(plan, need, facts)) for need in needs(plan) if need.kind == "level")
    return [located(source, text, need.path, reason) for need, reason in found
            if reason is not None]


#: What autofocus needs, said where it is missing.
AUTOFOCUS_EXTRA = ('the extra [agents] (numpy and sep), not installed here: '
                   'pip install ".[agents]" in the toolkit\'s clone')


def check_install(plan: Plan, can_autofocus: Callable[[], bool], *, text: str | None = None,
                  source: str = "<plan>") -> list[PlanError]:
    """Every problem of `plan` on this install (empty: it can run): autofocus runs asked for
    (at a target's start, on a filter change, every N minutes, on a temperature change) when
    `can_autofocus()` says no; asked only when the plan asks for autofocus at all (it imports
    numpy and sep). With the plan's `text` each problem names its line."""
    asking = [need for need in needs(plan) if need.kind == "focuser"]  # autofocus's need
    if not asking or can_autofocus():
        return []
    return [located(source, text, need.path, f"{format_path(need.path)} asks for autofocus "
                    f"runs: they need {AUTOFOCUS_EXTRA}") for need in asking]
