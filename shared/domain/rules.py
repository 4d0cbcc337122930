"""Program rules: one validated, versioned document per program (YAML on disk, JSON over HTTP).

Every deadline, threshold and outcome of a cycle comes from here, never from code. A cycle pins
the rules it opened with, so changing a program never changes a running or finished cycle.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

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
        keys = [d.key for d in value]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"declaration keys repeat: {', '.join(dupes)}")
        return value


class Indicator(_Model):
    key: str
    name: str
    name_en: str | None = None
    weight: float = Field(gt=0)

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError("indicator key must be letters, digits, '-' or '_'")
        return value


_TOP = re.compile(r"^top\s+(\d+(?:\.\d+)?)\s*%$")


class GradeThresholds(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    excellent: float | str = Field(85, description="A total, or 'top 15%' among passing bases")
    pass_: float = Field(60, alias="pass", ge=0, le=100)

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


class RubricRules(_Model):
    version: str
    indicators: list[Indicator] = Field(min_length=1)
    vetoes: list[str] = Field(default_factory=list)
    experts_required: int = Field(1, ge=1, le=50)
    grades: GradeThresholds = Field(default_factory=GradeThresholds)  # type: ignore[arg-type]

    @field_validator("indicators")
    @classmethod
    def _unique(cls, value: list[Indicator]) -> list[Indicator]:
        keys = [i.key for i in value]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"indicator keys repeat: {', '.join(dupes)}")
        return value

    @property
    def keys(self) -> list[str]:
        return [i.key for i in self.indicators]


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
        "P3M",
        description=(
            "No base pays for an officer's delay: the self-evaluation is never due before the"
            " plan's acceptance plus this period (None: the due date stays where it is)"
        ),
    )
    reapplication_ban: DurationStr | None = Field(
        None,
        description="After a de-listing, how long a reinstatement is refused (None: no ban)",
    )


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


class RulesError(ValueError):
    """A rules document that does not validate; ``errors`` names each bad field."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


def parse_rules(document: dict[str, Any]) -> ProgramRules:
    try:
        return ProgramRules.model_validate(document)
    except ValidationError as exc:
        raise RulesError(
            [
                {
                    "field": ".".join(str(p) for p in err["loc"]) or "(document)",
                    "message": err["msg"],
                }
                for err in exc.errors()
            ]
        ) from None


def load_rules_text(text: str) -> ProgramRules:
    try:
        document = yaml.safe_load(text)  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        raise RulesError([{"field": "(document)", "message": f"not YAML or JSON: {exc}"}]) from None
    if not isinstance(document, dict):
        raise RulesError([{"field": "(document)", "message": "must be a mapping"}])
    return parse_rules(document)


def load_rules_file(path: Path) -> ProgramRules:
    return load_rules_text(path.read_text(encoding="utf-8"))


def rules_digest(rules: ProgramRules) -> str:
    """A stable fingerprint: applying identical rules twice creates no new version."""
    import hashlib

    canonical = json.dumps(rules.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
