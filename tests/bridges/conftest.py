"""Fixtures of the bridge tests: real redis-server and mosquitto, indilib's indiserver watched
by the session's reaper (see brokers.py and reaper.py)."""

from brokers import indiserver_factory
from brokers import mosquitto_factory
from brokers import reaper
from brokers import redis_factory
from brokers import redis_port

__all__ = ["indiserver_factory", "mosquitto_factory", "reaper", "redis_factory", "redis_port"]
