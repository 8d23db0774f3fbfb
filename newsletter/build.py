"""The pipeline: read everything, check it, render everything in memory, then write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .archive import Archive, read_archive
from .config import Config
from .editions import make_editions
from .errors import InputError
from .feeds import render_feeds
from .write import WriteStats, write_tree


@dataclass(frozen=True)
class BuildResult:
    archive: Archive
    stats: WriteStats


def render(archive: Archive, config: Config) -> dict[str, bytes]:
    """Every output file of the archive, by path relative to ``out/``."""
    editions = make_editions(archive.digests)
    return render_feeds(editions, config)


def build(config: Config, *, seeds: str, out: str, strict: bool = False) -> BuildResult:
    archive = read_archive(seeds)
    errors, warnings = archive.count("error"), archive.count("warning")
    if strict and (errors or warnings):
        raise InputError(f"{errors} errors, {warnings} warnings with --strict; nothing written")
    if not archive.digests:
        raise InputError("no digest to build", file=seeds)
    stats = write_tree(Path(out), render(archive, config))
    return BuildResult(archive, stats)
