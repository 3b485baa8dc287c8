"""An Alpaca SafetyMonitor as an INDI weather station with one critical parameter.

indilib 1.9.9 (and every Ekos, whose observatory and scheduler read WEATHER_STATUS) knows
safety only as a WEATHER device's status, and indilib's own Alpaca safety driver
(``weather_safety_alpaca``) makes ``issafe`` a critical weather parameter: so here, with the
standard `Weather` role, WEATHER_PARAMETERS.WEATHER_SAFETY is 0 when IsSafe is True and 2 when
it is False (indilib's values) in an OK range of 0..1, and the WEATHER_STATUS light and
vector state are Ok (safe) or Alert (unsafe). Current indilib's separate SAFETY_STATUS light
is not used: older clients do not know it, and our own Alpaca face serves a SafetyMonitor
from WEATHER_STATUS as well. IsSafe is read every WEATHER_UPDATE period (1 s at first;
indilib's Weather has no POLLING_PERIOD) and on WEATHER_REFRESH; a monitor that cannot be
read (an Alpaca error, an HTTP error, garbage, no answer within the client's 5 s) counts as
unsafe, said once, with the device: WEATHER_STATUS Alert within a period plus one call's
timeout of the monitor's last answer (the watchdog's fail-closed weather source).
"""

from __future__ import annotations

from collections.abc import Mapping

from indipydriver.standard import RepeatedRead
from indipydriver.standard import Weather
from indipydriver.standard import WeatherParameter

from .client import AlpacaClient
from .part import AlpacaPart

__all__ = ["SAFE", "UNSAFE", "AlpacaSafetyMonitor"]

#: WEATHER_SAFETY's values (indilib's weather_safety_alpaca): inside 0..1 is safe.
SAFE, UNSAFE = 0.0, 2.0

#: The one parameter: critical, no warning band (0 sits on the edge of its range).
SAFETY = WeatherParameter("WEATHER_SAFETY", "Weather Safety", 0, 1, perc_warn=0)


class AlpacaSafetyMonitor(AlpacaPart):
    """`WeatherHardware` for one Alpaca safety monitor, and its INDI device."""

    def __init__(self, client: AlpacaClient, number: int, name: str) -> None:
        super().__init__(client, "safetymonitor", number, name)
        self.role = Weather(self, [SAFETY], period=1.0, fail_closed=True)
        self.device = self.make_device(self.role)
        self._issafe: RepeatedRead | None = None

    @classmethod
    async def describe(cls, client: AlpacaClient, number: int, name: str
                       ) -> AlpacaSafetyMonitor:
        return cls(client, number, name)

    async def read(self) -> Mapping[str, float]:
        if self._issafe is None:
            self._issafe = RepeatedRead(self.logger, f"Reading {self.path} IsSafe (unsafe "
                                        "until it answers)")
        try:
            safe = await self.get("issafe") is True
        except Exception as exc:  # noqa: BLE001  # unknown is unsafe
            self._issafe.failed(exc)
            return {SAFETY.name: UNSAFE}
        self._issafe.worked()
        return {SAFETY.name: SAFE if safe else UNSAFE}
