"""The pipeline: read and check everything, render what changed, swap it in.

The archive is read as outlines (see ``archive``); output is planned as units
(see ``plan``), each with a hash of everything it depends on. With a cache, a
unit whose hash and files are unchanged since the last build is carried over
without rendering; the others render on every core, straight into a staging
folder that replaces ``out/`` in one step when all is done.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from pathlib import Path

from . import __version__
from .archive import Archive, Source, read_archive, read_sources
from .cache import Cache, State, digest
from .config import Config
from .editions import Editions, make_editions
from .errors import InputError, Problem, Severity
from .inline import InlineFunction
from .mail import specimen_inliner
from .plan import Renderer, Unit, plan
from .render import template_digest
from .workers import Progress, in_background, run_jobs
from .write import Staging, WriteStats, staged


@dataclass(frozen=True)
class BuildResult:
    files: int
    papers: int
    days: int
    newest: str
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    stats: WriteStats
    rendered: int
    reused: int
    new_edition: bool  # the newest day's email differs from the one out/ had

    def count(self, severity: Severity) -> int:
        return sum(1 for p in self.problems if p.severity == severity)

    def summary(self) -> dict[str, object]:
        """What a later build that finds nothing changed reports again."""
        problems = [[p.file, p.line, p.severity, p.message] for p in self.problems]
        return {
            "files": self.files,
            "papers": self.papers,
            "days": self.days,
            "newest": self.newest,
            "problems": problems,
            "notes": list(self.notes),
        }


def _unchanged(state: State, target: Path, fingerprint: str) -> BuildResult | None:
    """The last build's result, if it was made from the same input and out/ is untouched."""
    last = state.summary
    if not last or state.inputs != fingerprint:
        return None
    if not all(state.intact(target, path) for path in state.stamps):
        return None
    problems = tuple(
        Problem(f, line, severity, message) for f, line, severity, message in last["problems"]
    )
    paths = len(state.stamps)
    return BuildResult(
        last["files"],
        last["papers"],
        last["days"],
        last["newest"],
        problems,
        tuple(last["notes"]),
        WriteStats(0, paths, 0),
        0,
        len(state.units),
        False,
    )


def _unit_key(unit: Unit, salt: str) -> str:
    return digest(salt, unit.name, *unit.material)


def _newest_email(out: Path) -> bytes | None:
    try:
        return (out / "email" / "latest.eml").read_bytes()
    except OSError:
        return None


@contextmanager
def _collector_spared() -> Iterator[Callable[[], None]]:
    """Loading the archive makes objects by the hundred thousand (a mention a paper) that live
    to the end and form no cycles; the cyclic collector would walk them all, again and again,
    as they grow. So it is off while they are made; the function this yields, called once
    they are, freezes them out of its walks until the block ends, which also spares forked
    workers from copying their pages."""

    def loaded() -> None:
        gc.freeze()
        gc.enable()

    gc.disable()
    try:
        yield loaded
    finally:
        gc.enable()
        gc.unfreeze()


@contextmanager
def _inliner(
    config: Config, cache: Cache, given: InlineFunction | None
) -> Iterator[Callable[[], InlineFunction]]:
    """The email inliner, as a function called when an email is first rendered. Unless the
    cache has it, premailer learns the stylesheet in a process of its own (see
    ``inline``), alongside the reading of the archive, which needs the other cores."""
    if given is not None:
        yield lambda: given
        return
    key = digest(__version__, template_digest(), config)
    if (known := cache.recall("inliner", key)) is not None:
        yield lambda: known
        return
    with in_background(partial(specimen_inliner, config)) as learned:
        yield lambda: cache.remember("inliner", key, learned())


def _load(
    seeds: str, cache: Cache, sources: list[Source], strict: bool
) -> tuple[Archive, Editions]:
    archive = read_archive(seeds, cache, sources)
    editions = make_editions(archive)
    errors, warnings = archive.count("error"), archive.count("warning")
    if strict and (errors or warnings):
        message = f"{errors} errors, {warnings} warnings with --strict; nothing written"
        raise InputError(message, problems=archive.problems)
    if not archive.days:
        raise InputError("no digest to build", file=seeds, problems=archive.problems)
    return archive, editions


Rendering = tuple[list[str], list[str], int]  # one unit's files, notes, files written


def _render_into(staging: Staging, units: list[Unit]) -> list[Rendering]:
    """Render units and stage their files as each is done."""
    results = []
    for unit in units:
        files, notes = unit.render()
        written = sum(staging.put(path, data) for path, data in files.items())
        results.append((sorted(files), list(notes), written))
    return results


Record = dict[str, dict[str, list[str]]]  # unit key -> the files it wrote and its notes


def _write(
    target: Path, units: dict[str, Unit], reused: Record, progress: Progress | None
) -> tuple[Record, WriteStats]:
    """Render the units not reused into a staging folder, link the reused, swap it in."""
    todo = [unit for key, unit in units.items() if key not in reused]
    groups = [list(group) for _, group in groupby(todo, key=lambda unit: unit.group or unit.name)]
    with staged(target) as staging:
        for previous in reused.values():
            for path in previous["files"]:
                staging.keep(path)
        jobs = run_jobs(len(groups), lambda i: _render_into(staging, groups[i]), progress)
        rendered = (result for job in jobs for result in job)
        done: Record = {}
        written = 0
        for key in units:
            if key in reused:
                done[key] = reused[key]
                continue
            files, notes, count = next(rendered)
            done[key] = {"files": files, "notes": notes}
            written += count
        paths = {path for unit in done.values() for path in unit["files"]}
        return done, staging.commit(paths, written)


def build(
    config: Config,
    *,
    seeds: str,
    out: str,
    strict: bool = False,
    cache_dir: str | None = None,
    inline: InlineFunction | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    cache = Cache(Path(cache_dir) if cache_dir else None)
    target = Path(out)
    state = cache.state(target) if inline is None else State()
    salt = digest(__version__, template_digest(), config, strict)
    sources = read_sources(seeds)
    fingerprint = digest(salt, *sources)
    if (unchanged := _unchanged(state, target, fingerprint)) is not None:
        return unchanged
    with _inliner(config, cache, inline) as learn_inliner, _collector_spared() as loaded:
        archive, editions = _load(seeds, cache, sources, strict)
        loaded()
        renderer = Renderer(editions, config, learn_inliner)
        units = {_unit_key(unit, salt): unit for unit in plan(editions, renderer)}
        reused = {
            key: previous
            for key in units
            if (previous := state.units.get(key))
            and all(state.intact(target, path) for path in previous["files"])
        }
        if any(unit.mail for key, unit in units.items() if key not in reused):
            renderer.inline  # noqa: B018 (built once here, not once in every worker)
        before = _newest_email(target)
        done, stats = _write(target, units, reused, progress)
    result = BuildResult(
        archive.files,
        archive.papers,
        len(archive.days),
        archive.days[-1].key,
        archive.problems,
        tuple(note for unit in done.values() for note in unit["notes"]),
        stats,
        len(units) - len(reused),
        len(reused),
        before is None or before != _newest_email(target),
    )
    cache.save(target, done, inputs=fingerprint, summary=result.summary())
    return result
