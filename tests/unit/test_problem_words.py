"""Every problem code the API can answer has words a person acts on, in Chinese and English
(``services/gateway/portal/problem_words.py``), and the portal's script fills them in.

The codes are found in the sources, not listed by hand: every refusal the gateway, the services
(over RPC) and the workflows (through ``temporal_errors``) construct with a literal code, the
registries (``problems.TITLES``, ``shared.domain.errors.CODES``, the documented codes of
``problem_docs.MEANINGS``) and the codes the portal's script makes up itself. A refusal whose
code is not a literal is listed in :data:`PASSED_ON` with where its codes come from, so a new
kind of refusal fails here until someone has looked at it.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from services.gateway import problems
from services.gateway.portal import problem_words as pw
from services.gateway.problem_docs import MEANINGS
from services.gateway.temporal_errors import HTTP_STATUS
from shared.domain import errors
from shared.domain.stages import Stage

ROOT = Path(__file__).resolve().parents[2]
PORTAL_JS = ROOT / "services" / "gateway" / "portal" / "static" / "portal.js"
SCANNED = ("services", "shared", "workflows")
NOT_THE_API = ("services/cli/", "services/sim/")  # people at a terminal, the simulator

# The constructors of a refusal and the position of their code argument.
REFUSALS = {
    "ApiError": 1,
    "problem": 1,
    "RpcError": 0,
    "TokenRefused": 0,
    "LinkRefused": 0,
    "Refusal": 0,  # shared/domain/base_status.py, raised as an RpcError by the registry
    "rejected": 0,  # workflows/errors.py: an update's refusal, read by temporal_errors
}
CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")

# A refusal whose code is not a literal where it is made: (file, the code's expression) and
# the codes it can carry beyond those found as literals elsewhere (these are checked too).
PASSED_ON: dict[tuple[str, str], frozenset[str]] = {
    # a TokenRefused (literal codes, scanned), as a 401
    ("services/gateway/auth.py", "refused.code"): frozenset(),
    # a service's RpcError (literal codes, scanned), keeping its code
    ("services/gateway/auth.py", "exc.code"): frozenset(),
    # an ApiError (scanned) as a problem, by the exception handler and the upload gate
    ("services/gateway/problems.py", "exc.code"): frozenset(),
    ("services/gateway/upload_gate.py", "exc.code"): frozenset(),
    # Starlette's own HTTP errors: the codes named in the handler (see NAMED_IN_HANDLER)
    ("services/gateway/problems.py", "code"): frozenset(),
    # the filing pre-check: what admission_time and filing_refusal answer
    ("services/gateway/routes/cycles.py", "code"): frozenset(
        {errors.DEADLINE_PASSED, errors.DUPLICATE_FILING, errors.WRONG_STAGE, errors.CLOCK_SKEW}
    ),
    # a workflow's refusal: the codes temporal_errors maps to a status
    ("services/gateway/temporal_errors.py", "cause.type"): frozenset(HTTP_STATUS),
    # a base status Refusal (literal codes, scanned) raised by the registry
    ("services/registry/status.py", "code"): frozenset(),
    # an RPC reply's refusal, as the service sent it
    ("shared/rpc.py", "err.pop('code', headers[ERROR_HEADER])"): frozenset(),
    # actor_refusal, admission_time, filing_refusal: codes of shared.domain.errors
    ("workflows/cycle.py", "*refusal"): frozenset(errors.CODES),
    ("workflows/cycle.py", "*at.refusal"): frozenset(errors.CODES),
}

# Sites whose codes are the code-like literals of the function around them.
NAMED_IN_HANDLER = {("services/gateway/problems.py", "code")}

# Functions that add fields to a refusal made elsewhere (``exc.extra["x"] = ...``), and the
# codes of the refusals they see.
ADDS_FIELDS: dict[tuple[str, str], frozenset[str]] = {
    # a filing refused by the cycle: which filing, and a missed deadline in words
    ("services/gateway/routes/cycles.py", "_with_deadline"): frozenset(HTTP_STATUS),
}


@dataclass
class Found:
    """The codes a refusal is made with, the fields each carries, and the non-literal sites."""

    fields: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    passed_on: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    adds_fields: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    @property
    def codes(self) -> set[str]:
        return set(self.fields)


def _module_strings(tree: ast.Module) -> dict[str, str]:
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _enclosing(node: ast.AST, parents: dict[ast.AST, ast.AST], kinds: tuple[type, ...]) -> Any:
    while node in parents:
        node = parents[node]
        if isinstance(node, kinds):
            return node
    return None


def _spread_keys(call: ast.Call, function: ast.AST | None) -> set[str]:
    """The keys of ``**name`` in ``call``: from ``name = {...}`` and ``name["key"] = ...``."""
    names = {k.value.id for k in call.keywords if k.arg is None and isinstance(k.value, ast.Name)}
    keys: set[str] = set()
    for node in ast.walk(function) if function is not None else []:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in names for t in targets):
                keys |= {str(k.value) for k in node.value.keys if isinstance(k, ast.Constant)}
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id in names:
                if isinstance(node.slice, ast.Constant):
                    keys.add(str(node.slice.value))
    return keys


def _added_keys(function: ast.AST) -> set[str]:
    """Keys a function puts in a refusal's ``extra``: ``x.extra["k"] = ...``,
    ``x.extra.setdefault("k", ...)``."""
    keys: set[str] = set()
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "extra"
            and isinstance(node.slice, ast.Constant)
        ):
            keys.add(str(node.slice.value))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setdefault"
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "extra"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            keys.add(str(node.args[0].value))
    return keys


def _constants(function: ast.AST | None) -> set[str]:
    """The code-like string literals of a function (a handler naming its codes in a dict)."""
    return {
        node.value
        for node in (ast.walk(function) if function is not None else [])
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and CODE.fullmatch(node.value)
    }


def _code_of(arg: ast.expr, strings: dict[str, str]) -> str | None:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.Name) and arg.id in strings:
        return strings[arg.id]
    if (
        isinstance(arg, ast.Attribute)
        and isinstance(arg.value, ast.Name)
        and arg.value.id == "errors"
        and isinstance(getattr(errors, arg.attr, None), str)
    ):
        return str(getattr(errors, arg.attr))
    return None


def scan(root: Path = ROOT) -> Found:
    found = Found()
    for top in SCANNED:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(NOT_THE_API):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            strings, parents = _module_strings(tree), _parents(tree)
            functions = (ast.FunctionDef, ast.AsyncFunctionDef)
            for function in (n for n in ast.walk(tree) if isinstance(n, functions)):
                if rel.startswith("services/gateway/") and (added := _added_keys(function)):
                    found.adds_fields[(rel, function.name)] = added
            for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
                func = call.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == "__init__":  # super().__init__(code, ...) of a refusal's subclass
                    cls = _enclosing(call, parents, (ast.ClassDef,))
                    bases = [getattr(b, "id", "") for b in cls.bases] if cls else []
                    name = next((b for b in bases if b in REFUSALS), "")
                at = REFUSALS.get(name)
                if name == "_parse" and rel == "services/gateway/routes/cycles.py":
                    at = 2  # _parse(adapter, raw, code, what): a 422 with the caller's code
                if at is None:
                    continue
                arg = call.args[at] if len(call.args) > at else None
                arg = arg or next((k.value for k in call.keywords if k.arg == "code"), None)
                if arg is None:
                    continue
                function = _enclosing(call, parents, functions)
                carried = {k.arg for k in call.keywords if k.arg and k.arg != "code"}
                carried |= _spread_keys(call, function)
                code = _code_of(arg, strings)
                if code is not None:
                    found.fields[code] |= carried
                    continue
                site = (rel, ast.unparse(arg))
                codes = set(PASSED_ON.get(site, frozenset()))
                if site in NAMED_IN_HANDLER:
                    codes |= _constants(function)
                found.passed_on[site] = codes
                for code in codes:
                    found.fields[code] |= carried
    for site, added in found.adds_fields.items():
        for code in ADDS_FIELDS.get(site, frozenset()):
            found.fields[code] |= added
    return found


def documented_codes() -> set[str]:
    """The codes the OpenAPI document names for each status (``problem_docs.MEANINGS``)."""
    named = set()
    for meaning in MEANINGS.values():
        for group in re.findall(r"\(([^)]*)\)", meaning):
            named |= {c.strip() for c in group.split(",") if CODE.fullmatch(c.strip())}
    return named


def script_codes() -> set[str]:
    """The codes portal.js makes up itself (a network failure, a body that is not JSON)."""
    made = re.findall(r"code:([^,}]*)", PORTAL_JS.read_text(encoding="utf-8"))
    return {code for value in made for code in re.findall(r'"([a-z_]+)"', value)}


FOUND = scan()
ALL_CODES = (
    FOUND.codes
    | set(problems.TITLES)
    | set(errors.CODES)
    | set(HTTP_STATUS)
    | documented_codes()
    | script_codes()
)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
PLACEHOLDER = re.compile(r"\{(\w*)\}")
ENGLISH_MAY_KEEP = ("公示",)  # the term itself, glossed beside it


def test_the_scan_finds_the_refusals_it_must() -> None:
    """The control: literal codes of each kind of site, and the non-literal sites, are found."""
    expected = {
        "unauthenticated",  # ApiError in auth.py
        "body_too_large",  # problem() in limits.py
        "roster_too_short",  # ApiError with fields
        "domain_taken",  # RpcError in the registry
        "review_decided",  # RpcError in assessment
        "token_expired",  # TokenRefused
        "not_delisted",  # Refusal(NOT_DELISTED, ...) through a module constant
        "service_unavailable",  # ServiceUnavailable's super().__init__
        "invalid_targets",  # _parse(..., "invalid_targets", ...)
        "not_in_publication",  # rejected(errors.NOT_IN_PUBLICATION, ...)
        "method_not_allowed",  # Starlette's 405, named in problems.py's handler
        "deadline_passed",  # through the filing pre-check
    }
    assert expected <= FOUND.codes
    assert FOUND.fields["roster_too_short"] >= {"needed", "size"}
    assert FOUND.fields["deadline_passed"] >= {"stage", "filing", "deadline", "deadline_words"}
    assert FOUND.fields["invalid_scores"] >= {"problems"}
    assert {"token_revoked", "forbidden"} <= documented_codes()
    assert {"internal_error", "bad_request", "service_unavailable"} <= script_codes()


def test_every_non_literal_refusal_is_accounted_for() -> None:
    unknown = sorted(set(FOUND.passed_on) - set(PASSED_ON))
    assert not unknown, (
        f"refusals whose code is not a literal: {unknown}. Say in PASSED_ON where their codes"
        " come from, and give those codes words in problem_words.py"
    )


def test_every_function_adding_fields_to_a_refusal_is_accounted_for() -> None:
    unknown = sorted(set(FOUND.adds_fields) - set(ADDS_FIELDS))
    assert not unknown, (
        f"functions adding fields to a refusal: {unknown}. Say in ADDS_FIELDS which codes"
        " they see, so their fields may be placeholders"
    )


def test_every_code_the_api_can_answer_has_words() -> None:
    missing = sorted(ALL_CODES - set(pw.PROBLEM_WORDS))
    assert not missing, f"problem codes without words in problem_words.py: {missing}"


@pytest.mark.parametrize("table", ["PROBLEM_WORDS", "DETAILED_WORDS"])
def test_each_text_is_chinese_first_then_english_and_says_what_to_do(table: str) -> None:
    for code, (zh, en) in getattr(pw, table).items():
        assert zh.strip() and en.strip(), code
        assert CJK.search(zh) and zh.endswith("。"), (code, zh)
        assert len(CJK.findall(zh)) >= len(zh) // 3, (code, zh)  # Chinese, not English
        bare = en
        for term in ENGLISH_MAY_KEEP:
            bare = bare.replace(term, "")
        assert not CJK.search(bare), (code, en)
        assert re.search(r"[A-Za-z]{3,}", en) and en.endswith("."), (code, en)
        assert re.search(r"请|无需|不能|不再", zh), (code, zh)  # what to do next (or not)


def test_a_detailed_text_has_a_plain_one_and_the_same_placeholders_in_both_languages() -> None:
    assert set(pw.DETAILED_WORDS) <= set(pw.PROBLEM_WORDS)
    for code, (zh, en) in pw.PROBLEM_WORDS.items():
        assert not PLACEHOLDER.search(zh + en), (code, "a plain text has no placeholder")
        assert "{" not in zh + en and "}" not in zh + en, code
    for code, (zh, en) in pw.DETAILED_WORDS.items():
        names = set(PLACEHOLDER.findall(zh))
        assert names and names == set(PLACEHOLDER.findall(en)), code
        assert all(names), (code, "an empty {} placeholder")


def test_each_placeholder_is_a_field_the_code_s_problem_carries() -> None:
    """``{x}`` is filled from the problem's ``x`` or ``x_words``: some refusal with that code
    must send it, else the detailed text could never be shown."""
    for code, (zh, _en) in pw.DETAILED_WORDS.items():
        carried = FOUND.fields.get(code, set())
        for name in PLACEHOLDER.findall(zh):
            assert name in carried or f"{name}_words" in carried, (code, name, sorted(carried))


def test_value_words_name_every_value() -> None:
    assert set(pw.VALUE_WORDS["stage"]) == {stage.value for stage in Stage}
    assert set(pw.VALUE_WORDS["filing"]) == {"plan", "self_evaluation", "rectification"}
    for named in pw.VALUE_WORDS.values():
        for zh, en in named.values():
            assert CJK.search(zh) and en and not CJK.search(en), (zh, en)


def test_the_page_gets_the_texts_of_its_language() -> None:
    zh, en = pw.problem_words("zh"), pw.problem_words("en")
    assert zh["codes"]["deadline_passed"] == [
        pw.DETAILED_WORDS["deadline_passed"][0],
        pw.PROBLEM_WORDS["deadline_passed"][0],
    ]
    assert en["codes"]["forbidden"] == [pw.PROBLEM_WORDS["forbidden"][1]]
    assert zh["values"]["stage"]["plan_filing"] == "实施方案备案"
    assert en["values"]["filing"]["plan"] == "plan"
    assert zh["formats"] == {"limit": "bytes"}
    json.dumps(zh, ensure_ascii=False)  # what render.page embeds


# ------------------------------------------------------------------ portal.js, run by node

NODE = shutil.which("node")

# portal.js in node with just enough of a page: a form whose error slot is the whole message.
HARNESS = """
const fs = require("fs");
const [script, lang, tableJson, problemJson] = process.argv.slice(1);
const alert = { textContent: "", appendChild(c) { this.hint = c.textContent; }, focus() {} };
global.window = {};
global.CSS = { escape: (s) => s };
global.CustomEvent = class { constructor(type, init) { this.type = type; this.detail = init; } };
global.document = {
  body: { dataset: { lang } },
  getElementById: (id) => (id === "problem-words" ? { textContent: tableJson } : null),
  querySelector: () => null,
  addEventListener: () => {},
  createElement: () => ({}),
};
eval(fs.readFileSync(script, "utf8"));
const form = {
  querySelector: (sel) => (sel === "[data-form-error]" ? alert : null),
  dispatchEvent: () => {},
};
window.portal.showProblem(form, 409, JSON.parse(problemJson));
process.stdout.write(alert.textContent);
"""


def shown(lang: str, problem: dict[str, Any], page_table: str | None = None) -> str:
    """What portal.js puts in a form's error slot for ``problem`` on a page in ``lang`` (whose
    ``#problem-words`` is ``page_table``, else what render.page would embed)."""
    assert NODE is not None
    table = page_table or json.dumps(pw.problem_words(lang), ensure_ascii=False)  # type: ignore[arg-type]
    done = subprocess.run(
        [NODE, "-e", HARNESS, str(PORTAL_JS), lang, table, json.dumps(problem)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


@needs_node
def test_the_script_fills_the_placeholders_from_the_problem() -> None:
    late = {
        "code": "deadline_passed",
        "detail": "the plan deadline passed at 2027-04-01T16:00:00+00:00",
        "stage": "rectifying",
        "filing": "plan",
        "deadline": "2027-04-01T16:00:00+00:00",
        "deadline_words": {"zh": "2027年4月1日24时", "en": "end of 1 April 2027"},
    }
    assert shown("zh", late) == "方案提交已截止（2027年4月1日24时）。如需延期，请联系省知识产权局。"
    assert shown("en", late) == (
        "The plan deadline has passed (end of 1 April 2027). To ask for an extension, please"
        " contact the provincial IP office."
    )
    stage = {"code": "wrong_stage", "detail": "not now", "stage": "plan_review"}
    assert "「方案核实」" in shown("zh", stage)
    assert "“plan verification”" in shown("en", stage)
    size = {"code": "file_too_large", "detail": "too big", "limit": 50 * 1024 * 1024}
    assert "（50 MB）" in shown("zh", size)


@needs_node
def test_without_its_fields_the_plain_text_is_shown() -> None:
    """A refusal from the workflow's own check carries the stage only: no date is made up."""
    late = {"code": "deadline_passed", "detail": "the plan deadline passed", "stage": "x"}
    assert shown("zh", late) == pw.PROBLEM_WORDS["deadline_passed"][0]
    odd_stage = {"code": "wrong_stage", "detail": "not now", "stage": "no_such_stage"}
    assert shown("en", odd_stage) == pw.PROBLEM_WORDS["wrong_stage"][1]
    unknown = {"code": "no_such_code", "detail": "what the API said"}
    assert shown("en", unknown) == "what the API said"  # the API's own detail, as before
