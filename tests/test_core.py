"""The build core: a cached build writes what a clean one writes, whatever the cache holds."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

import pytest
from conftest import CORPUS, SEEDS
from test_mail import context, premailer_agrees

from newsletter import archive, write
from newsletter.archive import read_archive, unchanged_since
from newsletter.build import build
from newsletter.config import Config
from newsletter.editions import ranked
from newsletter.errors import OutputError, ThemeError
from newsletter.inline import learn
from newsletter.mail import day_mail, fit
from newsletter.render import BUILT_IN, Theme

ROOT = Path(__file__).parent.parent
DAY = (CORPUS / "2025-02-19.md").read_text()


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def cached_and_clean(seeds: Path, work: Path, **settings: object) -> tuple[dict, dict]:
    """The tree a cached build writes, and the one a clean build of the same input writes."""
    config = Config(**settings)  # type: ignore[arg-type]
    build(config, seeds=str(seeds), out=str(work / "out"), cache_dir=str(work / "cache"))
    build(config, seeds=str(seeds), out=str(work / "clean"))
    return tree(work / "out"), tree(work / "clean")


def test_each_new_day_of_a_week_gives_what_a_clean_build_gives(tmp_path: Path) -> None:
    """The weekly feed's date, when it has no finished week, is the newest day's: part of
    what the feed reads, so part of its key (a cached build used to keep the first day's)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for day in range(4, 9):  # Monday 2024-03-04 to Friday, one build a day
        (seeds / f"{day}.md").write_text(DAY.replace("2025-02-19", f"2024-03-0{day}"))
        cached, clean = cached_and_clean(seeds, tmp_path, feed_days=3)
        assert cached == clean, f"2024-03-0{day}"


def run_copy(package: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package)}
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def test_a_change_to_the_code_is_a_change_to_every_key(tmp_path: Path) -> None:
    """Without a version bump, an edited module still invalidates what it could change."""
    package = tmp_path / "package"
    shutil.copytree(ROOT / "newsletter", package / "newsletter")
    shutil.copytree(BUILT_IN, package / "newsletter" / "templates")
    shutil.copytree(CORPUS, tmp_path / "seeds")
    assert run_copy(package, "build", cwd=tmp_path).returncode == 0
    before = tree(tmp_path / "out")
    module = package / "newsletter" / "render.py"
    module.write_text(module.read_text().replace('"월화수목금토일"', '"MTWTFSS"'))
    changed = run_copy(package, "build", cwd=tmp_path)
    assert changed.returncode == 3, changed.stderr  # rebuilt, but no new edition
    clean = run_copy(package, "build", "--no-cache", "--out", "clean", cwd=tmp_path)
    assert clean.returncode == 0
    assert tree(tmp_path / "out") == tree(tmp_path / "clean") != before
    assert "(W)" in (tmp_path / "out/index.html").read_text()


