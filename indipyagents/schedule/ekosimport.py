"""Ekos's files as a plan: a capture sequence (``.esq``, ``<SequenceQueue>``) becomes a plan
taken in order, one target imaging where the mount points; a scheduler list (``.esl``,
``<SchedulerList>``) a scheduled plan, one target a job, its batches from the job's ``.esq``.
What our plans cannot say is carried in `notes` (and the plan's comments), never dropped
silently: a cooler set point, a sub-frame, delays, Ekos's focus/align/guide steps, a start at
culmination, the weather and the horizon (Ekos keeps those in KStars, not in the file).

Flats by ADU (``<Calibration><FlatDuration><Type>ADU</Type><Value>`` with its
``<Tolerance>`` in ADU, KStars' sequence job writer) are taken by level: from a light source
(Ekos's Manual, FlatCap, Wall), a batch with ``adu`` and ``tolerance`` (its share of the
value) taken with the plan's panel, the exposure given its first guess; from the sky
(``<SkyFlat>true``, or an older file's ``<FlatSource>`` other than Manual, FlatCap,
DarkCap or Wall: KStars' dawn/dusk source, written ``DawnDust``), the plan's
``[calibration] flats = "dawn"`` at that level.

Pure but for reading the files (`import_ekos`); the XML is parsed with the standard library.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from pathlib import Path

from indipyagents import defaults
from indipyagents.plan.calibration import CalibrationFrames
from indipyagents.plan.constraints import LOWEST_PRIORITY
from indipyagents.plan.constraints import Constraints
from indipyagents.plan.constraints import Schedule
from indipyagents.plan.model import FRAME_TYPES
from indipyagents.plan.model import Batch
from indipyagents.plan.model import Devices
from indipyagents.plan.model import End
from indipyagents.plan.model import Flip
from indipyagents.plan.model import FrameType
from indipyagents.plan.model import Plan
from indipyagents.plan.model import Target
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml

PLACEHOLDER_MOUNT = defaults.MOUNT
PLACEHOLDER_WHEEL = defaults.WHEEL
#: The panel a plan's flats by ADU name until the user names theirs (indilib's simulator).
PLACEHOLDER_PANEL = "Light Panel Simulator"
#: The largest flat level a plan asks (a 16-bit camera's full scale).
MAX_ADU = 65535.0
MAX_FILE = 4 * 1024 * 1024


class EkosError(ValueError):
    """An Ekos file that cannot be read as one (not XML, not a sequence or a list, a job
    whose sequence is missing)."""


@dataclass
class Sequence:
    """An .esq read: its batches, devices and flip, and what was left out."""

    batches: list[Batch] = field(default_factory=list)
    #: Flats by ADU from the twilight sky: the plan's [calibration] flats (`_calibration`).
    sky_flats: list[Batch] = field(default_factory=list)
    camera: str = ""
    wheel: str = ""
    flip: Flip = field(default_factory=Flip)
    notes: list[str] = field(default_factory=list)


def _text(element: ET.Element | None, path: str, default: str = "") -> str:
    found = None if element is None else element.find(path)
    return default if found is None or found.text is None else found.text.strip()


def _number(element: ET.Element, path: str, default: float, where: str) -> float:
    text = _text(element, path)
    return default if not text else _float(text, f"{where}: <{path}>")


def read_sequence(root: ET.Element, where: str) -> Sequence:
    """A ``<SequenceQueue>`` element as batches, in its jobs' order."""
    if root.tag != "SequenceQueue":
        raise EkosError(f"{where}: not an Ekos capture sequence (<{root.tag}>)")
    found = Sequence(camera=_text(root, "CCD") or _text(root, "Camera"),
                     wheel=_text(root, "FilterWheel"))
    if found.wheel in ("--", found.camera):
        # The camera's own wheel (indilib's simulator has one), or none: the filter is set
        # on the camera device, which our plan cannot name apart.
        found.wheel = found.wheel if found.wheel != "--" else ""
    flip = root.find("MeridianFlip")
    if flip is not None:
        enabled = flip.get("enabled", "false").lower() == "true"
        hours = _number(root, "MeridianFlip", 0.0, where)
        found.flip = Flip(enabled=enabled, hour_angle_limit=min(90.0, max(0.0, hours * 15.0)))
    for tag, what in (("GuideDeviation", "guide deviation limit"),
                      ("Autofocus", "autofocus on HFR"), ("RefocusEveryN", "refocus every N"),
                      ("RefocusOnTemperatureDelta", "refocus on temperature")):
        element = root.find(tag)
        if element is not None and element.get("enabled", "false").lower() == "true":
            found.notes.append(f"{where}: {what} ({_text(root, tag)}): set [autofocus] "
                               "with your focuser named in [devices]"
                               if tag != "GuideDeviation" else f"{where}: {what} "
                               f"({_text(root, tag)}): guiding is not in our plans")
    for index, job in enumerate(root.findall("Job"), 1):
        batch = _batch(job, f"{where} job {index}", found.notes)
        if batch.adu is not None and _sky_flat(job):
            found.sky_flats.append(batch)
        else:
            found.batches.append(batch)
    if not found.batches:
        raise EkosError(f"{where}: the sequence has no <Job>" if not found.sky_flats else
                        f"{where}: sky flats only: our sky flats are those of a night's "
                        "light frames ([calibration] flats = \"dawn\")")
    return found


