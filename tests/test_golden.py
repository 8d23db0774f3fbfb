"""The seeds build exactly into tests/golden/out/ (regenerate: python tests/golden.py)."""

from __future__ import annotations

from pathlib import Path

from golden import GOLDEN


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_seeds_build_matches_golden(seeds_out: Path) -> None:
    built, golden = tree(seeds_out), tree(GOLDEN)
    assert sorted(built) == sorted(golden)
    changed = [name for name in golden if built[name] != golden[name]]
    assert changed == [], "run `python tests/golden.py` and review the diff if this is intended"
