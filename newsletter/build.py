"""The pipeline: read and check everything, render what changed, swap it in.

Under one lock on ``out/``, held from reading the last build's state to saving
this one's: the input stage reads the archive (parsing only what changed since
the last build); every producer declares its outputs (see ``outputs``), each
keyed by a hash of the values it reads, the package's code, the templates and
the settings; outputs whose key and files are what the last build recorded are
kept, the others rendered on every core into a staging folder that replaces
``out/`` in one step. With nothing changed at all (the same code, templates,
settings, archive files by their stat, and ``out/`` files), the build stops
before importing anything that renders.
"""

from __future__ import annotations

import gc
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .archive import Archive, read_archive, unchanged_since
from .cache import Cache, digest, fingerprint
from .config import Config
from .errors import Changed, InputError, Problem, Severity
from .outputs import Context, Output
from .parallel import Progress
from .render import Theme
from .state import Index, Made, State, load_index, load_state, save, stamp
from .write import Claim, Staging, WriteStats, claimed, files, staged

PACKAGE = Path(__file__).parent
DAY_EMAIL = re.compile(r"^\d{4}-\d{2}-\d{2}\.eml$")
LOCK_WAIT = 60.0  # seconds a build waits for another one writing the same out/


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
    new_edition: bool  # the archive's newest day is newer than any out/ had

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

    @classmethod
    def again(cls, summary: Mapping[str, Any], paths: int) -> BuildResult:
        """The last build's result, for a build that found nothing to do; ValueError if the
        summary is not one."""
        try:
            problems = tuple(
                Problem(str(f), int(line) if line is not None else None, severity, str(message))
                for f, line, severity, message in summary["problems"]
                if severity in ("error", "warning")
            )
            notes = tuple(str(note) for note in summary["notes"])
            files, papers, days = (int(summary[key]) for key in ("files", "papers", "days"))
            newest = str(summary["newest"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("not a summary") from None
        stats = WriteStats(0, paths, 0)
        return cls(files, papers, days, newest, problems, notes, stats, 0, 0, False)


def code_digest() -> str:
    """A hash of the package's own code: a changed module changes every key."""
    sha = hashlib.sha256()
    for path in sorted(PACKAGE.glob("*.py")):
        sha.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()


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


def _check(archive: Archive, seeds: str, strict: bool) -> None:
    errors, warnings = archive.count("error"), archive.count("warning")
    if strict and (errors or warnings):
        message = f"{errors} errors, {warnings} warnings with --strict; nothing written"
        raise InputError(message, problems=archive.problems)
    if not archive.days:
        raise InputError("no digest to build", file=seeds, problems=archive.problems)


Done = tuple[str, tuple[str, ...], int]  # an output's name, its notes, files it wrote


def _render(ctx: Context, staging: Staging, outputs: list[Output]) -> list[Done]:
    """Render outputs and stage their files as each is done."""
    done = []
    for output in outputs:
        files, notes = output.render(ctx, *output.values)
        if set(files) != set(output.paths):
            raise AssertionError(f"{output.name} wrote {sorted(files)}, not {output.paths}")
        written = sum(staging.put(path, data) for path, data in files.items())
        done.append((output.name, notes, written))
    return done


def _key(salt: str, output: Output) -> str:
    """A hash of everything an output's files depend on."""
    render = output.render
    return fingerprint(salt, render.__module__, render.__qualname__, output.values)


def newest_edition(out: Path) -> str | None:
    """The newest day ``out/`` has an email of: read from out/ itself, so that neither a
    deleted cache nor a build killed after its swap can make an old edition new."""
    days = [p.name[:-4] for p in (out / "email").glob("*.eml") if DAY_EMAIL.match(p.name)]
    return max(days, default=None)


def build(
    config: Config,
    *,
    seeds: str,
    out: str,
    strict: bool = False,
    cache_dir: str | None = None,
    progress: Progress | None = None,
    theme: Theme | None = None,
    inline: Callable[[str], str] | None = None,
    wait: float = LOCK_WAIT,
    keep: Mapping[str, str] | None = None,
) -> BuildResult:
    """Build ``seeds`` into ``out``. ``inline`` runs premailer on each whole email instead
    of the learned inliner (the benchmark's baseline); ``keep`` names more paths out/ may
    not hold (the settings file)."""
    cache = Cache(Path(cache_dir) if cache_dir else None)
    theme = theme or Theme()
    code = code_digest()
    salt = digest(code, theme.digest, config, strict, inline is not None)
    protected = {seeds: "the archive (--seeds)", **(keep or {})}
    if cache_dir:
        protected[cache_dir] = "the cache (--cache-dir)"
    with claimed(out, wait, protected) as claim:
        state = load_state(cache, claim.out)
        if (again := _nothing_to_do(state, salt, seeds, claim)) is not None:
            return again
        index = load_index(cache, claim.out, state)
        run = _Build(Context(config, theme, None, inline), seeds, cache, claim, salt, code)
        try:
            archive, result, made = run.run(state, index, strict, progress)
        except Changed:  # a file changed under a build whose cache was deleted: once more
            archive, result, made = run.run(state, index, strict, progress)
        run.save(state, index, archive, result, made)
    return result


def _nothing_to_do(state: State, salt: str, seeds: str, claim: Claim) -> BuildResult | None:
    """The last build's result again, if nothing it depends on changed: the code, templates
    and settings, the archive's files (by their stat), and the files in out/."""
    if state.salt != salt or not unchanged_since(seeds, state.signatures, state.looked):
        return None
    if files(claim.out) != set(state.stamps) or not state.intact(claim.out, list(state.stamps)):
        return None
    try:
        return BuildResult.again(state.summary, len(state.stamps))
    except ValueError:
        return None


@dataclass(frozen=True)
class _Build:
    """One build that has something to do, under its claim on out/."""

    ctx: Context  # without its inliner until the archive is read
    seeds: str
    cache: Cache
    claim: Claim
    salt: str
    code: str

    def run(
        self, state: State, index: Index, strict: bool, progress: Progress | None
    ) -> tuple[Archive, BuildResult, dict[str, Made]]:
        """Read and check the archive, render what changed, swap it in."""
        with _collector_spared() as loaded:
            archive, ctx = self._read(index, state.looked)
            _check(archive, self.seeds, strict)
            loaded()
            result, made = self._render(archive, ctx, state, index, progress)
        return archive, result, made

    def _read(self, index: Index, looked: int) -> tuple[Archive, Context]:
        """The archive, and the email inliner: from the cache, or learned with premailer on
        a core of its own while the archive is parsed."""
        from .inline import Inliner, learn

        ctx = self.ctx
        name = f"inliner-{digest(self.code, ctx.theme.digest)}"
        inliner = Inliner.from_data(self.cache.get(name)) if ctx.inline is None else None
        alongside = [partial(learn, ctx.theme)] if ctx.inline is None and inliner is None else []
        archive, learned = read_archive(
            self.seeds,
            self.cache,
            index.records,
            code=self.code,
            looked=looked,
            alongside=alongside,
        )
        for found in learned:
            assert isinstance(found, Inliner)
            inliner = found
            self.cache.put(name, inliner.data())
            self.cache.prune("inliner-", {name})
        return archive, Context(ctx.config, ctx.theme, inliner, ctx.inline)

    def _render(
        self, archive: Archive, ctx: Context, state: State, index: Index, progress: Progress | None
    ) -> tuple[BuildResult, dict[str, Made]]:
        # Here, not at the top: a build that finds nothing to do never loads the renderers.
        from . import feeds, mail, site  # noqa: F401 (each registers its producers)
        from .editions import make_editions
        from .outputs import PRODUCERS

        out = self.claim.out
        editions = make_editions(archive.days)
        outputs = [o for producer in PRODUCERS for o in producer(editions, ctx.config)]
        keys = {o.name: _key(self.salt, o) for o in outputs}
        kept = {
            o.name: previous
            for o in outputs
            if (previous := index.made.get(o.name)) is not None
            and previous.key == keys[o.name]
            and previous.paths == o.paths
            and state.intact(out, o.paths)
        }
        todo = [o for o in outputs if o.name not in kept]
        before = newest_edition(out)
        notes, stats = self._write(ctx, todo, kept, progress)
        made = {
            o.name: kept.get(o.name) or Made(keys[o.name], o.paths, notes[o.name]) for o in outputs
        }
        result = BuildResult(
            archive.files,
            archive.papers,
            len(archive.days),
            archive.days[-1].key,
            archive.problems,
            tuple(note for m in made.values() for note in m.notes),
            stats,
            len(todo),
            len(kept),
            before is None or archive.days[-1].key > before,
        )
        return result, made

    def _write(
        self, ctx: Context, todo: list[Output], kept: Mapping[str, Made], progress: Progress | None
    ) -> tuple[dict[str, tuple[str, ...]], WriteStats]:
        """Render ``todo`` into a staging folder, link the files of ``kept``, swap it in."""
        from .parallel import run  # here: a build with nothing to do never forks

        grouped: dict[str, list[Output]] = {}
        for output in todo:
            grouped.setdefault(output.group or output.name, []).append(output)
        with staged(self.claim) as staging:
            for made in kept.values():
                for path in made.paths:
                    staging.keep(path)
            tasks = [partial(_render, ctx, staging, group) for group in grouped.values()]
            rendered = [done for task in run(tasks, progress) for done in task]
            notes = {name: note for name, note, _ in rendered}
            written = sum(count for _, _, count in rendered)
            paths = {p for o in todo for p in o.paths} | {p for m in kept.values() for p in m.paths}
            return notes, staging.commit(paths, written)

    def save(
        self,
        state: State,
        index: Index,
        archive: Archive,
        result: BuildResult,
        made: dict[str, Made],
    ) -> None:
        """Record what this build did, for the next one."""
        # A kept file is the same inode as before: only the others are stat'ed again.
        stamps = {
            p: state.stamps[p] if index.made.get(name) is m else stamp(self.claim.out, p)
            for name, m in made.items()
            for p in m.paths
        }
        signatures = {path: r.signature for path, r in archive.records.items()}
        save(
            self.cache,
            self.claim.out,
            State(self.salt, self.claim.looked, signatures, stamps, result.summary()),
            Index(archive.records, made),
            index,
        )
        keys = {f"parsed/{r.key}" for r in archive.records.values() if r.key}
        self.cache.prune("parsed/", keys)
