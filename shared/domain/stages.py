"""Where a cycle stands. Workflows own the stage; this module names the stages and their labels."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    PLAN_FILING = "plan_filing"
    PLAN_REVIEW = "plan_review"
    IMPLEMENTING = "implementing"
    UNDER_REVIEW = "under_review"
    GRADED = "graded"
    RECTIFYING = "rectifying"
    CLOSED = "closed"
    DELISTED = "delisted"
    EXCLUDED = "excluded"
    # A next-year cycle of a base still rectifying, held until the rectification ends.
    HELD = "held"
    # A cycle ended because its base was de-listed (in this or an earlier year's cycle).
    ENDED = "ended"

    @property
    def is_final(self) -> bool:
        return self in (Stage.CLOSED, Stage.DELISTED, Stage.EXCLUDED, Stage.ENDED)

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]


_LABELS_ZH = {
    Stage.PLAN_FILING: "实施方案备案",
    Stage.PLAN_REVIEW: "方案核实",
    Stage.IMPLEMENTING: "实施建设",
    Stage.UNDER_REVIEW: "绩效评估",
    Stage.GRADED: "等待公示",
    Stage.RECTIFYING: "限期整改",
    Stage.CLOSED: "已结束",
    Stage.DELISTED: "摘牌退出",
    Stage.EXCLUDED: "未纳入评估",
    Stage.HELD: "待上年度整改结束",
    Stage.ENDED: "因摘牌终止",
}
