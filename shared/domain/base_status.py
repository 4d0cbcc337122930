"""A base's status across years: a guarded state machine (active ⇄ rectifying → delisted).

``delisted`` is final for every cycle: only a person (a province_admin, with a reason) can bring
a base back, by reinstatement, and not while the rules' re-application ban runs. So a later
year's cycle that fails or passes a rectification can never revive a de-listed base by itself.

Pure: no database, broker or clock; callers pass the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from shared.domain.timespec import add_duration, parse_duration

Status = Literal["active", "rectifying", "delisted"]
STATUSES: tuple[Status, ...] = ("active", "rectifying", "delisted")

# What a cycle (or any caller but a reinstatement) may ask: from -> allowed targets.
ALLOWED: dict[Status, frozenset[Status]] = {
    "active": frozenset({"rectifying", "delisted"}),  # failed; or a veto that de-lists
    "rectifying": frozenset({"active", "delisted"}),  # rectified; or not rectified
    "delisted": frozenset(),  # final, unless reinstated
}

REFUSED = "status_transition_refused"
NOT_DELISTED = "not_delisted"
BAN_RUNNING = "reapplication_ban_running"
REASON_REQUIRED = "reason_required"

_NAMES_ZH: dict[Status, str] = {"active": "正常", "rectifying": "整改中", "delisted": "已摘牌"}


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    message_zh: str

    @property
    def text(self) -> str:
        """Chinese first, English beside it."""
        return f"{self.message_zh} — {self.message}"


@dataclass(frozen=True)
class Decision:
    """What a requested change comes to: the status after it, whether it changed, or why not."""

    status: Status
    changed: bool
    refused: Refusal | None = None


def decide(current: Status, target: Status) -> Decision:
    """A change asked by a cycle (or anyone but a reinstatement). The same state is a no-op."""
    if current == target:
        return Decision(status=current, changed=False)
    if target in ALLOWED[current]:
        return Decision(status=target, changed=True)
    return Decision(
        status=current,
        changed=False,
        refused=Refusal(
            REFUSED,
            f"a {current} base cannot become {target}"
            + (
                ": only a reinstatement brings a de-listed base back"
                if current == "delisted"
                else ""
            ),
            f"基地当前状态为「{_NAMES_ZH[current]}」，不能改为「{_NAMES_ZH[target]}」"
            + ("；已摘牌的基地只能经省局恢复" if current == "delisted" else ""),
        ),
    )


def ban_ends(delisted_at: datetime | None, ban: str | None, tz: timezone) -> datetime | None:
    """When the re-application ban after a de-listing ends (None: no ban, or no date known)."""
    if ban is None or delisted_at is None:
        return None
    return add_duration(delisted_at, parse_duration(ban), tz)


def decide_reinstatement(
    current: Status,
    *,
    reason: str,
    delisted_at: datetime | None,
    ban: str | None,
    now: datetime,
    tz: timezone,
) -> Decision:
    """``delisted -> active`` by a person with a reason, once any re-application ban has run.

    一产业一基地 is checked by the caller, which knows the other bases (``domain_taken``)."""
    if not reason.strip():
        return Decision(
            status=current,
            changed=False,
            refused=Refusal(
                REASON_REQUIRED, "a reinstatement needs a reason", "恢复基地须说明理由"
            ),
        )
    if current != "delisted":
        return Decision(
            status=current,
            changed=False,
            refused=Refusal(
                NOT_DELISTED,
                f"the base is {current}, not de-listed: there is nothing to reinstate",
                f"基地当前状态为「{_NAMES_ZH[current]}」，未被摘牌，无需恢复",
            ),
        )
    ends = ban_ends(delisted_at, ban, tz)
    if ends is not None and now < ends:
        day = ends.astimezone(tz)
        return Decision(
            status=current,
            changed=False,
            refused=Refusal(
                BAN_RUNNING,
                f"the re-application ban ({ban}) after the de-listing runs until"
                f" {day:%d %B %Y %H:%M} (UTC{day:%z})",
                f"摘牌后的重新申请限制期（{ban}）至 {day.year}年{day.month}月{day.day}日"
                f"{day.hour}时{day.minute:02d}分 止，期间不得恢复",
            ),
        )
    return Decision(status="active", changed=True)