def _batch(job: ET.Element, where: str, notes: list[str]) -> Batch:
    kind = _text(job, "Type", "Light").capitalize()
    if kind not in FRAME_TYPES:
        raise EkosError(f"{where}: frame type {kind!r} is not one of {', '.join(FRAME_TYPES)}")
    frame_type: FrameType = kind
    binning_x = int(_number(job, "Binning/X", 1, where))
    binning_y = int(_number(job, "Binning/Y", binning_x, where))
    if binning_y != binning_x:
        notes.append(f"{where}: binning {binning_x}x{binning_y} taken as {binning_x}")
    temperature = job.find("Temperature")
    if temperature is not None and temperature.get("force", "false").lower() == "true":
        notes.append(f"{where}: cooler set point {_text(job, 'Temperature')} C")
    if _number(job, "Delay", 0, where) > 0:
        notes.append(f"{where}: a delay of {_text(job, 'Delay')} s between frames")
    if job.find("Frame/W") is not None and _number(job, "Frame/X", 0, where) + _number(
            job, "Frame/Y", 0, where) > 0:
        notes.append(f"{where}: a sub-frame (the whole sensor is read)")
    adu, tolerance = _flat_level(job, kind, where, notes)
    gain = _text(job, "Gain") or _property(job, (("CCD_GAIN", "GAIN"), ("CCD_CONTROLS", "Gain")))
    offset = _text(job, "Offset") or _property(job, (("CCD_OFFSET", "OFFSET"),
                                                     ("CCD_CONTROLS", "Offset")))
    dither = _text(job, "GuideDitherPerJob")
    if _is_number(dither) and float(dither) > 0:
        notes.append(f"{where}: dither every {dither} frames (by the guider in Ekos): set "
                     "[dither] every with a mount named")
    filter_name = _text(job, "Filter") or None
    return Batch(count=max(1, int(_number(job, "Count", 1, where))),
                 exposure=max(0.0, _number(job, "Exposure", 1.0, where)),
                 filter=None if filter_name in (None, "--") else filter_name,
                 binning=max(1, min(16, binning_x)), frame_type=frame_type,
                 gain=float(gain) if _is_number(gain) else None,
                 offset=float(offset) if _is_number(offset) else None,
                 adu=adu, tolerance=tolerance)


def _flat_level(job: ET.Element, kind: str, where: str,
                notes: list[str]) -> tuple[float | None, float]:
    """A flat job's ADU target (``<FlatDuration><Type>ADU</Type><Value>``) and its
    tolerance, a share of it (Ekos writes ADU: ``<Tolerance>``), kept within our 0-0.5;
    None where the job asks a fixed exposure (Manual)."""
    duration = job.find("Calibration/FlatDuration")
    if kind != "Flat" or duration is None or _text(duration, "Type") != "ADU":
        return None, 0.1
    value = _number(duration, "Value", 0.0, where)
    if not 0 < value <= MAX_ADU:
        notes.append(f"{where}: flats by ADU at {_text(duration, 'Value')!r} (taken at the "
                     "exposure given)")
        return None, 0.1
    given = _number(duration, "Tolerance", 0.1 * value, where) / value
    tolerance = min(0.5, max(0.001, given))
    if tolerance != given:
        notes.append(f"{where}: a tolerance of {_text(duration, 'Tolerance')} ADU taken as "
                     f"{tolerance:g} of {value:g}")
    return value, round(tolerance, 6)


