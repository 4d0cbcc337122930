"""The navcycle command line: every command's help is in Chinese and English, its tables line up
Chinese text by terminal columns, and its progress bars stay off a stderr that is no terminal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from rich.cells import cell_len
from typer.testing import CliRunner

from services.cli.main import app, run
from services.cli.progress import Bars
from services.gateway.identity.user_table import HEADERS
from shared.text_table import text_table

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]{3,}")
# Typer's own options (completion, help) keep their English.
BUILT_IN = {"install_completion", "show_completion", "help"}


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def _flat(text: str) -> str:
    """Help as one line of words: rich's panel borders and line breaks removed."""
    return " ".join(text.replace("│", " ").split())


def test_the_command_tree_is_todays() -> None:
    assert sorted(" ".join(path) for path, _ in COMMANDS if path) == sorted(
        [
            "up", "serve", "replay", "events", "demo", "reset", "whatif",
            "user", "user add", "user revoke", "user rotate", "user list", "user link",
            "program", "program apply", "calendar", "calendar apply", "calendar show",
            "dashboard", "dashboard rebuild", "base", "base reinstate",
            "experts", "experts reassign", "notices", "notices resend",
        ]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(path) or "navcycle" for path, _ in COMMANDS]
)
def test_every_commands_help_is_in_chinese_and_english(path: tuple[str, ...], command: Any) -> None:
    done = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "400"})
    assert done.exit_code == 0, done.output
    shown = _flat(done.output)
    assert command.help and CHINESE.search(command.help) and ENGLISH.search(command.help)
    assert _flat(command.help) in shown
    for param in command.params:
        if param.name in BUILT_IN or not getattr(param, "help", None):
            continue
        assert CHINESE.search(param.help) and ENGLISH.search(param.help), (path, param.name)


def test_shell_completion_is_offered() -> None:
    done = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "400"})
    assert "--install-completion" in done.output and "--show-completion" in done.output


def test_a_usage_error_exits_2_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["notices", "resend"]) == 2
    assert "--all-dead" in capsys.readouterr().err
    assert run(["events", "sideways"]) == 2
    assert run(["demo", "--preset", "demo-fast", "--program", "sim-x"]) == 2


def test_a_table_with_chinese_names_is_aligned_by_terminal_columns() -> None:
    rows = [
        ("郑州生物医药 zz-biomed", "88.5"),
        ("ha", "72.0"),
        ("内蒙古稀土 im", "90.0"),
        ("洛阳·轴承 ly", "61.5"),
    ]
    lines = text_table(["基地 base", "得分"], rows).splitlines()
    assert len(lines) == 2 + len(rows)  # headers, their rule, the rows
    assert len({cell_len(line) for line in lines}) == 1, lines
    # the second column starts at one terminal column on every line
    starts = {
        cell_len(line[: line.index(score)])
        for line, (_, score) in zip(lines[2:], rows, strict=True)
    }
    assert starts == {cell_len(lines[0][: lines[0].index("得分")])}


def test_the_user_list_headers_line_up_with_its_rows() -> None:
    row = ("张三", "expert", "program=demo", "2027年5月30日10时", "从未 never", "否 no")
    header, line = text_table(HEADERS, [row], rule=False).splitlines()
    for title, cell in zip(HEADERS, row, strict=True):
        assert cell_len(header[: header.index(title)]) == cell_len(line[: line.index(cell)])


def test_progress_bars_stay_off_a_stderr_that_is_no_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Bars() as bars:
        bars.update("events", 500, 1000)
        bars.update("events", 1000, 1000)
    assert capsys.readouterr() == ("", "")


def test_every_process_serve_names_has_a_serve_function() -> None:
    import importlib
    from typing import get_args

    from services.cli.main import _PROCESSES, Process
    from services.cli.stack import SERVICES

    assert list(get_args(Process)) == list(_PROCESSES) == SERVICES
    for module in _PROCESSES.values():
        assert callable(importlib.import_module(module).serve), module
