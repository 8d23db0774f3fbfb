"""Regenerate the golden output tree: ``python tests/golden.py``.

The suite builds tests/fixtures/seeds/ the same way and compares every file
byte for byte with tests/golden/out/, so a change in what the tool writes shows
up as a reviewable diff of this folder.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).parent
GOLDEN = HERE / "golden" / "out"

if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    from conftest import build_into

    shutil.rmtree(GOLDEN, ignore_errors=True)
    build_into(GOLDEN)
    print(f"wrote {sum(1 for p in GOLDEN.rglob('*') if p.is_file())} files to {GOLDEN}")
