"""Fixtures of the bridge tests: real redis-server and mosquitto (see brokers.py)."""

from brokers import mosquitto_factory, redis_factory, redis_port

__all__ = ["mosquitto_factory", "redis_factory", "redis_port"]
