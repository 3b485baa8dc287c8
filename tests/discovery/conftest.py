"""The discovery tests' fixtures: avahi-daemon on the loopback interface (tests/discoverykit.py)."""

from __future__ import annotations

from discoverykit import avahi  # noqa: F401  (re-exported as a fixture)
