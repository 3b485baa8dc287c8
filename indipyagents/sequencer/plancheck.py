"""`PlanCheck`: what the face keeps of a plan as it is loaded or refused, on PLAN_CHECK.

Values, not messages: a message is sent once, so a client that connects later (after a
restart, the web Sequence page opened) would not know which plan was refused or which target
no night can image. NEVER: a scheduled plan's targets none of its nights can image, each with
the schedule's reason (its ``[site]``'s sky from now, in a thread; a plan whose site only its
mount knows is told when it runs). REFUSED: the plan refused since the one loaded, and why.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC
from datetime import datetime

from indipydriver.vectors import TextVector

from ..plan.model import Plan
from ..schedule.order import never_imaged
from ..schedule.sky import Place

__all__ = ["PlanCheck"]

logger = logging.getLogger(__name__)


class PlanCheck:
    def __init__(self, vector: TextVector) -> None:
        self.vector = vector

    async def refused(self, error: Exception, loaded: Plan | None, source: str, *,
                      running: bool = False) -> str:
        """REFUSED said; the words for AGENT_PLAN and PLAN_STATUS: the plan that stays
        loaded (if any), or that runs, first, then the error."""
        self.vector["REFUSED"] = str(error)
        await self.vector.send_setVector(state="Alert")
        if loaded is None:
            return str(error)
        if running:
            return f"refused ({loaded.name} from {source} runs: abort it first): {error}"
        return f"refused ({loaded.name} from {source} stays loaded): {error}"

    async def loaded(self, plan: Plan) -> str:
        """NEVER said for `plan` (REFUSED cleared); its words after the plan's name,
        "; never imaged: M13 (why)", or "" when every target can be imaged or the plan is not
        scheduled at a known site."""
        never = ""
        if plan.schedule is not None and plan.site is not None:
            site = plan.site
            place = Place(site.latitude, site.longitude, site.elevation)
            found = await asyncio.to_thread(never_imaged, plan, place, datetime.now(UTC))
            for item in found:
                logger.warning("plan %s: %s is never imaged (%s)", plan.name, item.target,
                               item.reason)
            never = "; ".join(f"{item.target} ({item.reason})" for item in found)
        self.vector.update({"NEVER": never, "REFUSED": ""})
        await self.vector.send_setVector(state="Alert" if never else "Ok")
        return f"; never imaged: {never}" if never else ""
