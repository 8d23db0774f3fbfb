from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"
CORPUS = FIXTURES / "corpus"
ALL_DAY_FILES = sorted(SEEDS.iterdir()) + sorted(CORPUS.iterdir())


@pytest.fixture
def chdir_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder so no newsletter.toml or pyproject.toml is picked up."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
