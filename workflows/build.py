"""Which build of the workflow code a worker runs.

The build id is the package version and a hash of the code that runs inside the workflow
sandbox (``workflows/`` and ``shared/``), so two workers with the same id replay the same
histories the same way. The worker logs it at start and sends it to the server as its worker
deployment version, with worker versioning left off: the server records which build completed
each workflow task, and routes nothing by it (see workflows/README.md).
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from temporalio.common import WorkerDeploymentVersion
from temporalio.worker import WorkerDeploymentConfig

DEPLOYMENT = "navcycle"
_ROOT = Path(__file__).resolve().parent.parent
_SOURCES = ("workflows", "shared")


def package_version() -> str:
    try:
        return version("navcycle")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


def source_hash(root: Path = _ROOT, folders: tuple[str, ...] = _SOURCES) -> str:
    """sha256 over every ``.py`` file under ``folders``, by path and content, in path order."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


@cache
def build_id() -> str:
    """``<version>-<hash>``, e.g. ``0.1.0-3f2a9c1b7d04``."""
    return f"{package_version()}-{source_hash()}"


def deployment_config() -> WorkerDeploymentConfig:
    """The build named to the server, without opting into versioned routing: running cycles
    go on to whichever worker polls the task queue, as they always have."""
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(deployment_name=DEPLOYMENT, build_id=build_id()),
        use_worker_versioning=False,
    )
