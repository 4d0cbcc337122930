"""Program rules: one validated, versioned document per program (YAML on disk, JSON over HTTP).

Every deadline, threshold and outcome of a cycle comes from here, never from code. A cycle pins
the rules it opened with, so changing a program never changes a running or finished cycle.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from shared.domain.chains import ChainStep, chain_problems
from shared.domain.documents import InvalidDocument, load_mapping
from shared.domain.outcome_rules import ExitRule, PromotionRule, RewardTier
from shared.domain.program_span import ProgramSpan
from shared.domain.targets import TargetRule, TargetScore
from shared.domain.timespec import (
    Duration,
    MonthDay,
    TimeSpec,
    parse_duration,
    parse_month_day,
    parse_timespec,
    parse_utc_offset,
)

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _timespec(value: str) -> str:
    parse_timespec(value)
    return value


def _duration(value: str) -> str:
    if parse_duration(value).is_zero():
        raise ValueError(f"{value!r} is a zero duration")
    return value


def _month_day(value: str) -> str:
    parse_month_day(value)
    return value


SpecStr = Annotated[str, AfterValidator(_timespec)]
DurationStr = Annotated[str, AfterValidator(_duration)]
MonthDayStr = Annotated[str, AfterValidator(_month_day)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


_K = TypeVar("_K", bound=_Keyed)


def _keys_once(what: str, items: list[_K]) -> list[_K]:
    """Refuse a list whose items repeat a key: ``{what} keys repeat: a, b``."""
    keys = [i.key for i in items]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValueError(f"{what} keys repeat: {', '.join(dupes)}")
    return items


class CalendarRules(_Model):
    launch: MonthDayStr = Field("--03-01", description="Yearly launch; manual launch any time")
    plan_window: SpecStr = Field("P1M", description="From launch: duration or month-day")
    plan_review_window: SpecStr = Field("P15D", description="For each verification step")
    self_evaluation_due: SpecStr = Field("--11-30", description="From launch, or a month-day")
    review_window: SpecStr = Field("P1M", description="After the self-evaluation is due")
    rectification_period: SpecStr = "P3M"
    rectification_rounds: int = Field(1, ge=0, le=5)
    publication_period: SpecStr = Field("5WD", description="公示: duration or working days (5WD)")
    reminders: list[DurationStr] = Field(default_factory=list, description="Before each deadline")
    utc_offset: str = Field("+08:00", description="Program-local time for month-days")
    holidays: str = Field(
        "cn-statutory",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description=(
            "节假日表 / The holiday table working days and art. 203 roll-over are counted with "
            "(navcycle calendar apply, PUT /v1/calendars/{id}); years it lacks fall back to the "
            "chinese_calendar package, then to weekends only with the deadline provisional"
        ),
    )

    @field_validator("utc_offset")
    @classmethod
    def _offset(cls, value: str) -> str:
        parse_utc_offset(value)
        return value

    def spec(self, name: str) -> TimeSpec:
        return parse_timespec(getattr(self, name))

    @property
    def launch_day(self) -> MonthDay:
        return parse_month_day(self.launch)

    @property
    def reminder_offsets(self) -> list[Duration]:
        return [parse_duration(r) for r in self.reminders]


class Declaration(_Model):
    """A condition that is not a number (申报条件 such as experience or an industry base): the
    applicant affirms it and, when asked, names the evidence documents behind it."""

    key: str
    text_zh: str = Field(min_length=1)
    text_en: str = Field(min_length=1)
    evidence_required: bool = True

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError("declaration key must be letters, digits, '-' or '_'")
        return value


class EligibilityRules(_Model):
    min_staff: int = Field(0, ge=0)
    min_senior_full_time: int = Field(0, ge=0)
    domains: list[str] = Field(default_factory=list, description="Empty means any domain")
    domains_open: bool = Field(
        False,
        description="The list is open (the seed says 等): other domains are accepted, the listed"
        " ones are suggestions",
    )
    one_base_per_domain: bool = False
    require_pct_minimum_data: bool = Field(
        False, description="Data resources must cover at least the PCT minimum documentation"
    )
    host_types: list[str] = Field(default_factory=list, description="Empty means any host type")
    host_types_open: bool = Field(
        False,
        description="The list is open (the seed says 等): other host types are accepted, the"
        " listed ones are suggestions",
    )
    declarations: list[Declaration] = Field(
        default_factory=list, description="Conditions affirmed by the applicant, with evidence"
    )

    @field_validator("declarations")
    @classmethod
    def _unique_declarations(cls, value: list[Declaration]) -> list[Declaration]:
        return _keys_once("declaration", value)


class Indicator(_Model):
    key: str
    name: str
    name_en: str | None = None
    weight: float = Field(gt=0, description="Percent scale: the weight of its 0-100 score")
    max: float | None = Field(
        None,
        gt=0,
        description=(
            "Points scale: the indicator's full marks (满分). Left out, it is the weight, as"
            " Chinese rubrics write 'report quality 30' for 30 points out of 100. Percent scale:"
            " left out (every indicator is scored 0-100)"
        ),
    )
    from_target: TargetScore | None = Field(
        None,
        description=(
            "Scored from a target's completion instead of by experts: the target's key, or"
            " {key, zero_at, full_at} (completion in percent scoring 0 and full marks, linear"
            " between)"
        ),
    )

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError("indicator key must be letters, digits, '-' or '_'")
        return value

    @field_validator("from_target", mode="before")
    @classmethod
    def _target_key(cls, value: Any) -> Any:
        return {"key": value} if isinstance(value, str) else value

    def maximum(self, scale: Scale) -> float:
        """The highest score an expert may give on ``scale``."""
        if scale == "percent":
            return 100.0
        return self.max if self.max is not None else self.weight


Scale = Literal["points", "percent"]
SCALE_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "points": (
        "各指标按其满分计分，总分为各指标专家平均得分之和（满分100分）",
        "each indicator is scored in points out of its maximum; the total is the sum of the"
        " experts' average points (out of 100)",
    ),
    "percent": (
        "各指标按百分制（0-100分）计分，总分为各指标专家平均得分按权重的加权平均",
        "each indicator is scored 0-100; the total is the weighted mean of the experts'"
        " average scores",
    ),
}


class VetoItem(_Model):
    """A veto item (否决项) with the definition experts read where they enter scores."""

    key: str
    name_zh: str | None = None
    name_en: str | None = None
    definition_zh: str | None = Field(None, description="What the item covers, as experts read it")
    definition_en: str | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError("veto key must be letters, digits, '-' or '_'")
        return value


VetoOutcome = Literal["rectify", "fail_final", "delist"]
VETO_OUTCOMES: dict[str, tuple[str, str]] = {
    "rectify": (
        "评为不合格，与低分相同须限期整改",
        "fail, ordered to rectify like a low score",
    ),
    "fail_final": ("评为不合格，不予整改", "fail as final, without rectification"),
    "delist": ("评为不合格并摘牌退出", "fail and de-list the base"),
}

_TOP = re.compile(r"^top\s+(\d+(?:\.\d+)?)\s*%$")


class RelativeGrading(_Model):
    """How 'excellent: top N%' becomes a set of bases; read only when excellent is 'top N%'."""

    population: Literal["scored", "all"] = Field(
        "scored",
        description=(
            "The bases the share is taken of: scored (only bases whose review was scored; bases"
            " failed as overdue or excluded do not count) or all (every graded base, overdue"
            " fails included; excluded bases never count)"
        ),
    )
    count: Literal["round", "floor", "ceil"] = Field(
        "round",
        description=(
            "How the share becomes a number of bases: round (half up: 6 bases x 15% = 0.9 -> 1),"
            " floor or ceil"
        ),
    )
    at_least_one: bool = Field(
        False, description="A quota that comes to 0 becomes 1 when any base was ranked"
    )
    ties: Literal["none_in", "all_in"] = Field(
        "none_in",
        description=(
            "Bases tied on the last place within the quota, when taking all of them would exceed"
            " it: none_in (the quota is a ceiling, so none of the tied bases is excellent and"
            " fewer than the quota may be) or all_in (all of them are excellent, so the quota may"
            " be exceeded). Either way equal totals get equal grades, and no tie is broken by"
            " name or order of filing"
        ),
    )
    min_total: float | None = Field(
        85,
        ge=0,
        le=100,
        description=(
            "Excellent also needs at least this total (e.g. 85 and in the top 15%), so a weak"
            " year does not make a bare pass excellent. 85 is the bureau's choice, the same as"
            " the absolute excellent threshold's default; None: any passing total may rank. Never"
            " below the pass threshold"
        ),
    )


class GradeThresholds(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    excellent: float | str = Field(85, description="A total, or 'top 15%' among passing bases")
    pass_: float = Field(60, alias="pass", ge=0, le=100)
    relative: RelativeGrading = Field(
        default_factory=RelativeGrading,  # type: ignore[arg-type]
        description="How 'top N%' is counted: population, rounding, ties, minimum total",
    )

    @field_validator("excellent")
    @classmethod
    def _excellent(cls, value: float | str) -> float | str:
        if isinstance(value, str):
            match = _TOP.fullmatch(value.strip())
            if not match or not 0 < float(match[1]) <= 100:
                raise ValueError("excellent must be a total (0-100) or 'top N%' with 0 < N <= 100")
            return value.strip()
        if not 0 <= value <= 100:
            raise ValueError("excellent must lie between 0 and 100")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> GradeThresholds:
        if isinstance(self.excellent, float | int) and self.excellent < self.pass_:
            raise ValueError("the excellent threshold must not be below the pass threshold")
        return self

    @property
    def relative_top_percent(self) -> float | None:
        if isinstance(self.excellent, str):
            match = _TOP.fullmatch(self.excellent)
            return float(match[1]) if match else None
        return None

    @property
    def relative_min_total(self) -> float:
        """The lowest total a relatively graded base may be excellent with: never below pass."""
        floor = self.relative.min_total
        return self.pass_ if floor is None else max(floor, self.pass_)


class RubricRules(_Model):
    version: str
    scale: Scale = Field(
        "percent",
        description=(
            "points: each indicator scored 0..its max, total = sum of the averaged points, the"
            " maxima sum to 100; percent: each indicator scored 0-100, total = weighted mean"
        ),
    )
    total_decimals: int = Field(
        2,
        ge=0,
        le=4,
        description="Averages and totals are rounded half up (not to even) to this many decimals",
    )
    indicators: list[Indicator] = Field(min_length=1)
    vetoes: list[str] = Field(
        default_factory=list,
        description="Veto item keys; a document may also list items with their definitions",
    )
    veto_definitions: dict[str, VetoItem] = Field(
        default_factory=dict, description="Per veto key: its names and definition"
    )
    veto_outcome: VetoOutcome = Field(
        "rectify",
        description=(
            "What a veto leads to: rectify (不合格, ordered to rectify like a low score),"
            " fail_final (不合格 without rectification) or delist (不合格 and 摘牌)."
            " The default is rectify because neither seed has veto items, and the only"
            " outcome they give a failing base is 限期整改 then 摘牌 (seed 000 (三)); it is"
            " also what rules written before this field meant. A program whose vetoes are"
            " for dishonesty should state fail_final or delist"
        ),
    )
    experts_required: int = Field(1, ge=1, le=50)
    grades: GradeThresholds = Field(default_factory=GradeThresholds)  # type: ignore[arg-type]

    @model_validator(mode="before")
    @classmethod
    def _veto_items(cls, data: Any) -> Any:
        """Accept ``vetoes`` as keys (old documents) or as items with definitions."""
        if not isinstance(data, dict):
            return data
        definitions = {
            k: {"key": k, **v} if isinstance(v, dict) and "key" not in v else v
            for k, v in dict(data.get("veto_definitions") or {}).items()
        }
        if not isinstance(data.get("vetoes"), list):
            return {**data, "veto_definitions": definitions} if definitions else data
        keys: list[Any] = []
        for item in data["vetoes"]:
            if isinstance(item, dict) and "key" in item:
                keys.append(item["key"])
                definitions[item["key"]] = item
            else:
                keys.append(item)
        return {**data, "vetoes": keys, "veto_definitions": definitions}

    @field_validator("indicators")
    @classmethod
    def _unique(cls, value: list[Indicator]) -> list[Indicator]:
        return _keys_once("indicator", value)

    @model_validator(mode="after")
    def _consistent(self) -> RubricRules:
        if self.scale == "percent":
            stated = [i.key for i in self.indicators if i.max is not None and i.max != 100]
            if stated:
                raise ValueError(
                    "on the percent scale every indicator is scored 0-100; leave out max for "
                    + ", ".join(stated)
                )
        else:
            total = sum(Decimal(str(i.maximum("points"))) for i in self.indicators)
            if total != 100:
                raise ValueError(
                    f"on the points scale the indicators' maxima must sum to 100, not {total}"
                    f" / 按分值计分时各指标满分之和须为100分，现为{total}分"
                )
        unknown = sorted(set(self.veto_definitions) - set(self.vetoes))
        if unknown:
            raise ValueError(f"veto_definitions name items not in vetoes: {', '.join(unknown)}")
        mismatched = sorted(k for k, v in self.veto_definitions.items() if v.key != k)
        if mismatched:
            raise ValueError(f"veto_definitions keys differ from their items: {mismatched}")
        return self

    @property
    def keys(self) -> list[str]:
        return [i.key for i in self.indicators]

    def veto_item(self, key: str) -> VetoItem:
        """The item for a veto key, with whatever definition the rules give."""
        return self.veto_definitions.get(key) or VetoItem(key=key)


Outcome = Literal["fail", "exclude"]


class OutcomeRules(_Model):
    """What happens when a deadline passes or a person stays silent: nothing waits forever."""

    plan_overdue: Outcome = "fail"
    self_evaluation_overdue: Outcome = "fail"
    rectifying_next_year: Literal["open", "hold"] = Field(
        "hold",
        description=(
            "A base still rectifying when the next year launches: open its next cycle at once,"
            " or hold it (the cycle waits in its own stage) until the rectification ends; a"
            " de-listing then ends it"
        ),
    )
    plan_review_silence: Literal["consent", "province", "wait"] = Field(
        "province",
        description=(
            "A verification step silent after its escalation: consent (备案, the plan counts as"
            " verified at that step), province (the province takes the step itself), or wait"
            " with a reminder every day"
        ),
    )
    review_silence: Literal["reassign", "wait"] = Field(
        "reassign",
        description=(
            "Experts silent after the review's escalation: their places go to the next experts on"
            " the roster, with a fresh review window; or wait with a reminder every day"
        ),
    )
    self_evaluation_min_after_acceptance: DurationStr | None = Field(
        None,
        description=(
            "No base pays for an officer's delay: the self-evaluation is never due before the"
            " plan's acceptance plus this period (None: the due date stays where it is)"
        ),
    )
    reapplication_ban: DurationStr | None = Field(
        None,
        description="After a de-listing, how long a reinstatement is refused (None: no ban)",
    )
    tiers: list[RewardTier] = Field(
        default_factory=list,
        description="Support or reward tiers (奖励档次) by final grade, once results are final",
    )
    promotion: PromotionRule | None = Field(
        None, description="Promotion (晋升) after consecutive years of a grade (None: none)"
    )
    exit: ExitRule | None = Field(
        None,
        description=(
            "Exit (摘牌退出) after consecutive fails (None: none); with reapplication_ban, the"
            " exit decision comes with a ban on re-applying"
        ),
    )

    @field_validator("tiers")
    @classmethod
    def _unique_tiers(cls, value: list[RewardTier]) -> list[RewardTier]:
        return _keys_once("tier", value)


VerificationStep = Literal["city", "province"]
DEFAULT_CHAIN: list[VerificationStep] = ["city", "province"]


_PROVENANCE = re.compile(r"^(seed \d{3}: .+|chosen: .+)$", re.DOTALL)


DesignatingGrade = Literal["excellent", "pass"]
_DESIGNATING: tuple[DesignatingGrade, ...] = ("excellent", "pass")


class DesignationRules(_Model):
    """The 验收 designates provincial bases (确定新的省级专利导航服务基地): the grades that lead
    to designation, and the window in which a designated base files its new plan."""

    grades: list[DesignatingGrade] = Field(default_factory=lambda: list(_DESIGNATING), min_length=1)
    plan_window: DurationStr = Field("P1M", description="From the approval (批准之日起)")


class ProgramClauses(_Model):
    """The program's own words, quoted by its notices; empty where its scheme has none."""

    source: str = Field("", description="The scheme's title, e.g. 《…实施方案》")
    plan: str = ""
    self_evaluation: str = ""
    review: str = ""
    rectification: str = ""
    delisting: str = ""
    publication: str = ""
    designation: str = ""


