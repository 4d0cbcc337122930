"""The expert pages of the portal: the reviews assigned to the signed-in expert, and one review
with its documents, the plan's targets against the self-evaluation's actuals and the rubric as a
form; once sent, the expert's own sheet.

Reads go through the API's route functions: the cycle as ``GET .../bases/{base}`` shows it to
this expert (``require(read_cycle)`` with the assignment, then need to know: its own sheet
only), the rubric as ``GET .../rubric``. The form posts to ``POST .../scores``; nothing here
writes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from services.gateway.auth import base_of, require, rpc
from services.gateway.deps import Deps, DepsDep
from services.gateway.identity.tokens import Principal
from services.gateway.portal.common_pages import problem_page
from services.gateway.portal.render import lang_of, page
from services.gateway.portal.session import PortalUser
from services.gateway.portal.words import Lang, say, words
from services.gateway.problems import ApiError
from services.gateway.public_models import CyclePublic, Rubric
from services.gateway.routes import cycles as cycles_route
from services.gateway.routes import programs as programs_route
from services.gateway.routes.params import Base, Year
from shared.contracts.assessment import ExpertReview, ExpertReviews, ExpertReviewsQuery
from shared.domain.grading import (
    ScoreSheet,
    average_scores,
    completion_rates,
    rubric_scale_description,
    total_score,
)
from shared.domain.participants import kind_rubric, pinned_rules
from shared.domain.rules import ProgramRules, RubricRules
from shared.domain.target_scores import cycle_completions, indicator_score
from shared.domain.wording import deadline_en, deadline_zh, moment_en, moment_zh

router = APIRouter(include_in_schema=False)

PROGRAM = Query(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
AFTER = Query(None, pattern=r"^\d{4}/[A-Za-z0-9_-]{1,64}$")
EXPERT_PAGE = 50  # reviews a page lists (each row asks its cycle's state)
SCORED = "review.scored"

words(
    {
        "expert.list.title": ("我的评审任务", "My reviews"),
        "expert.list.more": ("下一页评审任务", "Next page of reviews"),
        "expert.list.first": ("回到第一页", "Back to the first page"),
        "expert.list.empty": (
            "目前没有分配给您的评审任务。分配后会在“通知”中告知您。",
            "No review is assigned to you now. You will be told in your inbox when one is.",
        ),
        "expert.list.caption": ("分配给您的基地评审", "Bases assigned to you for review"),
        "expert.list.base": ("基地", "Base"),
        "expert.list.year": ("年度", "Year"),
        "expert.list.round": ("轮次", "Round"),
        "expert.list.due": ("评审截止", "Review due"),
        "expert.list.state": ("状态", "State"),
        "expert.list.open": ("打开", "Open"),
        "expert.list.open_named": ("打开 {base} 的评审", "Open the review of {base}"),
        "expert.round.0": ("年度评审", "Yearly review"),
        "expert.round.n": ("整改复评（第{n}轮）", "Re-review after rectification ({n})"),
        "expert.state.to_score": ("待评分", "To score"),
        "expert.state.scored": ("已提交评分", "Scored"),
        "expert.state.decided": ("已评定", "Decided"),
        "expert.state.closed": ("当前不在评分阶段", "Not open for scoring now"),
        "expert.state.unknown": ("状态暂不可用", "State not available now"),
        "expert.left.days": ("还剩 {n} 天", "{n} days left"),
        "expert.left.day": ("还剩 1 天", "1 day left"),
        "expert.left.hours": ("还剩 {n} 小时", "{n} hours left"),
        "expert.left.soon": ("不到 1 小时", "less than an hour left"),
        "expert.left.over": ("已过截止时间", "the deadline has passed"),
        "expert.review.title": ("评审：{name}（{year}年度）", "Review: {name} ({year})"),
        "expert.review.facts": ("评审概况", "The review"),
        "expert.review.base": ("基地", "Base"),
        "expert.review.stage": ("当前阶段", "Stage"),
        "expert.review.round": ("轮次", "Round"),
        "expert.review.due": ("评审截止", "Review due"),
        "expert.review.back": ("返回我的评审任务", "Back to my reviews"),
        "expert.docs": ("材料", "Documents"),
        "expert.docs.caption": ("基地提交的材料", "What the base filed"),
        "expert.docs.none": ("尚无材料。", "No documents yet."),
        "expert.docs.kind": ("材料", "Document"),
        "expert.docs.version": ("版本", "Version"),
        "expert.docs.file": ("文件", "File"),
        "expert.docs.filed_at": ("提交时间", "Filed"),
        "expert.docs.sha256": ("SHA-256 校验值", "SHA-256"),
        "expert.docs.open": ("打开 {file}", "Open {file}"),
        "expert.kind.plan": ("实施方案", "Implementation plan"),
        "expert.kind.self_evaluation": ("年度自评报告", "Self-evaluation report"),
        "expert.kind.rectification": ("整改报告", "Rectification report"),
        "expert.kind.evidence": ("佐证材料", "Evidence"),
        "expert.kind.results": ("结果文件", "Results"),
        "expert.targets": ("目标与完成情况", "Targets and actuals"),
        "expert.targets.caption": (
            "实施方案的年度目标与自评报告填报的完成值",
            "The plan's yearly targets against the self-evaluation's actuals",
        ),
        "expert.targets.none": ("实施方案未列目标。", "The plan lists no targets."),
        "expert.targets.name": ("目标", "Target"),
        "expert.targets.target": ("目标值", "Target value"),
        "expert.targets.actual": ("完成值", "Actual"),
        "expert.targets.rate": ("完成率", "Completion"),
        "expert.targets.missing": ("未填报", "not reported"),
        "expert.form.title": ("评分", "Scores"),
        "expert.form.scale": ("计分方式：{what}", "Scale: {what}"),
        "expert.form.caption": (
            "评分指标：权重、满分与您的评分",
            "Indicators: weight, maximum and your score",
        ),
        "expert.form.indicator": ("指标", "Indicator"),
        "expert.form.weight": ("权重", "Weight"),
        "expert.form.max": ("满分", "Maximum"),
        "expert.form.score": ("评分", "Score"),
        "expert.form.score_of": ("{name}的评分（0至{max}分）", "Score for {name} (0 to {max})"),
        "expert.form.vetoes": ("否决项（如存在请勾选）", "Veto items (tick any that applies)"),
        "expert.form.vetoes.none": ("本项目不设否决项。", "This program has no veto items."),
        "expert.form.pending": (
            "评分已受理，系统正在记录，请稍后刷新本页查看您的评分表。",
            "Your scores are accepted and being recorded: refresh this page shortly to see"
            " your sheet.",
        ),
        "expert.form.refresh": ("刷新", "Refresh"),
        "expert.form.veto_undefined": (
            "规则未给出定义，请按项目实施方案的规定判断。",
            "The rules give no definition: judge by the program's scheme.",
        ),
        "expert.form.veto_outcome": ("勾选任一否决项：{what}", "Ticking any veto: {what}"),
        "expert.form.comment": ("评审意见", "Comment"),
        "expert.form.comment_hint": (
            "请简要说明评分理由（不超过4000字）。",
            "Say briefly why you scored so (4000 characters at most).",
        ),
        "expert.form.total": ("加权总分（按规则计算）", "Weighted total (as the rules compute it)"),
        "expert.form.total_of": ("满分 {max} 分", "out of {max}"),
        "expert.form.incomplete": (
            "请为每项指标填写0至满分之间的分数，填写完整后才能提交。",
            "Give every indicator a score between 0 and its maximum; you can send once all are"
            " valid.",
        ),
        "expert.form.ready": (
            "全部指标已填写，可以提交。",
            "Every indicator is scored: ready to send.",
        ),
        "expert.form.submit": ("提交评分", "Send the scores"),
        "expert.form.range": (
            "{name}：请填写0至{max}之间的分数。",
            "{name}: give a score from 0 to {max}.",
        ),
        "expert.form.computed": (
            "由目标完成情况计算，专家不打分：完成率{completion}%，得分{score}",
            "Computed from the target's completion, not scored by experts: {completion}%"
            " complete, score {score}",
        ),
        "expert.form.computed_none": (
            "由目标完成情况计算，专家不打分：自评报告未报该目标的实际值，得分{score}",
            "Computed from the target's completion, not scored by experts: the self-evaluation"
            " reports no actual for the target, score {score}",
        ),
        "expert.form.once": (
            "评分提交后不能修改，请核对后再提交。",
            "Scores cannot be changed once sent: check them first.",
        ),
        "expert.form.rules_changed": (
            "注意：本周期按规则版本 {cycle} 开启，下表为现行版本 {now} 的评分规则。",
            "Note: this cycle opened under rules version {cycle}; the rubric below is the current"
            " version {now}.",
        ),
        "expert.form.closed": (
            "本基地当前处于“{stage}”阶段，暂不接受评分。",
            "This base is at the stage “{stage}”: scores are not taken now.",
        ),
        "expert.sheet.title": ("我的评分表", "My score sheet"),
        "expert.sheet.round": ("{round}的评分", "Scores of the {round}"),
        "expert.sheet.caption": ("您提交的评分", "The scores you sent"),
        "expert.sheet.total": (
            "按您的评分计算的总分：{total} 分",
            "Total from your scores: {total}",
        ),
        "expert.sheet.vetoes": ("您勾选的否决项：{items}", "Veto items you ticked: {items}"),
        "expert.sheet.no_vetoes": ("您未勾选否决项。", "You ticked no veto item."),
        "expert.sheet.comment": ("评审意见：{comment}", "Comment: {comment}"),
        "expert.sheet.sent": ("评分已提交。", "Your scores are sent."),
        "expert.need_program": (
            "您的账号未限定项目，请在地址中用 ?program= 指明项目。",
            "Your account is not scoped to one program: name it with ?program= in the address.",
        ),
        "expert.stage.plan_filing": ("实施方案备案", "Plan filing"),
        "expert.stage.plan_review": ("方案核实", "Plan verification"),
        "expert.stage.implementing": ("实施建设", "Implementing"),
        "expert.stage.under_review": ("绩效评估（专家评审）", "Under review (experts)"),
        "expert.stage.graded": ("等待公示", "Graded, awaiting publication"),
        "expert.stage.rectifying": ("限期整改", "Rectifying"),
        "expert.stage.closed": ("已结束", "Closed"),
        "expert.stage.delisted": ("已摘牌", "De-listed"),
        "expert.stage.excluded": ("未参加评价", "Excluded"),
        "expert.stage.held": ("暂缓开启", "Held"),
        "expert.stage.ended": ("已终止", "Ended"),
    }
)


class ReviewRow(BaseModel):
    """One line of the expert's list."""

    year: int
    base: str
    name: str
    round: int
    due_words: str
    left_words: str
    state: str  # expert.state.* key


