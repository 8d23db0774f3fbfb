"""The command line as a user meets it: exit codes, exact lines, no tracebacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import CORPUS, SEEDS, unwarned

from newsletter import __version__
from newsletter.cli import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="newsletter")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, unwarned(result.stderr)


def test_check_seeds_is_clean(chdir_tmp: Path) -> None:
    code, out, _ = run("check", str(SEEDS))
    assert code == 0
    assert out == "checked 5 files: 84 papers, 0 errors, 0 warnings\n"


def test_check_default_folder_is_seeds(chdir_tmp: Path) -> None:
    shutil.copytree(SEEDS, chdir_tmp / "seeds")
    code, out, _ = run("check")
    assert (code, out.splitlines()[-1]) == (0, "checked 5 files: 84 papers, 0 errors, 0 warnings")


def test_check_warnings_and_strict(chdir_tmp: Path) -> None:
    code, out, _ = run("check", str(CORPUS))
    assert code == 0
    assert out.splitlines() == [
        f"{CORPUS}/2023-12-12.md:51: warning: the image is a video; shown as the paper's video: "
        "https://cdn-uploads.huggingface.co/production/uploads/60f1a…",
        f"{CORPUS}/2024-07-19.md:182: warning: removed U+0008 (BACKSPACE)",
        "checked 9 files: 193 papers, 0 errors, 2 warnings",
    ]
    code, out, _ = run("check", "--strict", str(CORPUS))
    assert code == 1


def test_check_errors_exit_1(chdir_tmp: Path) -> None:
    (chdir_tmp / "day").mkdir()
    (chdir_tmp / "day" / "a.md").write_text("no header here\n")
    code, out, _ = run("check", "day")
    assert code == 1
    assert out.splitlines() == [
        "day/a.md:1: error: not a digest: no '## Daily Papers (YYYY-MM-DD)' header",
        "checked 1 files: 0 papers, 1 errors, 0 warnings",
    ]


def test_missing_folder_is_a_clear_error(chdir_tmp: Path) -> None:
    code, _, err = run("check", "nowhere")
    assert (code, err) == (1, "Error: nowhere: no such folder\n")
    code, _, err = run("build", "--seeds", "nowhere")
    assert (code, err) == (1, "Error: nowhere: no such folder\n")


def test_config_error_from_build(chdir_tmp: Path) -> None:
    (chdir_tmp / "newsletter.toml").write_text("feed_days = -1\n")
    code, _, err = run("build", "--seeds", str(SEEDS))
    assert (code, err) == (1, "Error: newsletter.toml:1: feed_days must be at least 1, not -1\n")


def test_build_that_stops_lists_the_problems_first(chdir_tmp: Path) -> None:
    (chdir_tmp / "seeds").mkdir()
    (chdir_tmp / "seeds" / "bad.md").write_text(
        "## Daily Papers (2024-13-01)\n### [X](https://arxiv.org/abs/2401.00001)\n"
    )
    code, _, err = run("build")
    assert code == 1 and err.splitlines() == [
        "seeds/bad.md:1: error: invalid date '2024-13-01' (expected YYYY-MM-DD, 1991-2099)",
        "seeds/bad.md:2: error: paper heading outside a valid date section",
        "Error: seeds: no digest to build",
    ]
    code, _, err = run("build", "--seeds", str(CORPUS), "--strict")
    assert code == 1 and err.splitlines() == [
        f"{CORPUS}/2023-12-12.md:51: warning: the image is a video; shown as the paper's video: "
        "https://cdn-uploads.huggingface.co/production/uploads/60f1a…",
        f"{CORPUS}/2024-07-19.md:182: warning: removed U+0008 (BACKSPACE)",
        "Error: 0 errors, 2 warnings with --strict; nothing written",
    ]
    assert not (chdir_tmp / "out").exists()


def test_build_last_line_says_what_it_did(chdir_tmp: Path) -> None:
    code, out, err = run("build", "--seeds", str(SEEDS), "--out", "site")
    assert code == 0 and err == ""
    assert out.splitlines()[-1].startswith("built 5 days from 5 files: 84 papers, 0 errors")
    assert (chdir_tmp / "site").is_dir()


def test_version() -> None:
    code, out, _ = run("--version")
    assert (code, out) == (0, f"newsletter, version {__version__}\n")


def commands() -> list[click.Command]:
    return [cli, *cli.commands.values()]  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", commands(), ids=lambda c: c.name)
def test_help_describes_every_option(command: click.Command) -> None:
    """Every option says what it does, in --help, beside its name."""
    ctx = click.Context(command, info_name=command.name)
    assert command.help or command.short_help
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            record = param.get_help_record(ctx)
            assert record is not None and record[1].strip(), param.name
    shown = command.get_help(ctx)
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            assert param.help and param.help.split(".")[0][:30] in " ".join(shown.split())


def test_the_help_check_can_fail() -> None:
    @click.command()
    @click.option("--bare")
    def bare(bare: str) -> None:
        """A command with an option that says nothing."""

    with pytest.raises(AssertionError, match="bare"):
        test_help_describes_every_option(bare)


def test_readme_usage_matches_help() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("## Usage", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    _, out, _ = run("--help")
    assert block == out


def test_ci_runs_the_readme_test_command() -> None:
    root = Path(__file__).parent.parent
    readme, ci = (root / "README.md").read_text(), (root / ".ci" / "run").read_text()
    command = readme.split("run the whole suite:\n\n```sh\n", 1)[1].split("\n", 1)[0]
    packages = command.split("apt-get install -y ", 1)[1].split(" &&", 1)[0].split()
    assert all(package in ci for package in packages)
    assert ".venv/bin/pip install -q -e '.[test]'" in ci and "\n.venv/bin/pytest\n" in ci