class ParticipantKind(_Model):
    """One kind of participant a program takes (a navigation base; a pilot enterprise, park,
    industry alliance or service agency; a sub-district), with its own rules. Each part left
    out is the program's own: its eligibility, its rubric, its verification chain."""

    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    eligibility: EligibilityRules | None = Field(None, description="None: the program's")
    rubric: RubricRules | None = Field(None, description="None: the program's")
    targets: list[TargetRule] = Field(
        default_factory=list, description="Each participant's own targets (level: participant)"
    )
    chain: list[ChainStep] | None = Field(
        None,
        description=(
            "Verification chain: steps at city, province or national level, each verify or"
            " aggregate (with forward_by); None: the program's verification"
        ),
    )

    @field_validator("targets")
    @classmethod
    def _participant_targets(cls, value: list[TargetRule]) -> list[TargetRule]:
        program = sorted(t.key for t in value if t.level != "participant")
        if program:
            raise ValueError(
                "a participant kind's targets are each participant's (level: participant): "
                + ", ".join(program)
                + " / 参与单位类型的目标应为各单位目标（level: participant）"
            )
        return _keys_once("target", value)


class ProgramRules(_Model):
    id: str
    name: str
    name_en: str | None = None
    issuer: str
    region: str = Field(description="GB/T 2260 code of the issuing region")
    calendar: CalendarRules = Field(default_factory=CalendarRules)  # type: ignore[arg-type]
    verification: list[VerificationStep] = Field(default_factory=lambda: list(DEFAULT_CHAIN))
    eligibility: EligibilityRules = Field(default_factory=EligibilityRules)  # type: ignore[arg-type]
    rubric: RubricRules
    outcomes: OutcomeRules = Field(default_factory=OutcomeRules)  # type: ignore[arg-type]
    designation: DesignationRules | None = Field(
        None, description="Whether the yearly evaluation designates provincial bases, and how"
    )
    clauses: ProgramClauses = Field(default_factory=ProgramClauses)  # type: ignore[arg-type]
    targets: list[TargetRule] = Field(
        default_factory=list,
        description="Quantified targets (目标任务), the program's own and each participant's",
    )
    participants: dict[str, ParticipantKind] = Field(
        default_factory=dict,
        description=(
            "The kinds of participant, by key, each with its own rules; a registration names"
            " its kind (the first by default). Empty: one kind, the program's own rules"
        ),
    )
    span: ProgramSpan | None = Field(
        None,
        description="A multi-year program's years, checkpoints and mid-term and final evaluations",
    )
    simulation: bool = Field(
        False, description="A simulated program (navcycle demo): never part of the record"
    )
    provenance: dict[str, str] = Field(
        default_factory=dict,
        description="Rules path (calendar.plan_window) -> 'seed NNN: 「clause」' or 'chosen: why'",
    )

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError("program id must be 1-64 letters, digits, '-' or '_'")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not re.fullmatch(r"\d{6}", value):
            raise ValueError("region must be a six-digit GB/T 2260 code such as 410000")
        return value

    @field_validator("verification")
    @classmethod
    def _chain(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a verification step may appear once")
        return value

    @field_validator("targets")
    @classmethod
    def _unique_targets(cls, value: list[TargetRule]) -> list[TargetRule]:
        return _keys_once("target", value)

    @model_validator(mode="after")
    def _indicator_targets(self) -> ProgramRules:
        known = {t.key for t in self.targets}
        unknown = sorted(
            f"{i.key} -> {i.from_target.key}"
            for i in self.rubric.indicators
            if i.from_target is not None and i.from_target.key not in known
        )
        if unknown:
            raise ValueError(
                "indicators scored from targets the program does not have: " + ", ".join(unknown)
            )
        return self

    @field_validator("participants")
    @classmethod
    def _kind_keys(cls, value: dict[str, ParticipantKind]) -> dict[str, ParticipantKind]:
        bad = sorted(k for k in value if not _ID.fullmatch(k))
        if bad:
            raise ValueError(
                "participant kind keys must be letters, digits, '-' or '_': " + ", ".join(bad)
            )
        return value

    @model_validator(mode="after")
    def _kinds(self) -> ProgramRules:
        problems = []
        for key, kind in self.participants.items():
            known = {t.key for t in self.targets} | {t.key for t in kind.targets}
            shared = sorted({t.key for t in self.targets} & {t.key for t in kind.targets})
            if shared:
                problems.append(
                    f"{key}: targets repeat the program's keys: {', '.join(shared)}"
                    f" / 参与单位类型{key}的目标与项目目标重名"
                )
            rubric = kind.rubric or self.rubric
            unknown = sorted(
                f"{i.key} -> {i.from_target.key}"
                for i in rubric.indicators
                if i.from_target is not None and i.from_target.key not in known
            )
            if unknown:
                problems.append(
                    f"{key}: indicators scored from targets it does not have: {', '.join(unknown)}"
                    f" / 参与单位类型{key}的指标引用了不存在的目标"
                )
            problems += [f"{key}: {p}" for p in chain_problems(kind.chain or [], self.region)]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @field_validator("provenance")
    @classmethod
    def _provenance(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(path for path, source in value.items() if not _PROVENANCE.match(source))
        if bad:
            raise ValueError(
                "each provenance entry must read 'seed NNN: 「clause」' or 'chosen: why': "
                + ", ".join(bad)
            )
        return value


class RulesError(InvalidDocument):
    """A rules document that does not validate; ``errors`` names each bad field."""


def parse_rules(document: dict[str, Any]) -> ProgramRules:
    try:
        return ProgramRules.model_validate(document)
    except ValidationError as exc:
        raise RulesError.of(exc) from None


def load_rules_text(text: str) -> ProgramRules:
    return parse_rules(load_mapping(text, RulesError))


def load_rules_file(path: Path) -> ProgramRules:
    return load_rules_text(path.read_text(encoding="utf-8"))


def rules_digest(rules: ProgramRules) -> str:
    """A stable fingerprint: applying identical rules twice creates no new version.

    Fields added since rules were first stored are left out while they hold their empty default
    (a program without targets, participant kinds or a span, an indicator not scored from one),
    so the digest of rules written before them is unchanged and restarting the registry creates
    no new version of them."""
    import hashlib

    document = rules.model_dump(mode="json", by_alias=True)
    for name in ("targets", "participants", "span"):
        if not document[name]:
            del document[name]
    for indicator in document["rubric"]["indicators"]:
        if indicator["from_target"] is None:
            del indicator["from_target"]
    for rule in ("tiers", "promotion", "exit"):  # outcome rules: left out while unused
        if not document["outcomes"][rule]:
            del document["outcomes"][rule]
    canonical = json.dumps(document, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
