"""The rules for one participant: its kind's eligibility, rubric, targets and verification chain.

A program declares its kinds of participant under ``participants`` (:class:`ParticipantKind`);
a program without any has one kind, :data:`DEFAULT_KIND`, whose rules are the program's own, as
every program had before kinds existed. Workflows and services ask :func:`participant_rules`,
never the program's fields, for what applies to a participant, and a cycle pins
:func:`pinned_rules`, the program's rules with its kind's put in. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.chains import ChainStep
from shared.domain.rules import (
    EligibilityRules,
    ParticipantKind,
    ProgramRules,
    RubricRules,
)
from shared.domain.targets import TargetRule

DEFAULT_KIND = "base"
"""The one kind of a program that declares none: a navigation base (服务基地)."""


class UnknownKind(ValueError):
    """A kind the program does not declare; ``code`` is stable, ``args[0]`` bilingual."""

    code = "unknown_participant_kind"

    def __init__(self, program: str, kind: str, known: list[str]) -> None:
        super().__init__(
            f"program {program!r} has no participant kind {kind!r}; its kinds: {', '.join(known)}"
            f" / 项目{program}无参与单位类型“{kind}”，可选：{'、'.join(known)}"
        )
        self.kind = kind
        self.known = known


@dataclass(frozen=True)
class ParticipantRules:
    """Everything that applies to participants of one kind, the program's defaults filled in."""

    kind: str
    name_zh: str
    name_en: str
    eligibility: EligibilityRules
    rubric: RubricRules
    targets: list[TargetRule]
    """The program's participant-level targets, then the kind's own."""
    chain: list[ChainStep]


def kinds(rules: ProgramRules) -> list[str]:
    """The program's kinds of participant, the default first."""
    return list(rules.participants) or [DEFAULT_KIND]


def kind_of(rules: ProgramRules, kind: str | None) -> str:
    """The kind a registration names, or the program's first (or only) kind when it names none;
    :class:`UnknownKind` for a kind the program does not declare."""
    known = kinds(rules)
    if kind is None:
        return known[0]
    if kind not in known:
        raise UnknownKind(rules.id, kind, known)
    return kind


def participant_rules(rules: ProgramRules, kind: str | None = None) -> ParticipantRules:
    """The rules for a participant of ``kind`` (None: the default kind)."""
    key = kind_of(rules, kind)
    own = rules.participants.get(key) or ParticipantKind(
        name_zh="服务基地", name_en="navigation base"
    )
    shared = [t for t in rules.targets if t.level == "participant"]
    return ParticipantRules(
        kind=key,
        name_zh=own.name_zh,
        name_en=own.name_en,
        eligibility=own.eligibility or rules.eligibility,
        rubric=own.rubric or rules.rubric,
        targets=shared + list(own.targets),
        chain=own.chain
        if own.chain is not None
        else [ChainStep(level=step) for step in rules.verification],
    )


def standing_kind(rules: ProgramRules, kind: str | None) -> str:
    """The kind a registered base stands under: its own, or the program's first when the
    program no longer declares it (the cycle opens under it, and the pages show its rules)."""
    try:
        return kind_of(rules, kind)
    except UnknownKind:
        return kinds(rules)[0]


def kind_rubric(rules: ProgramRules, kind: str | None) -> RubricRules:
    """The rubric a registered base of ``kind`` is scored on (:func:`standing_kind`)."""
    return participant_rules(rules, standing_kind(rules, kind)).rubric


def pinned_rules(rules: ProgramRules, kind: str | None = None) -> ProgramRules:
    """The rules a participant's cycle pins: the program's, with its kind's eligibility and
    rubric, and the kind's targets beside the program's. A chain of city and province verify
    steps becomes the pinned ``verification``; a chain with a national or aggregation step keeps
    the program's, and the cycle is given the chain itself (:func:`kind_chain`). A program
    without kinds: its rules, unchanged."""
    if not rules.participants:
        return rules
    own = participant_rules(rules, kind)
    document = rules.model_dump(mode="json", by_alias=True)
    document["participants"] = {}
    document["eligibility"] = own.eligibility.model_dump(mode="json", by_alias=True)
    document["rubric"] = own.rubric.model_dump(mode="json", by_alias=True)
    document["targets"] += [t.model_dump(mode="json") for t in rules.participants[own.kind].targets]
    if all(s.kind == "verify" and s.level != "national" for s in own.chain):
        document["verification"] = [s.level for s in own.chain]
    return ProgramRules.model_validate(document)


def kind_chain(rules: ProgramRules, kind: str | None = None) -> list[ChainStep] | None:
    """The chain a cycle of ``kind`` runs in place of its pinned ``verification``: the kind's,
    when it has a national or an aggregation step (which ``verification`` cannot say); None
    otherwise, so that cycles of every other program open as before."""
    if not rules.participants:
        return None
    chain = participant_rules(rules, kind).chain
    if all(s.kind == "verify" and s.level != "national" for s in chain):
        return None
    return list(chain)