def test_a_second_build_waits_for_the_lock_or_says_why_not(tmp_path: Path) -> None:
    """One lock from reading the last build's state to saving the new one."""
    out = tmp_path / "out"
    build(Config(), seeds=str(SEEDS), out=str(out))
    with open(tmp_path / ".out.lock", "a") as lock:  # another build, holding out/
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(OutputError) as caught:
            build(Config(title="B"), seeds=str(SEEDS), out=str(out), wait=0)
        assert str(caught.value).endswith("out: another build is writing this folder")
        waiting = subprocess.Popen(
            [sys.executable, "-m", "newsletter", "build", "--seeds", str(SEEDS), "--title", "B"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            text=True,
        )
        with suppress(subprocess.TimeoutExpired):  # it waits while the lock is held (60 s)
            waiting.wait(timeout=1.5)
        assert waiting.returncode is None
    assert waiting.wait(timeout=120) == 3  # the lock released, it went on (no new day: 3)
    build(Config(title="B"), seeds=str(SEEDS), out=str(tmp_path / "clean"))
    assert tree(out) == tree(tmp_path / "clean")


def test_a_symlinked_out_stays_a_link_to_a_replaced_folder(tmp_path: Path) -> None:
    (tmp_path / "www").mkdir()
    (tmp_path / "out").symlink_to(tmp_path / "www" / "site")
    shutil.copytree(CORPUS, tmp_path / "seeds")
    (tmp_path / "seeds" / "2025-04-11.md").rename(tmp_path / "later.md")
    for step in range(3):
        if step == 1:
            (tmp_path / "later.md").rename(tmp_path / "seeds" / "2025-04-11.md")
        cached, clean = cached_and_clean(tmp_path / "seeds", tmp_path, title=f"T{step // 2}")
        assert cached == clean
        assert (tmp_path / "out").is_symlink() and (tmp_path / "www" / "site").is_dir()
        assert sorted(p.name for p in (tmp_path / "www").iterdir()) == [".site.lock", "site"]


def test_without_rename_exchange_two_renames_leave_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(write, "_exchange", lambda a, b: False)
    for title in ("A", "B"):
        cached, clean = cached_and_clean(CORPUS, tmp_path, title=title)
        assert cached == clean
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            ".clean.lock",
            ".out.lock",
            "cache",
            "clean",
            "out",
        ]


