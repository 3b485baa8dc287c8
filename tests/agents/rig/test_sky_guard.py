"""Issue 89 item 9(a), the guard's own word (`rig.skyguard.sky_refusal`, which the camera asks
before every exposure it starts, whatever face asked for it): a light or a flat is refused
while any guarded dome is closed, naming the first closed one; a dark or a bias never is (they
need no sky, as an observer takes them under a shut roof)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from indipyagents.rig.skyguard import SKY_FRAMES
from indipyagents.rig.skyguard import sky_refusal


@dataclass
class Shown:
    """A dome that only says whether it is closed."""

    name: str
    why: str | None

    async def close(self) -> None: ...

    async def open(self) -> None: ...

    def closed(self) -> str | None:
        return self.why


domes = st.lists(st.builds(Shown, st.sampled_from(["Dome A", "Dome B", "Roof"]),
                           st.one_of(st.none(), st.sampled_from(["parked", "its shutter closed"]))),
                 max_size=4)


@given(st.sampled_from(["Light", "Flat", "Dark", "Bias"]), domes)
def test_only_a_sky_frame_through_a_closed_dome_is_refused(frame_type: str,
                                                           seen: list[Shown]) -> None:
    """Refused exactly when the frame needs the sky and a dome is closed; the refusal names
    the first closed dome and why it is closed."""
    refused = sky_refusal(frame_type, seen)
    closed = [dome for dome in seen if dome.why is not None]
    assert (refused is not None) == (frame_type in SKY_FRAMES and bool(closed))
    if refused is not None:
        assert refused.device == closed[0].name
        assert f"the dome is closed ({closed[0].why})" in str(refused)


def test_darks_and_bias_need_no_sky() -> None:
    """The observer's decision, said in one place: lights and flats only."""
    assert SKY_FRAMES == {"Light", "Flat"}
    assert sky_refusal("Dark", [Shown("Roof", "parked")]) is None
