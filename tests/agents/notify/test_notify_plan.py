"""Issue 93 item 4: a plan's ``[notify]`` section read and checked as the plan's other
sections are: a URL Apprise cannot parse is refused at load at its line, an event that is not
one refused at its place, and the section written back equal."""

from __future__ import annotations

import pytest

from indipyagents.plan.notifying import EVENTS
from indipyagents.plan.notifying import NotifySettings
from indipyagents.plan.toml import PlanError
from indipyagents.plan.toml import parse_plan
from indipyagents.plan.toml import plan_to_toml

TARGET = """
[[targets]]
name = "M42"
slew = false
[[targets.batches]]
count = 2
exposure = 1
"""


def plan_text(notify: str) -> str:
    return 'name = "told"\n\n[notify]\n' + notify + TARGET


def test_a_plan_without_notify_tells_nobody() -> None:
    plan = parse_plan('name = "quiet"\n' + TARGET)
    assert plan.notify == NotifySettings()
    assert not plan.notify.tells("night_end")
    assert "[notify]" not in plan_to_toml(plan)


def test_the_section_is_read_and_written_back_equal() -> None:
    plan = parse_plan(plan_text(
        'urls = ["json://127.0.0.1:8000/night", "ntfy://my-topic",\n'
        '        "mailto://127.0.0.1:2525?mode=insecure&from=a@example.com&to=b@example.com"]\n'
        'events = ["hold", "hold_end", "night_end"]\n'
        'rejected_in_a_row = 4\nweb = "http://observatory.local:8000/"\n'))
    notify = plan.notify
    assert notify.urls[0] == "json://127.0.0.1:8000/night" and len(notify.urls) == 3
    assert notify.events == ("hold", "hold_end", "night_end")
    assert notify.rejected_in_a_row == 4
    assert notify.web == "http://observatory.local:8000"
    assert notify.tells("hold") and not notify.tells("device_lost")
    assert parse_plan(plan_to_toml(plan)) == plan


def test_every_event_by_default() -> None:
    plan = parse_plan(plan_text('urls = ["json://127.0.0.1:8000/night"]\n'))
    assert plan.notify.events == EVENTS
    assert all(plan.notify.tells(kind) for kind in EVENTS)


def test_a_url_apprise_cannot_parse_is_refused_at_its_line() -> None:
    with pytest.raises(PlanError) as refused:
        parse_plan(plan_text('urls = [\n  "json://127.0.0.1:8000/night",\n'
                             '  "nothing-apprise-knows://x",\n]\n'))
    assert refused.value.line == 6
    assert "notify.urls[1]" in refused.value.reason
    assert "Apprise cannot use the URL 'nothing-apprise-knows://x'" in refused.value.reason


@pytest.mark.parametrize(("notify", "line", "said"), [
    ('events = ["hold", "rain"]\n', 4, 'notify.events[1] must be one of hold, hold_end'),
    ('urls = "json://127.0.0.1/x"\n', 4, "notify.urls must be a list of texts"),
    ('rejected_in_a_row = 0\n', 4, "notify.rejected_in_a_row"),
    ('web = "observatory.local"\n', 4, "notify.web must be the web client's address"),
    ('url = ["json://127.0.0.1/x"]\n', 4, "notify.url is not a key here: did you mean urls?"),
])
def test_a_wrong_value_is_refused_at_its_line(notify: str, line: int, said: str) -> None:
    with pytest.raises(PlanError) as refused:
        parse_plan(plan_text(notify))
    assert refused.value.line == line
    assert said in refused.value.reason