#: An older file's ``<FlatSource><Type>`` values that are not the sky (KStars' reader:
#: any other is its dawn/dusk source, which its writer spelt ``DawnDust``).
LIGHT_SOURCES = ("Manual", "FlatCap", "DarkCap", "Wall")


def _sky_flat(job: ET.Element) -> bool:
    """Whether a flat job takes the twilight sky: KStars 3.6+'s ``<SkyFlat>true``, or an
    older file's ``<FlatSource><Type>`` other than a light source, as KStars reads it."""
    source = _text(job, "Calibration/FlatSource/Type")
    return _text(job, "Calibration/FlatDuration/SkyFlat").lower() == "true" or \
        (source != "" and source not in LIGHT_SOURCES)


def _property(job: ET.Element, names: tuple[tuple[str, str], ...]) -> str:
    """A value Ekos 3.6+ keeps among a job's INDI properties (``<Properties><PropertyVector
    name='CCD_GAIN'><OneElement name='GAIN'>``), the first of `names` found."""
    for vector, member in names:
        for element in job.findall("Properties/PropertyVector"):
            if element.get("name") == vector:
                for one in element.findall("OneElement"):
                    if one.get("name") == member and one.text:
                        return one.text.strip()
    return ""


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


# KStars 3.8 writes a path's "&" as it is (schedulerprocess.cpp), which XML refuses.
_BARE_AMPERSAND = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")


def _parse(path: Path) -> ET.Element:
    try:
        if path.stat().st_size > MAX_FILE:
            raise EkosError(f"{path}: larger than {MAX_FILE} bytes: not an Ekos file")
        data = path.read_bytes()
    except OSError as exc:
        raise EkosError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return ET.fromstring(data)
    except ET.ParseError:
        pass
    try:
        return ET.fromstring(_BARE_AMPERSAND.sub(b"&amp;", data))
    except ET.ParseError as exc:
        raise EkosError(f"{path}: not XML ({exc})") from None


def import_ekos(path: Path) -> tuple[str, list[str]]:
    """The plan (TOML text, its notes as comments at the top) and the notes."""
    root = _parse(path)
    if root.tag == "SequenceQueue":
        plan, notes = _from_sequence(read_sequence(root, path.name), path)
    elif root.tag == "SchedulerList":
        plan, notes = _from_list(root, path)
    else:
        raise EkosError(f"{path.name}: neither a capture sequence nor a scheduler list "
                        f"(<{root.tag}>)")
    text = plan_to_toml(plan)
    try:
        parse_plan(text, path.name)
    except PlanError as exc:  # a value Ekos allows and our plans do not
        raise EkosError(f"{path.name}: {exc.reason}") from None
    header = [f"# Imported from Ekos's {path.name} by indipy-schedule --import-esq."]
    header += [f"# Not carried over: {note}" for note in notes]
    return "\n".join(header) + "\n\n" + text, notes


def _devices(sequence: Sequence, batches: Iterable[Batch], where: str, notes: list[str],
             mount: str = "") -> Devices:
    """The camera and wheel the sequence names; Ekos 3.7+ names them in its optical train,
    not in the file: then the simulators' names, and said."""
    camera, wheel = sequence.camera, sequence.wheel
    if not camera:
        camera = Devices().camera
        notes.append(f"{where}: the camera is named {camera!r} (Ekos names it in its optical "
                     "train): name yours in [devices]")
    if not wheel and any(batch.filter is not None for batch in batches):
        wheel = PLACEHOLDER_WHEEL
        notes.append(f"{where}: the wheel is named {wheel!r} (Ekos names it in its optical "
                     "train): name yours in [devices]")
    panel = ""
    if any(batch.adu is not None for batch in batches):
        panel = PLACEHOLDER_PANEL
        notes.append(f"{where}: flats by ADU are taken with the panel named {panel!r} (Ekos "
                     "names its light source in its optical train): name yours in [devices]")
    return Devices(camera=camera, wheel=wheel, mount=mount, panel=panel)


