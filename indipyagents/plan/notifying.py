"""A plan's ``[notify]`` section: whom the night tells, of what (`read_notify`), written back by
`notify_pairs`. Pure but for the URLs' check, which asks Apprise (imported only when a URL is
given) whether it can parse each one: a URL it cannot is refused at its line, as any other
wrong value of a plan is (`apprise_module`: the one place the agents import Apprise).

``urls`` are Apprise's URLs (``ntfy://``, ``pover://``, ``tgram://``, ``mailto://``,
``json://``, ``mqtt://``...); ``events`` the kinds told (`EVENTS`, all by default);
``rejected_in_a_row`` how many rejected frames in a row make a ``rejected_in_a_row`` event;
``web`` the web client's address (``http://host:port``): the night's end then links to its
``/night/<plan folder>`` page. The messages themselves are `indipyagents.notify`'s.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from types import ModuleType

from . import fields
from .fields import Invalid
from .fields import Table
from .locate import KeyPath
from .locate import format_path

__all__ = ["EVENTS", "NOTIFY_KEYS", "NotifySettings", "notify_pairs", "read_notify"]

#: Every kind of event the night may tell of, in the order the docs name them.
EVENTS = ("hold", "hold_end", "device_lost", "device_back", "failed", "rejected_in_a_row",
          "clouds", "night_end")
NOTIFY_KEYS = ("urls", "events", "rejected_in_a_row", "web")
#: Apprise's extra, as a refusal names it.
APPRISE_EXTRA = ('the extra [agents] (apprise), not installed here: '
                 'pip install ".[agents]" in the toolkit\'s clone')
_loaded = False


@dataclass(frozen=True)
class NotifySettings:
    """The ``[notify]`` section: no `urls`, nobody is told."""

    urls: tuple[str, ...] = ()
    events: tuple[str, ...] = EVENTS
    rejected_in_a_row: int = 3
    web: str = ""

    def tells(self, kind: str) -> bool:
        """Whether an event of `kind` is told to anyone."""
        return bool(self.urls) and kind in self.events


def read_notify(data: Table | None) -> NotifySettings:
    """The section (None: not given, nobody told); each URL Apprise cannot parse refused at
    its place in the list."""
    if data is None:
        return NotifySettings()
    path: KeyPath = ("notify",)
    fields.only_known(data, path, NOTIFY_KEYS)
    base = NotifySettings()
    urls = _texts(data, path, "urls", ())
    for index, url in enumerate(urls):
        _check_url(url, path + ("urls", index))
    events = _texts(data, path, "events", base.events)
    for index, kind in enumerate(events):
        if kind not in EVENTS:
            raise fields.wrong(path + ("events", index), "one of " + ", ".join(EVENTS), kind)
    web = fields.text(data, path, "web", "")
    if web and not web.startswith(("http://", "https://")):
        raise fields.wrong(path + ("web",), 'the web client\'s address, e.g. '
                           '"http://observatory.local:8000"', web)
    return NotifySettings(
        urls=urls, events=tuple(dict.fromkeys(events)), web=web.rstrip("/"),
        rejected_in_a_row=fields.whole(data, path, "rejected_in_a_row", base.rejected_in_a_row,
                                       low=1, cap=1000, hint="frames, e.g. 3"))


def notify_pairs(notify: NotifySettings) -> dict[str, object]:
    """The section's keys as `plan_to_toml` writes them."""
    return {"urls": list(notify.urls), "events": list(notify.events),
            "rejected_in_a_row": notify.rejected_in_a_row, "web": notify.web or None}


def _texts(data: Table, path: KeyPath, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if key not in data:
        return default
    value = data[key]
    if not isinstance(value, list) or not all(isinstance(one, str) and one for one in value):
        raise fields.wrong(path + (key,), "a list of texts, e.g. [\"ntfy://my-topic\"]", value)
    return tuple(value)


def apprise_module() -> ModuleType:
    """The ``apprise`` module, its plugins loaded (they load at the first URL given), the one
    place the agents import it (ImportError without the extra [agents]). Quietly: its e-mail
    plugin imports the standard library's ``imghdr``, deprecated since Python 3.11, whose
    warning says nothing to an observer (nor to a test run where warnings are errors)."""
    global _loaded
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"'imghdr' is deprecated", DeprecationWarning)
        import apprise

        if not _loaded:
            apprise.Apprise().add("json://127.0.0.1/")
            _loaded = True
    return apprise


def _check_url(url: str, path: KeyPath) -> None:
    try:
        apprise = apprise_module()
    except ImportError:
        raise Invalid(path, f"{format_path(path)}: telling needs {APPRISE_EXTRA}") \
            from None
    if not apprise.Apprise().add(url):
        raise Invalid(path, f"{format_path(path)}: Apprise cannot use the URL "
                      f"{url!r} (see its services' URL forms: https://appriseit.com/services/)")
