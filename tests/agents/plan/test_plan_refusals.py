"""Every plan key's refusals in one table (issue 71 item 3, "a bad plan is refused with its
line and the reason"): a key of one of the kit's plan texts given a wrong value, or misspelt,
is refused at its own line with the words that say what it must be. The texts themselves are
read whole by test_plan_toml (the plan taken in order), test_plan_constraints (the schedule)
and test_plan_centring (the centring)."""

from __future__ import annotations

import pytest
from agentkit import NIGHT_TOML
from agentkit import SCHEDULED_TOML
from agentkit import refused_at_line

MOUNT = 'mount = "Telescope Simulator"\n'

#: A refusal: the plan text, its key as it stands, the key made wrong, the words of the
#: reason, and the fragment of the line it is said at (None: the wrong key's last line).
Refusal = tuple[str, str, str, str, str | None]


def night(old: str, new: str, words: str, at: str | None = None) -> Refusal:
    """A refusal of the plan taken in order: its first `old` made `new`, refused with `words`
    at the line holding `at` (by default `new`'s last line)."""
    return NIGHT_TOML, old, new, words, at


def scheduled(old: str, new: str, words: str, at: str | None = None) -> Refusal:
    """The same of the scheduled plan (with M42's centring)."""
    return SCHEDULED_TOML, old, new, words, at


