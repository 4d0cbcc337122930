"""The whiteboard, checked: who may import whom.

- ``shared/`` imports no service and no workflow module: it is what they share.
- A service imports no ``workflows`` module: it reaches the workflows through the names and
  contracts of ``shared/contracts`` only. ``services/cli`` and ``services/sim`` are operator
  tools that host the worker (they build it, replay histories, reset cycles, run simulated
  years): they may import ``workflows``.
- A service imports no other service's package; ``services/cli`` and ``services/sim`` compose
  services, and the top-level documentation modules (``services/docs.py``,
  ``services/asyncapi_doc.py``) describe them all, so they may.

Read from the source with ``ast`` (imports inside functions count too), without importing it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOSTS_THE_WORKER = frozenset({"cli", "sim"})  # services/<x> that may import workflows


def imported_modules(module: str, source: str) -> set[str]:
    """What ``source`` (the text of ``module``) imports, one name per import statement (``from
    a.b import c`` is ``a.b``; ``from a import b`` is ``a.b``), relative imports resolved."""
    found: set[str] = set()
    package = module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            if "." in prefix:
                found.add(prefix)
            else:
                found.update(f"{prefix}.{alias.name}".lstrip(".") for alias in node.names)
    return found


def _top(name: str, depth: int) -> tuple[str, ...]:
    return tuple(name.split(".")[:depth])


def violations(module: str, source: str) -> list[str]:
    """The imports of ``module`` the whiteboard forbids, as readable lines."""
    found = []
    parts = module.split(".")
    for imported in sorted(imported_modules(module, source)):
        head = imported.split(".")[0]
        if parts[0] == "shared" and head in ("services", "workflows"):
            found.append(f"{module} imports {imported}: shared/ imports no service or workflow")
        if parts[0] != "services" or len(parts) < 3:
            continue  # services/<module>.py: a tool over every service, checked below
        service = parts[1]
        if head == "workflows" and service not in HOSTS_THE_WORKER:
            found.append(
                f"{module} imports {imported}: a service reaches workflows only through"
                " shared/contracts"
            )
        other = _top(imported, 2)
        if (
            head == "services"
            and len(other) == 2
            and other[1] != service
            and service not in HOSTS_THE_WORKER
        ):
            found.append(f"{module} imports {imported}: a service imports no other service")
    return found


def _sources() -> list[tuple[str, Path]]:
    out = []
    for top in ("shared", "services"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            if "migrations" in rel.parts[:-1] and rel.parts[-2] == "versions":
                continue
            out.append((".".join(p for p in rel.parts if p != "__init__"), path))
    return out


def test_the_source_tree_keeps_the_whiteboard() -> None:
    found = [v for module, path in _sources() for v in violations(module, path.read_text())]
    assert found == []


def test_the_tree_checked_is_the_whole_tree() -> None:
    modules = {module for module, _ in _sources()}
    assert {"shared.migrations", "services.gateway.routes.cycles", "services.cli.main"} <= modules


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("shared.migrations", "from services.registry.tables import TABLES\n"),
        ("shared.contracts.cycle", "import workflows.cycle\n"),
        (
            "shared.starters",
            "def f():\n    from workflows.program_year import ProgramYearWorkflow\n",
        ),
        ("services.gateway.routes.cycles", "from workflows.cycle import AnnualCycleWorkflow\n"),
        ("services.gateway.year_view", "from workflows import search_attributes as sa\n"),
        ("services.registry.app", "from ...workflows import ids\n"),
        ("services.dashboard.app", "from services.registry import store\n"),
        ("services.notifier.app", "from ..filings.tables import DocumentRow\n"),
        ("services.gateway.routes.cycles", "import services.assessment.store\n"),
    ],
)
def test_an_added_forbidden_import_is_caught(module: str, source: str) -> None:
    assert len(violations(module, source)) == 1


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("shared.contracts.cycle", "from shared.domain.stages import Stage\n"),
        ("services.gateway.routes.cycles", "from shared.contracts import workflow_names\n"),
        ("services.gateway.routes.cycles", "from services.gateway.problems import ApiError\n"),
        ("services.gateway.routes.cycles", "from ..problems import ApiError\n"),
        ("services.cli.ops", "from workflows.replay import replay\n"),
        ("services.sim.virtual", "from services.registry.app import build_router\n"),
        ("services.docs", "from services.gateway.openapi_doc import openapi_json\n"),
    ],
)
def test_an_allowed_import_passes(module: str, source: str) -> None:
    assert violations(module, source) == []
