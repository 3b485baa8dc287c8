"""Issue 89 item 3: the guide's "When it cannot guide" lists every reason the guider can give
(`indipyagents.guider.reasons.Reason`), each with what to do: a reason added to the table and
not to the guide fails here."""

from __future__ import annotations

import re
from pathlib import Path

from indipyagents.guider.reasons import Reason

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "guides" / "unattended_night.rst"


def section() -> str:
    """"When it cannot guide", its markup and line breaks gone."""
    text = GUIDE.read_text()
    start = text.index("**When it cannot guide.**")
    end = text.index("\n**", start + 1)
    return re.sub(r"\s+", " ", text[start:end].replace("``", ""))


def test_every_reason_and_what_to_do_is_in_the_guide() -> None:
    docs = section()
    missing = [r.name for r in Reason if r.text not in docs or r.todo not in docs]
    assert missing == [], f"not in {GUIDE.name}'s 'When it cannot guide': {missing}"