REFUSALS = [
    # a batch
    night("count = 10", "count = 0", "targets[0].batches[0].count must be a whole number >= 1, "
          "not 0"),
    night("count = 10", 'count = "10"', 'targets[0].batches[0].count must be a whole number '
          '>= 1, not "10"'),
    night("count = 10", "count = 2.5", "must be a whole number >= 1, not 2.5"),
    night("count = 10", "count = true", "must be a whole number >= 1, not true"),
    night("exposure = 60", "exposure = nan", "must be a number > 0, not nan"),
    night("count = 10", "count = 10\nbinning = 17", "binning must be a whole number from 1 to 16"),
    night('type = "flat"', 'type = "science"', 'targets[1].batches[0].type must be one of '
          '"Light", "Dark", "Flat", "Bias", not "science"'),
    night("filter = 1", "filter = 0", "filter must be a filter's name or a slot number from 1 "
          "to 100"),
    night("count = 10", "count = 100001", "count must be at most 100000, not 100001"),
    # the dither, the autofocus, the devices
    night("settle = 2", "settle = 1e9", "dither.settle must be at most 3600, not 1000000000.0"),
    night('method = "pulse"', 'method = "wiggle"', 'dither.method must be one of "pulse", '
          '"offset"'),
    night("every = 3", "every = -1", "dither.every must be a whole number >= 0, not -1"),
    night("every_minutes = 60", "every_minutes = -1", "autofocus.every_minutes must be a "
          "number >= 0"),
    night('camera = "CCD Simulator"', 'camera = ""', "devices.camera must be a name (a string)"),
    night(MOUNT, MOUNT + "dome = 3\n", "dome must be"),
    # a target's place and wait
    night("altitude = 30", "altitude = 95", "targets[0].wait.altitude must be a number from -90 "
          "to 90"),
    night('ra = "05 35 17.3"', "ra = 24", "targets[0].ra must be hours from 0 to 24"),
    night('ra = "05 35 17.3"', 'ra = "5h61m"', 'targets[0].ra must be hours from 0 to 24, as a '
          'number or "05 35 17.3"'),
    night('dec = "-05 23 28"', 'dec = "-95d"', "targets[0].dec must be degrees from -90 to 90"),
    night('dec = "-05 23 28"', "dec = [1]", "targets[0].dec must be degrees from -90 to 90"),
    # [safety] (issue 72 item 4) and [end] (issue 79 item 1), tables the text does not have
    night("[[targets]]", "[safety]\nsky_free_while_unsafe = 1\n\n[[targets]]",
          "sky_free_while_unsafe must be true or false", at="sky_free_while_unsafe = 1"),
    night("[[targets]]", "[safety]\nnight_end = 2026-11-28T06:30:00\n\n[[targets]]",
          "give the time zone", at="night_end = 2026-11-28T06:30:00"),
    night("[[targets]]", '[safety]\nnight_end = "dawn"\n\n[[targets]]',
          "night_end must be a date and time with its zone", at='night_end = "dawn"'),
    night("[[targets]]", "[safety]\nsky_free_when_unsafe = true\n\n[[targets]]",
          "did you mean sky_free_while_unsafe?", at="sky_free_when_unsafe = true"),
    night("[dither]", "[end]\nclose_dome = 1\n\n[dither]", "close_dome must be true or false",
          at="close_dome = 1"),
    night("[dither]", "[end]\nclose_the_dome = true\n\n[dither]", "did you mean close_dome?",
          at="close_the_dome"),
    # a target's centring (issue 80 item 4)
    scheduled("centre = true", 'centre = "yes"', "true or false"),
    scheduled("centre_tolerance = 20", "centre_tolerance = 0", "centre_tolerance"),
    scheduled("centre_tolerance = 20", "centre_tolerance = 4000", "centre_tolerance"),
    scheduled("centre_drift = 90", "centre_drift = -1", "centre_drift"),
    scheduled("centre_tries = 3", "centre_tries = 0", "centre_tries"),
    scheduled("centre_tries = 3", "centre_tries = 1.5", "whole number"),
    scheduled("centre_tries = 3", "centre_tries = 21", "centre_tries"),
    scheduled("centre_exposure = 2.5", "centre_exposure = 61", "centre_exposure"),
    scheduled('centre_policy = "skip"', 'centre_policy = "maybe"',
              '"retry", "skip", "uncentred"'),
    scheduled("solve_frames = true", "solve_frames = 1", "true or false"),
    scheduled("centre_tolerance = 20", "centre_tolerence = 20", "did you mean centre_tolerance"),
    # centre = false: said at the first centring key the target cannot use
    scheduled("centre = true", "centre = false", "add centre = true", at="centre_tolerance"),
    # a target's constraints (issue 82 item 1)
    scheduled("min_altitude = 30", "min_altitude = 95", "from 0 to 90"),
    scheduled("moon_separation = 40", "moon_separation = -1", "from 0 to 180"),
    scheduled('twilight = "astronomical"', 'twilight = "dark"',
              '"civil", "nautical", "astronomical"'),
    scheduled("priority = 1", "priority = 0", "from 1 to 20"),
    scheduled("priority = 1", "priority = 1.5", "whole number"),
    scheduled("min_minutes = 45", "min_minutes = 2000", "from 0 to 1440"),
    scheduled("min_minutes = 45", "min_minutse = 45", "did you mean min_minutes"),
    scheduled("after = 2026-11-27T22:00:00+01:00", "after = 2026-11-27T22:00:00",
              "with its zone"),
    scheduled("before = 2026-11-28T04:00:00Z", "before = 2026-11-27T20:00:00Z",
              "must come after"),
    # the [schedule]
    scheduled('twilight = "nautical"', 'twilight = 3', '"civil"'),
    scheduled("min_altitude = 25", "min_altitude = 90.5", "from 0 to 90"),
    scheduled("horizon = [[0, 20]", "horizon = [[400, 20]", "azimuth from 0 to 360"),
    scheduled("horizon = [[0, 20]", "horizon = [[0, 95]", "altitude from 0 to 90"),
    scheduled("horizon = [[0, 20]", "horizon = [[90, 20]", "repeats azimuth 90"),
    scheduled("horizon = [[0, 20]", "horizon = [[0, 20, 1]", "pair"),
    scheduled("min_altitude = 25", "min_altitud = 25", "did you mean min_altitude"),
    scheduled("min_altitude = 25", "slew_rate = 0", "> 0"),
    scheduled("min_altitude = 25", "slew_rate = 100", "at most 90"),
    scheduled("min_altitude = 25", "settle = -5", "from 0 to 600"),
    scheduled("min_altitude = 25", 'settle = "long"', "from 0 to 600"),
    scheduled("min_altitude = 25", "nights = 0", "from 1 to 366"),
    scheduled("min_altitude = 25", "nights = 2.5", "whole number"),
]


@pytest.mark.parametrize(("plan", "old", "new", "words", "at"), REFUSALS,
                         ids=[at or new.splitlines()[-1] for _, _, new, _, at in REFUSALS])
def test_a_wrong_key_is_refused_at_its_line(plan: str, old: str, new: str, words: str,
                                            at: str | None) -> None:
    """A value of the wrong type or out of range, or a misspelt key, is refused at the line of
    its key, the reason naming the key path, what it must be and what it was."""
    error = refused_at_line(plan, old, new, at=at)
    assert words in error.reason, error.reason