def left_words(until: datetime | None, lang: Lang, now: datetime | None = None) -> str:
    """How long is left until ``until``, in words: 「还剩 12 天」 / "12 days left"."""
    if until is None:
        return ""
    left = until - (now or datetime.now(UTC))
    if left.total_seconds() <= 0:
        return say("expert.left.over", lang)
    if left.days >= 2:
        return say("expert.left.days", lang, n=left.days)
    if left.days == 1:
        return say("expert.left.day", lang)
    hours = int(left.total_seconds() // 3600)
    return say("expert.left.hours", lang, n=hours) if hours else say("expert.left.soon", lang)


def _program(user: Principal, asked: str | None) -> str | None:
    return asked or user.program


def _due_words(due: datetime | None, lang: Lang) -> str:
    if due is None:
        return ""
    return deadline_zh(due) if lang == "zh" else deadline_en(due)


def own_sheets(state: CyclePublic, me: str) -> dict[int, ScoreSheet]:
    """The expert's own sheet per round, as the cycle shows it to them: from the decision
    record when graded (with the comment), else from the review.scored step."""
    sheets: dict[int, ScoreSheet] = {}
    for step in state.history:
        if step.event == SCORED and step.detail.get("expert") == me:
            sheets[int(step.detail.get("round", 0))] = ScoreSheet(
                expert=me,
                scores=step.detail.get("scores", {}),
                vetoes=step.detail.get("vetoes", []),
            )
    for decision in state.decisions:
        for sheet in decision.sheets:
            if sheet.expert == me:
                sheets[decision.round] = sheet
    return sheets


def _state_key(review: ExpertReview, state: CyclePublic | None, me: str) -> str:
    if state is None:
        return "expert.state.unknown"
    if review.decided:
        return "expert.state.decided"
    if review.round in own_sheets(state, me):
        return "expert.state.scored"
    if state.stage.value == "under_review" and state.round == review.round:
        return "expert.state.to_score"
    return "expert.state.closed"


async def _reviews(deps: Deps, program: str, user: Principal, cursor: str | None) -> ExpertReviews:
    """One page of the expert's reviews (``EXPERT_PAGE``), after ``cursor``."""
    ask = ExpertReviewsQuery(program=program, expert=user.name, cursor=cursor, limit=EXPERT_PAGE)
    found: ExpertReviews = await rpc(
        deps.rpc.call("assessment", "assignments.of_expert", ask, ExpertReviews)
    )
    return found


@router.get("/portal/expert")
async def expert_home(
    request: Request,
    deps: DepsDep,
    user: PortalUser,
    program: str | None = PROGRAM,
    after: str | None = AFTER,
) -> HTMLResponse:
    lang = lang_of(request)
    if user.role != "expert":
        return problem_page(
            request, user, ApiError(403, "forbidden", f"a {user.role} has no reviews to score")
        )
    chosen = _program(user, program)
    if chosen is None:
        return page(
            request,
            "expert_list.html",
            user=user,
            rows=None,
            program=None,
            after="",
            next_cursor=None,
        )
    try:
        await require(deps, user, "read_program", program=chosen)
        listed = await _reviews(deps, chosen, user, after)
    except ApiError as exc:
        return problem_page(request, user, exc)
    rows = []
    for review in listed.reviews:
        try:  # the same checks as GET .../bases/{base}: a review no longer ours is left out
            state = await cycles_route.cycle_state(chosen, review.year, review.base, deps, user)
            found = await base_of(deps, chosen, review.base)
        except ApiError as exc:
            if exc.status == 404:
                continue
            state, found = None, None
        rows.append(
            ReviewRow(
                year=review.year,
                base=review.base,
                name=found.name if found else review.base,
                round=review.round,
                due_words=_due_words(review.due, lang),
                left_words="" if review.decided else left_words(review.due, lang),
                state=_state_key(review, state, user.name),
            )
        )
    return page(
        request,
        "expert_list.html",
        user=user,
        rows=rows,
        program=chosen,
        after=after or "",
        next_cursor=listed.next_cursor,
    )


def _targets(state: CyclePublic) -> list[dict[str, Any]]:
    rates = completion_rates({t.key: t.target for t in state.targets}, state.actuals)
    return [
        {
            "key": t.key,
            "name": t.name,
            "target": t.target,
            "unit": t.unit,
            "actual": state.actuals.get(t.key),
            "rate": rates.get(t.key),
        }
        for t in state.targets
    ]


def target_completions(
    rules: ProgramRules, state: CyclePublic, year: int
) -> dict[str, float | None] | None:
    """The completions the cycle's from_target indicators are scored from: as the latest
    decision recorded them, else as the self-evaluation's actuals give them now (None: the
    rubric has no such indicator)."""
    recorded = [d.target_completion for d in state.decisions if d.target_completion is not None]
    if recorded:
        return recorded[-1]
    plan = {t.key: t.target for t in state.targets}
    return cycle_completions(rules, year, state.actuals, plan)


def computed_rows(
    rubric: RubricRules, completions: dict[str, float | None] | None
) -> dict[str, dict[str, float | None]]:
    """Per indicator scored from a target: its completion (percent) and its score."""
    if completions is None:
        return {}
    return {
        i.key: {
            "completion": completions.get(i.key),
            "score": indicator_score(rubric, i, completions.get(i.key)),
        }
        for i in rubric.indicators
        if i.from_target is not None
    }


def sheet_total(
    rubric: RubricRules,
    sheet: ScoreSheet,
    completion: dict[str, float | None] | None = None,
) -> float | None:
    """The total the rules compute from this one sheet (what the form showed as it was typed),
    with the computed indicators' scores from ``completion`` (a sheet that scored them, before
    they were computed, is totalled on its own scores)."""
    unscored = [i for i in rubric.indicators if i.from_target and i.key not in sheet.scores]
    if completion is None and unscored:
        completion = {}
    try:
        return total_score(rubric, average_scores(rubric, [sheet], completion=completion))
    except (KeyError, ValueError):
        return None  # a sheet on another rubric's indicators: no total to show


@router.get("/portal/expert/{year}/{base}")
async def expert_review(
    request: Request,
    year: Year,
    base: Base,
    deps: DepsDep,
    user: PortalUser,
    program: str | None = PROGRAM,
    sent: bool = False,
) -> HTMLResponse:
    lang = lang_of(request)
    chosen = _program(user, program)
    if chosen is None:
        return problem_page(request, user, ApiError(404, "program_not_found", "no program named"))
    try:
        # The API's own read: 404 unless this expert is assigned (need to know).
        state = await cycles_route.cycle_state(chosen, year, base, deps, user)
        found = await base_of(deps, chosen, base)
        rubric: Rubric = await programs_route.get_rubric(chosen, deps, user)
        pinned = await programs_route.get_program(chosen, deps, user)
    except ApiError as exc:
        return problem_page(request, user, exc)
    rules = kind_rubric(pinned.rules, found.kind if found else None)
    if rules != pinned.rules.rubric:  # the base's kind scores on a rubric of its own
        rubric = Rubric.model_validate(rubric_scale_description(rules))
    own = pinned_rules(pinned.rules, found.kind if found else None)
    completions = target_completions(own, state, year)
    sheets = own_sheets(state, user.name)
    decided = {d.round: d for d in state.decisions}
    totals = {
        round_: sheet_total(
            decided[round_].rubric if round_ in decided else rules,
            sheet,
            decided[round_].target_completion if round_ in decided else completions,
        )
        for round_, sheet in sheets.items()
    }
    open_for_me = (
        state.stage.value == "under_review"
        and state.round not in sheets
        and (not state.experts or user.name in state.experts)
    )
    words_of = state.deadline_words.get("review")
    due = state.deadlines.get("review")
    moment = moment_zh if lang == "zh" else moment_en
    return page(
        request,
        "expert_review.html",
        user=user,
        program=chosen,
        year=year,
        base=base,
        base_name=found.name if found else base,
        state=state,
        rubric=rubric,
        rules=rules,
        rules_version=pinned.version,
        targets=_targets(state),
        computed=computed_rows(rules, completions),
        sheets=sorted(sheets.items()),
        totals=totals,
        open_for_me=open_for_me,
        due_words=(words_of.zh if lang == "zh" else words_of.en) if words_of else "",
        left=left_words(due, lang) if due and open_for_me else "",
        moment=moment,
        action=f"/v1/programs/{chosen}/years/{year}/bases/{base}/scores",
        idempotency=uuid.uuid4().hex,
        names={
            i.key: (i.name if lang == "zh" or not i.name_en else i.name_en)
            for i in rubric.indicators
        },
        # After a 2xx the scores are at least accepted by the cycle (202 while it records them):
        # the page says so rather than offer the form again.
        pending=sent and open_for_me,
        here=str(request.url.path) + (f"?program={program}&sent=1" if program else "?sent=1"),
    )
