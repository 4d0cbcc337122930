"""What an outcome decision does to a base in the registry, and the ban on re-applying.

An ``exit`` decision (连续N年不合格 → 摘牌退出) de-lists the base; the reason names the rule and
the decision's words. A ``reapplication_ban`` decision refuses a new registration of the same unit
in the program until the ban, counted from the decision, has run (``reapplication_banned``); the
refusal names the day it ends. Pure: callers pass the time and the program's time zone.
"""

from __future__ import annotations

from datetime import datetime, timezone

from shared.domain.base_status import Refusal
from shared.domain.timespec import add_duration, parse_duration
from shared.domain.wording import end_en, end_zh, period_en, period_zh

REAPPLICATION_BANNED = "reapplication_banned"


def exit_reason(rule: str, words_zh: str, words_en: str, year: int) -> str:
    """The de-listing's reason as the status record keeps it: the rule and its words."""
    return (
        f"{year}年度结果决定（{rule}）：{words_zh}"
        f" — outcome decision of {year} ({rule}): {words_en}"
    )


def ban_until(decided_at: datetime, ban: str, tz: timezone) -> datetime:
    """When a ban of ``ban`` (a duration) decided at ``decided_at`` ends."""
    return add_duration(decided_at, parse_duration(ban), tz)


def reapplication_refusal(base: str, until: datetime, ban: str, tz: timezone) -> Refusal:
    """Why registering ``base`` again is refused while its ban runs: the day it ends, in words."""
    return Refusal(
        REAPPLICATION_BANNED,
        f"{base!r} was de-listed and may not re-apply for {period_en(ban)}:"
        f" the ban runs until {end_en(until, tz=tz)}, a registration is accepted after it",
        f"「{base}」已摘牌退出，{period_zh(ban)}内不得重新申报："
        f"限制期至{end_zh(until, tz=tz)}止，期满后方可重新登记",
    )
