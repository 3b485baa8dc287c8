"""indiredis: INDI <-> redis and INDI <-> MQTT bridges (optional extras ``[redis]``, ``[mqtt]``).

The public names of indiredis 0.7 and indi-mr 0.4, each blocking function with an async twin
(``..._async``); see docs/bridges.rst for the layouts, the key schema and the topics.

Each name is imported from its module at first use (PEP 562, as in ``indipyclient``), so that
``python -m indiredis`` can start without redis or paho-mqtt installed and say which extra is
missing, and a program using only the MQTT side does not need redis-py.
"""

from __future__ import annotations

from indipycore.lazynames import lazy_package

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import tools as tools
    from .hosts import indi_server as indi_server
    from .hosts import mqtt_server as mqtt_server
    from .hosts import redis_server as redis_server
    from .mqttclient import mqtttoport as mqtttoport
    from .mqttclient import mqtttoport_async as mqtttoport_async
    from .mqttclient import mqtttoredis as mqtttoredis
    from .mqttclient import mqtttoredis_async as mqtttoredis_async
    from .mqttlink import MqttRefused as MqttRefused
    from .mqttsite import driverstomqtt as driverstomqtt
    from .mqttsite import driverstomqtt_async as driverstomqtt_async
    from .mqttsite import inditomqtt as inditomqtt
    from .mqttsite import inditomqtt_async as inditomqtt_async
    from .toredis import driverstoredis as driverstoredis
    from .toredis import driverstoredis_async as driverstoredis_async
    from .toredis import inditoredis as inditoredis
    from .toredis import inditoredis_async as inditoredis_async

_LAZY = {
    "MqttRefused": "mqttlink",
    "driverstomqtt": "mqttsite",
    "driverstomqtt_async": "mqttsite",
    "driverstoredis": "toredis",
    "driverstoredis_async": "toredis",
    "indi_server": "hosts",
    "inditomqtt": "mqttsite",
    "inditomqtt_async": "mqttsite",
    "inditoredis": "toredis",
    "inditoredis_async": "toredis",
    "mqtt_server": "hosts",
    "mqtttoport": "mqttclient",
    "mqtttoport_async": "mqttclient",
    "mqtttoredis": "mqttclient",
    "mqtttoredis_async": "mqttclient",
    "redis_server": "hosts",
}

# __all__ is the table's names and the module `tools` (the imports under TYPE_CHECKING
# re-export them for mypy).
__all__, _getattr, __dir__ = lazy_package(__name__, _LAZY, "tools")


def __getattr__(name: str) -> object:
    if name == "tools":  # a module, indiredis 0.7's `from indiredis import tools`
        from importlib import import_module

        return import_module(f"{__name__}.tools")
    return _getattr(name)