def _calibration(sequences: Iterable[Sequence], where: str, notes: list[str]) -> CalibrationFrames:
    """The sky flats by ADU of the sequences as the plan's ``[calibration]`` flats at dawn:
    the first one's level, tolerance and count, for every filter the lights use."""
    flats = [batch for sequence in sequences for batch in sequence.sky_flats]
    if not flats:
        return CalibrationFrames()
    first = flats[0]
    assert first.adu is not None
    notes.append(f"{where}: sky flats by ADU: [calibration] flats = \"dawn\" at "
                 f"{first.adu:g} ADU, {first.count} for every filter and binning the light "
                 "frames use")
    return CalibrationFrames(flats="dawn", adu=first.adu, tolerance=first.tolerance,
                       count=min(1000, first.count))


def _from_sequence(sequence: Sequence, path: Path) -> tuple[Plan, list[str]]:
    target = Target(path.stem or "sequence", batches=tuple(sequence.batches), slew=False)
    notes = list(sequence.notes)
    calibration = _calibration((sequence,), path.name, notes)
    mount = ""
    if calibration.flats == "dawn":  # the sky's flats are taken pointed opposite the Sun
        mount = PLACEHOLDER_MOUNT
        notes.append(f"{path.name}: the sky flats' mount is named {mount!r} (Ekos names it "
                     "in its profile): name yours in [devices]")
    devices = _devices(sequence, target.batches, path.name, notes, mount)
    return Plan(name=path.stem or "sequence", targets=(target,), devices=devices,
                flip=sequence.flip, calibration=calibration), notes


def _from_list(root: ET.Element, path: Path) -> tuple[Plan, list[str]]:
    notes: list[str] = [
        f"{path.name}: the site (Ekos takes it from KStars): add [site] or let the mount say",
        f"{path.name}: the mount is named {PLACEHOLDER_MOUNT!r} (Ekos names it in its "
        "profile): name yours in [devices]"]
    targets: list[Target] = []
    sequences: dict[Path, Sequence] = {}
    twilight_everywhere = True
    names: dict[str, int] = {}
    for index, job in enumerate(root.findall("Job"), 1):
        where = f"{path.name} job {index}"
        sequence_path = _sequence_path(_text(job, "Sequence"), path, where)
        if sequence_path not in sequences:
            sequences[sequence_path] = read_sequence(_parse(sequence_path), sequence_path.name)
            notes.extend(sequences[sequence_path].notes)
        kind = job.find("JobType")
        if kind is not None and kind.get("lead", "true").lower() == "false":
            # Ekos 3.7+: a follower job images its lead's target with its own sequence.
            if not targets:
                raise EkosError(f"{where}: a follower job with no lead job before it")
            lead = targets[-1]
            targets[-1] = replace(lead, batches=lead.batches + tuple(
                sequences[sequence_path].batches))
            continue
        constraints, enforced, repeat = _job_constraints(job, where, notes)
        twilight_everywhere = twilight_everywhere and enforced
        name = _text(job, "Name") or f"job {index}"
        names[name] = names.get(name, 0) + 1
        if names[name] > 1:
            name = f"{name} ({names[name]})"
        batches = tuple(replace(batch, count=batch.count * repeat)
                        for batch in sequences[sequence_path].batches)
        targets.append(Target(name, _number(job, "Coordinates/J2000RA", 0.0, where) % 24.0,
                              max(-90.0, min(90.0, _number(job, "Coordinates/J2000DE", 0.0,
                                                           where))),
                              batches=batches, constraints=constraints))
    if not targets:
        raise EkosError(f"{path.name}: the list has no <Job>")
    if not twilight_everywhere:
        notes.append(f"{path.name}: jobs without EnforceTwilight (imaging in daylight): "
                     "scheduled from civil twilight")
    first = next(iter(sequences.values()))
    procedures = {p.text.strip() for p in root.iter("Procedure") if p.text}
    for procedure in sorted(procedures - {"ParkMount", "UnparkMount", "WarmCCD"}):
        notes.append(f"{path.name}: the {procedure} procedure")
    return Plan(name=path.stem or "scheduler list", targets=tuple(targets),
                devices=_devices(first, (b for t in targets for b in t.batches), path.name,
                                 notes, PLACEHOLDER_MOUNT),
                flip=first.flip, end=End(park="ParkMount" in procedures,
                                         warm="WarmCCD" in procedures),
                calibration=_calibration(sequences.values(), path.name, notes),
                schedule=Schedule(twilight="astronomical" if twilight_everywhere
                                  else "civil")), notes


