"""docker-compose.yml: every navcycle setting it sets exists, every container has a
healthcheck, and no host port is published twice."""

from __future__ import annotations

from pathlib import Path

import yaml

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_navcycle_variables_match_the_settings_model() -> None:
    fields = {f"NAVCYCLE_{name.upper()}" for name in Settings.model_fields}
    for name, service in _compose()["services"].items():
        env = service.get("environment") or {}
        unknown = {k for k in env if k.startswith("NAVCYCLE_")} - fields
        assert not unknown, f"{name} sets unknown settings {unknown}"


def test_every_container_has_a_healthcheck() -> None:
    for name, service in _compose()["services"].items():
        assert "healthcheck" in service, f"{name} has no healthcheck"


def test_no_host_port_is_published_twice() -> None:
    seen: dict[str, str] = {}
    for name, service in _compose()["services"].items():
        for mapping in service.get("ports", []):
            host = str(mapping).split(":")[0]
            assert host not in seen, f"{name} and {seen[host]} both publish {host}"
            seen[host] = name


def test_env_example_names_only_real_settings() -> None:
    fields = {f"NAVCYCLE_{name.upper()}" for name in Settings.model_fields}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.lstrip("# ").strip()
        if line.startswith("NAVCYCLE_") and "=" in line:
            assert line.split("=")[0] in fields, line