class Planted:
    """A pickle that would leave a file behind if anything ever unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.write_text, (self.marker, "unpickled"))


def test_the_cache_is_data_checked_on_every_read(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    cache = tmp_path / "cache"
    clean = cached_and_clean(seeds, tmp_path)[1]
    marker = tmp_path / "marker"
    # Pickles where the old cache kept them, and in place of every entry: never run.
    for entry in [*cache.rglob("*.json"), cache / "inliner-0.pickle", cache / "parsed/x.full"]:
        entry.write_bytes(pickle.dumps(Planted(marker)))
    assert cached_and_clean(seeds, tmp_path) == (clean, clean)
    assert not marker.exists()
    # One flipped byte inside a parsed entry: a miss, never wrong text ("MOdels").
    entry = next(e for e in (cache / "parsed").iterdir() if b"Models" in e.read_bytes())
    data = entry.read_bytes()
    entry.write_bytes(data.replace(b"Models", b"MOdels", 1))
    shutil.rmtree(tmp_path / "out")  # so every day is read back to be rendered
    assert cached_and_clean(seeds, tmp_path) == (clean, clean)
    # A state that is well-formed but edited (its files emptied) is ignored, not obeyed.
    for name in cache.glob("index-*.json"):
        head, payload = name.read_bytes().split(b"\n", 1)
        header, records = payload.split(b"\n", 1)
        edited = json.loads(header)
        edited["made"] = {key: [k, [], n] for key, (k, _, n) in edited["made"].items()}
        payload = json.dumps(edited).encode() + b"\n" + records
        digest = hashlib.sha256(payload).hexdigest().encode()
        name.write_bytes(head.split()[0] + b" " + digest + b"\n" + payload)
    assert cached_and_clean(seeds, tmp_path) == (clean, clean)


def test_the_inliner_styles_a_tag_only_a_condition_writes(tmp_path: Path) -> None:
    """A tag the newest email does not even use is styled as premailer styles it."""
    base = Theme()
    email = base.source("email.html").replace(
        "{{ paper | votes }}",
        '{% if paper.votes is none %}<span class="novote">추천 없음</span>{% else %}'
        "{{ paper | votes }}{% endif %}",
    )
    folder = tmp_path / "theme"
    folder.mkdir()
    (folder / "email.html").write_text(email)
    (folder / "email.css").write_text(base.source("email.css") + ".novote { color: #b91c1c; }\n")
    theme = Theme(folder)
    config = Config()
    ctx = context(config, theme)
    day = next(d for d in read_archive(str(CORPUS))[0].days if d.key == "2023-11-20")
    shown, html = fit(day_mail(ranked(day), config), ctx, full=20)
    assert 'class="novote" style="color:#b91c1c"' in html
    assert premailer_agrees(ctx, shown) > 100


def test_the_inliner_styles_the_tags_summary_markdown_writes(tmp_path: Path) -> None:
    """Links, bold and code inside a summary are styled as premailer styles them."""
    folder = tmp_path / "theme"
    folder.mkdir()
    rules = "a { color: #b91c1c; }\nstrong { color: #065f46; }\ncode { font-size: 13px; }\n"
    (folder / "email.css").write_text(Theme().source("email.css") + rules)
    ctx = context(Config(), Theme(folder))
    day = next(d for d in read_archive(str(CORPUS))[0].days if d.key == "2023-11-20")
    shown, html = fit(day_mail(ranked(day), Config()), ctx, full=20)
    assert 'SA-Segment-Anything" style="color:#b91c1c">' in html
    assert premailer_agrees(ctx, shown) > 100


@pytest.mark.parametrize(
    ("rule", "line"),
    [
        (".paper a { color: red; }", 2),
        ("td > p { margin: 0; }", 2),
        ("a[href] { color: red; }", 2),
        ("li:first-child { margin: 0; }", 2),
        (".x,\n.cell .y { color: red; }", 3),
    ],
)
def test_a_rule_the_inliner_cannot_honour_is_an_error(tmp_path: Path, rule: str, line: int) -> None:
    folder = tmp_path / "theme"
    folder.mkdir()
    (folder / "email.css").write_text(f"/* mine */\n{rule}\n@media (x) {{ .a b {{ c: d }} }}\n")
    with pytest.raises(ThemeError) as caught:
        learn(Theme(folder))
    assert str(caught.value).startswith(f"{folder}/email.css:{line}: the email inliner cannot")


def test_a_tag_whose_attributes_a_template_computes_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "theme"
    folder.mkdir()
    email = (
        Theme()
        .source("email.html")
        .replace('<p class="rank">', '<p {% if mail.days %}class="rank"{% endif %}>')
    )
    (folder / "email.html").write_text(email)
    line = email[: email.index("{% if mail.days %}class")].count("\n") + 1
    with pytest.raises(ThemeError) as caught:
        learn(Theme(folder))
    assert str(caught.value).startswith(f"email.html:{line}: <p> computes its attributes")


def test_hover_and_media_rules_stay_in_the_style_element(tmp_path: Path) -> None:
    folder = tmp_path / "theme"
    folder.mkdir()
    (folder / "email.css").write_text(Theme().source("email.css") + "a:hover { color: red; }\n")
    inliner = learn(Theme(folder))
    assert "a:hover" in inliner.head_style and "@media" in inliner.head_style


def test_changes_are_found_by_stat_and_racy_files_by_their_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    listed, _ = read_archive(str(seeds))
    signatures = {path: record.signature for path, record in listed.records.items()}
    long_after = max(s[1] for s in signatures.values() if s) + 10 * archive.RACY_NS
    assert unchanged_since(str(seeds), signatures, long_after)
    # Just after the build looked: an edit there may hide behind an unchanged stat.
    assert not unchanged_since(str(seeds), signatures, long_after - 10 * archive.RACY_NS)
    day = seeds / "2025-02-19.md"
    stat = day.stat()
    day.write_text(DAY.replace("Models", "MODELS"))  # the same size
    os.utime(day, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not unchanged_since(str(seeds), signatures, long_after)  # its ctime moved
    # An edit that keeps every field of the stat (within one clock tick): the racy rule
    # hashes a file that changed so close to when the build looked, and finds it.
    recorded = signatures[str(day)]
    monkeypatch.setattr(archive, "signature", lambda file: signatures[file] or recorded)
    assert unchanged_since(str(seeds), signatures, long_after)  # as good as unchanged...
    assert not unchanged_since(str(seeds), signatures, stat.st_mtime_ns + 1)
    again, _ = read_archive(str(seeds), None, listed.records, looked=stat.st_mtime_ns + 1)
    edited = next(d for d in again.days if d.key == "2025-02-19")
    assert any("MODELS" in p.title or "MODELS" in str(p.sections) for p in edited.papers)
