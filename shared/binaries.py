"""Where the pip-installed server binaries live (next to this interpreter, or on PATH)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


class BinaryMissing(RuntimeError):
    pass


def find_binary(name: str) -> str:
    here = Path(sys.executable).parent
    found = shutil.which(name, path=str(here)) or shutil.which(name)
    if not found:
        raise BinaryMissing(
            f"{name} not found next to {sys.executable} or on PATH; run make install"
        )
    return found
