"""Command line: thin click commands over the library."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from . import __version__
from .archive import Archive, read_archive
from .build import build
from .config import Config, load_config
from .errors import NewsletterError

F = TypeVar("F", bound=Callable[..., Any])

CONFIG_OPTIONS = (
    click.option("--title", help="Title of the feeds, emails and pages."),
    click.option("--site-url", help="Absolute URL where out/ is published (feed links, emails)."),
    click.option("--timezone", help="Time zone of the editions' dates [default: Asia/Seoul]."),
    click.option(
        "--feed-days", type=int, help="Days of the archive the feeds cover [default: 14]."
    ),
    click.option(
        "--min-votes", type=int, help="Leave papers with fewer votes out of feeds and email."
    ),
    click.option(
        "--email-full-papers", type=int, help="Papers an email shows in full [default: 20]."
    ),
)


def config_options(command: F) -> F:
    """--config plus one flag per setting; a flag not given never overrides the file."""
    for option in reversed(CONFIG_OPTIONS):
        command = option(command)
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False),
        help="Settings file [default: ./newsletter.toml or [tool.newsletter] in ./pyproject.toml].",
    )(command)


def _load(config_file: str | None, overrides: dict[str, Any]) -> Config:
    return load_config(config_file, overrides)


def reporting_errors(command: F) -> F:
    """Our errors become ``Error: file:line: message`` and exit code 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except NewsletterError as error:
            raise click.ClickException(str(error)) from None

    return wrapper  # type: ignore[return-value]


def summary(archive: Archive) -> str:
    return (
        f"{archive.files} files: {archive.papers} papers, "
        f"{archive.count('error')} errors, {archive.count('warning')} warnings"
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsletter")
def cli() -> None:
    """Turn an archive of daily paper digests into feeds, emails and a web archive."""


@cli.command(short_help="List the problems of the digests in a folder.")
@click.argument("folder", default="seeds", type=click.Path(file_okay=False))
@click.option("--strict", is_flag=True, help="Count warnings as errors.")
@reporting_errors
def check(folder: str, strict: bool) -> None:
    """Read every digest in FOLDER [default: seeds] and list its problems.

    One line a problem, `file:line: error|warning: message`, then a summary.
    Exit code 0 when there are no errors, 1 otherwise.
    """
    archive = read_archive(folder)
    for problem in archive.problems:
        click.echo(str(problem))
    click.echo(f"checked {summary(archive)}")
    failing = archive.count("error") + (archive.count("warning") if strict else 0)
    if failing:
        raise SystemExit(1)


@cli.command("build", short_help="Build feeds, emails and pages from the digests.")
@click.option(
    "--seeds",
    default="seeds",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder of daily digest files (*.md, *.txt).",
)
@click.option(
    "--out",
    default="out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to write; replaced atomically.",
)
@click.option("--strict", is_flag=True, help="Write nothing if the input has any error or warning.")
@config_options
@reporting_errors
def build_command(
    seeds: str, out: str, strict: bool, config_file: str | None, **overrides: Any
) -> None:
    """Build feeds, emails and pages from the digests in --seeds into --out."""
    config = _load(config_file, overrides)
    result = build(config, seeds=seeds, out=out, strict=strict)
    for problem in result.archive.problems:
        click.echo(str(problem), err=True)
    for note in result.notes:
        click.echo(note)
    stats = result.stats
    click.echo(
        f"built {len(result.archive.digests)} days from {summary(result.archive)}; "
        f"{out}/: {stats.written} written, {stats.unchanged} unchanged, {stats.removed} removed"
    )
    if result.archive.count("error"):
        raise SystemExit(1)


def main() -> None:
    cli()
