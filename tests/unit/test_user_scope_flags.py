"""`navcycle user add` refuses scope flags a role does not use, before anything is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli.main import main


@pytest.mark.parametrize(
    ("role", "flags", "named"),
    [
        ("city_officer", ["--region", "410100", "--base", "zz-biomed"], "--base"),
        ("province_admin", ["--program", "p", "--region", "410000"], "--region"),
        ("expert", ["--program", "p", "--documents"], "--documents"),
        ("base_user", ["--program", "p", "--base", "b", "--region", "410100"], "--region"),
        ("viewer", ["--program", "p", "--base", "b"], "--base"),
    ],
)
def test_a_scope_flag_the_role_does_not_use_is_refused_with_exit_2(
    role: str,
    flags: list[str],
    named: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    database = tmp_path / "gateway.db"
    monkeypatch.setenv("NAVCYCLE_DATABASE_URL", f"sqlite:///{database}")
    code = main(["user", "add", "--name", "someone", "--role", role, *flags])
    err = capsys.readouterr().err
    assert code == 2
    assert f"a {role} does not use {named}" in err and "不使用" in err
    assert not database.exists()  # refused before the user table was even opened
