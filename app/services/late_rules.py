"""When data for a closed billing period is still accepted (SPEC §17): the organization's rule.

``lateUsage`` is ``ADJUST`` (default: stored as *late*, corrected into adjustments) or ``REJECT``
(``PERIOD_CLOSED`` as before), and ``correctionWindowDays`` (default 60) how long after a period's
end its late data is still taken. Usage events and one-time charges follow the same rule; what is
accepted late is recorded in ``LateData`` until a correction applies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from tortoise.backends.base.client import BaseDBAsyncClient

from app.db.models import LateData, Organization
from app.services.usage_rules import Rejected
from app.services.errors import ErrorCode

ADJUST, REJECT = "ADJUST", "REJECT"
MODES = (ADJUST, REJECT)
MAX_WINDOW_DAYS = 3650


@dataclass(frozen=True)
class LateRule:
    mode: str = ADJUST
    days: int = 60

    def accepts(self, period_end: date, today: date) -> bool:
        """True if data of a period closed on ``period_end`` (exclusive) is taken ``today``."""
        return self.mode == ADJUST and (today - period_end).days <= self.days

    def refusal(self, day: date, period_end: date, field: str) -> Rejected:
        if self.mode != ADJUST:
            why = "the organization rejects late data (lateUsage: REJECT)"
        else:
            why = f"more than {self.days} days (correctionWindowDays) after the period's end {period_end}"
        return Rejected(ErrorCode.PERIOD_CLOSED, f"{day} lies in a closed billing period: {why}", field)


async def late_rule(org_id: int, conn: BaseDBAsyncClient | None = None) -> LateRule:
    org = await Organization.get(id=org_id, using_db=conn) if conn else await Organization.get(id=org_id)
    return LateRule(org.late_usage, org.correction_window_days)


async def record_late(conn: BaseDBAsyncClient, org_id: int, rows: Sequence[LateData]) -> None:
    """Keep ``rows`` (late data just stored) pending until a correction applies them."""
    for row in rows:
        row.organization_id = org_id
    if rows:
        await LateData.bulk_create(list(rows), using_db=conn)