def _sequence_path(text: str, esl: Path, where: str) -> Path:
    """The job's .esq: as written, else the file of that name beside the .esl (a list
    moved from another machine)."""
    if not text:
        raise EkosError(f"{where}: no <Sequence> file")
    written = Path(text.removeprefix("file://"))
    for candidate in (written, esl.parent / written.name):
        if candidate.is_file():
            return candidate
    raise EkosError(f"{where}: its sequence {text} is not there, nor beside {esl.name}")


def _job_constraints(job: ET.Element, where: str,
                     notes: list[str]) -> tuple[Constraints, bool, int]:
    """The job's constraints, whether it enforces twilight, and its repeat count."""
    values: dict[str, object] = {}
    enforced = False
    for constraint in job.findall("Constraints/Constraint"):
        name = (constraint.text or "").strip()
        value = constraint.get("value")
        if name == "MinimumAltitude" and value is not None:
            values["min_altitude"] = max(0.0, min(90.0, _float(value, where)))
        elif name == "MoonSeparation" and value is not None:
            values["moon_separation"] = max(0.0, min(180.0, _float(value, where)))
        elif name == "EnforceTwilight":
            enforced = True
        elif name == "EnforceWeather":
            notes.append(f"{where}: EnforceWeather (our watchdog holds the night instead)")
        elif name == "EnforceArtificialHorizon":
            notes.append(f"{where}: the artificial horizon (kept in KStars): set "
                         "[schedule] horizon")
        else:
            notes.append(f"{where}: the constraint {name} {value or ''}".rstrip())
    startup = job.find("StartupCondition/Condition")
    if startup is not None and (startup.text or "").strip() == "At":
        values["after"] = _moment(startup.get("value", ""), where, notes)
    elif startup is not None and (startup.text or "").strip() not in ("ASAP", ""):
        notes.append(f"{where}: startup {(startup.text or '').strip()} "
                     f"{startup.get('value', '')}".rstrip())
    repeat = 1
    completion = job.find("CompletionCondition/Condition")
    kind = "" if completion is None else (completion.text or "").strip()
    if kind == "At" and completion is not None:
        values["before"] = _moment(completion.get("value", ""), where, notes)
    elif kind == "Repeat" and completion is not None:
        repeat = max(1, min(1000, int(_float(completion.get("value", "1"), where))))
    elif kind not in ("Sequence", ""):
        notes.append(f"{where}: completion {kind} (the sequence is taken once)")
    steps = [(step.text or "").strip() for step in job.findall("Steps/Step")]
    if set(steps) - {"Track"}:
        notes.append(f"{where}: Ekos's steps {', '.join(s for s in steps if s != 'Track')}")
    priority = int(_number(job, "Priority", 10, where))
    return (Constraints(priority=max(1, min(LOWEST_PRIORITY, priority)),
                        **values),  # type: ignore[arg-type]
            enforced, repeat)


def _moment(text: str, where: str, notes: list[str]) -> datetime:
    """Ekos writes times without a zone ("2026-05-08T00:10:00"): taken as UTC, and said."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise EkosError(f"{where}: not a date and time: {text!r}") from None
    if moment.tzinfo is None:
        notes.append(f"{where}: {text} has no time zone: taken as UTC")
        moment = moment.replace(tzinfo=UTC)
    return moment


def _float(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise EkosError(f"{where}: not a number: {text!r}") from None
    if not math.isfinite(value):
        raise EkosError(f"{where}: not a number: {text!r}")
    return value
