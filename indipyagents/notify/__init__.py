"""The owner told of the night through Apprise (issue 93 item 4): what each of the night's
events says (`messages`, pure), the journal watched for them (`watch`), and the notifier that
sends them off the night's path (`notifier`: a bounded queue, one sending task, each send
bounded and retried by the project's retry policy, then dropped). Apprise (the extra
[agents]) is imported only when a message is sent or a plan's URL checked.
"""

from __future__ import annotations

from .messages import Message
from .messages import NightEvent
from .messages import TargetSummary
from .notifier import Notifier
from .watch import NightWatch

__all__ = ["Message", "NightEvent", "NightWatch", "Notifier", "TargetSummary"]
