"""The notification tests' fixtures: the bridges' real mosquitto (tests/bridges/brokers.py) as
the MQTT receiver; the other receivers are tests/notifykit.py's."""

from __future__ import annotations

import sys
from pathlib import Path

BRIDGES = Path(__file__).resolve().parents[2] / "bridges"
if str(BRIDGES) not in sys.path:
    sys.path.insert(0, str(BRIDGES))

from brokers import mosquitto_factory
from brokers import reaper

__all__ = ["mosquitto_factory", "reaper"]
