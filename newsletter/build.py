"""The pipeline: read everything, check it, render everything in memory, then write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .archive import Archive, read_archive
from .config import Config
from .editions import make_editions
from .errors import InputError
from .feeds import render_feeds
from .mail import render_mail
from .site import render_site
from .write import WriteStats, write_tree


@dataclass(frozen=True)
class BuildResult:
    archive: Archive
    stats: WriteStats
    notes: tuple[str, ...]


def render(archive: Archive, config: Config) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """Every output file of the archive by path relative to ``out/``, and notes for the user."""
    editions = make_editions(archive.digests)
    files = render_feeds(editions, config)
    files.update(render_site(editions, config))
    mail = render_mail(editions, config)
    files.update(mail.files)
    return files, mail.notes


def build(config: Config, *, seeds: str, out: str, strict: bool = False) -> BuildResult:
    archive = read_archive(seeds)
    errors, warnings = archive.count("error"), archive.count("warning")
    if strict and (errors or warnings):
        raise InputError(f"{errors} errors, {warnings} warnings with --strict; nothing written")
    if not archive.digests:
        raise InputError("no digest to build", file=seeds)
    files, notes = render(archive, config)
    stats = write_tree(Path(out), files)
    return BuildResult(archive, stats, notes)
