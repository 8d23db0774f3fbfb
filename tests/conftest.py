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


SITE = "https://papers.example.org/ko/"


def build_into(out: Path, seeds: Path = SEEDS, **settings: object) -> Path:
    """Build ``seeds`` into ``out`` with a published site URL, as a user's cron job would."""
    from newsletter.build import build
    from newsletter.config import Config

    build(Config(site_url=SITE, **settings), seeds=str(seeds), out=str(out))  # type: ignore[arg-type]
    return out


@pytest.fixture(scope="session")
def seeds_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_into(tmp_path_factory.mktemp("seeds") / "out")


@pytest.fixture(scope="session")
def corpus_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_into(tmp_path_factory.mktemp("corpus") / "out", CORPUS)
