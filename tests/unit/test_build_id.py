"""The worker's build id: the package version and a hash of the code the workflows run."""

from __future__ import annotations

import re
from pathlib import Path

from workflows.build import build_id, deployment_config, package_version, source_hash


def test_the_build_id_is_the_version_and_a_source_hash() -> None:
    assert re.fullmatch(re.escape(package_version()) + r"-[0-9a-f]{12}", build_id())
    config = deployment_config()
    assert config.version.build_id == build_id() and config.version.deployment_name == "navcycle"
    assert config.use_worker_versioning is False


def test_the_hash_changes_with_any_workflow_source_and_only_with_them(tmp_path: Path) -> None:
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "cycle.py").write_text("x = 1\n")
    (tmp_path / "workflows" / "README.md").write_text("notes\n")
    before = source_hash(tmp_path, ("workflows",))
    (tmp_path / "workflows" / "README.md").write_text("other notes\n")
    assert source_hash(tmp_path, ("workflows",)) == before
    (tmp_path / "workflows" / "cycle.py").write_text("x = 2\n")
    changed = source_hash(tmp_path, ("workflows",))
    assert changed != before
    (tmp_path / "workflows" / "cycle.py").rename(tmp_path / "workflows" / "cycle2.py")
    assert source_hash(tmp_path, ("workflows",)) not in (before, changed)
