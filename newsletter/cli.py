"""Command line: thin click commands over the library."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .archive import Archive, read_archive
from .build import LOCK_WAIT, BuildResult, build
from .config import EDITION_KINDS, load_config
from .errors import NewsletterError, shown
from .parallel import Progress

F = TypeVar("F", bound=Callable[..., Any])
EXIT_ERROR = 1
EXIT_NOTHING_NEW = 3

CONFIG_OPTIONS = (
    click.option("--title", help="Title of the feeds, emails and pages."),
    click.option("--site-url", help="Absolute URL where out/ is published (feed links, emails)."),
    click.option("--timezone", help="Time zone of the editions' dates [default: Asia/Seoul]."),
    click.option(
        "--feed-days", type=int, help="Days of the archive the feeds cover [default: 14]."
    ),
    click.option(
        "--feed-weeks", type=int, help="Finished weeks the weekly feed holds [default: 10]."
    ),
    click.option(
        "--min-votes", type=int, help="Leave papers with fewer votes out of feeds and email."
    ),
    click.option(
        "--email-full-papers", type=int, help="Papers an email shows in full [default: 20]."
    ),
)


CONFIG_FILE = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="Settings file [default: ./newsletter.toml or [tool.newsletter] in ./pyproject.toml].",
)
OUT = click.option("--out", default="out", show_default=True, help="The folder build writes.")
QUIET = click.option("-q", "--quiet", is_flag=True, help="Print nothing unless something is wrong.")


def wait_option(what: str) -> Callable[[F], F]:
    return click.option(
        "--wait",
        type=click.FloatRange(min=0),
        metavar="SECONDS",
        default=LOCK_WAIT,
        show_default=True,
        help=f"Seconds to wait for another {what}, then fail.",
    )


def config_options(command: F) -> F:
    """--config plus one flag per setting; a flag not given never overrides the file."""
    for option in reversed(CONFIG_OPTIONS):
        command = option(command)
    return CONFIG_FILE(command)


def reporting_errors(command: F, *, writes: str = "") -> F:
    """Our errors become ``Error: file:line: message`` and exit code 1, never a traceback.
    ``writes`` names what the command leaves whole when it fails unexpectedly."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except NewsletterError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(str(error)) from None
        except (click.exceptions.Exit, click.ClickException):
            raise
        except BrokenPipeError:  # `newsletter check | head`: click leaves quietly
            raise
        except Exception as error:
            # A bug, not bad input: still one line for cron, the details on request.
            if os.environ.get("NEWSLETTER_DEBUG"):
                raise
            whole = f"{writes} was not half-written; " if writes else ""
            raise click.ClickException(
                shown(f"unexpected {type(error).__name__}: {error} ")
                + f"({whole}run with NEWSLETTER_DEBUG=1 for details)"
            ) from None

    return wrapper  # type: ignore[return-value]


def summary(archive: Archive | BuildResult) -> str:
    return (
        f"{archive.files} files: {archive.papers} papers, "
        f"{archive.count('error')} errors, {archive.count('warning')} warnings"
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsletter")
def cli() -> None:
    """Turn an archive of daily paper digests into feeds, emails and a web archive."""


@cli.command(short_help="List the problems of the digests in a folder.")
@click.argument("folder", default="seeds")
@click.option("--strict", is_flag=True, help="Count warnings as errors.")
@reporting_errors
def check(folder: str, strict: bool) -> None:
    """Read every digest in FOLDER [default: seeds] and list its problems.

    One line a problem, `file:line: error|warning: message`, then a summary.
    Exit code 0 when there are no errors, 1 otherwise.
    """
    archive, _ = read_archive(folder)
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
    help="Folder of daily digest files (*.md, *.txt).",
)
@click.option(
    "--out", default="out", show_default=True, help="Folder to write; replaced atomically."
)
@click.option("--strict", is_flag=True, help="Write nothing if the input has any error or warning.")
@click.option(
    "--cache-dir",
    default=".newsletter-cache",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder that makes rebuilds fast; safe to delete at any time.",
)
@click.option(
    "--no-cache", is_flag=True, help="Render everything; neither read nor write the cache."
)
@wait_option("build writing the same out/")
@QUIET
@click.option("-v", "--verbose", is_flag=True, help="Also list every email that was shortened.")
@config_options
@functools.partial(reporting_errors, writes="out/")
def build_command(
    seeds: str,
    out: str,
    strict: bool,
    cache_dir: str,
    no_cache: bool,
    wait: float,
    quiet: bool,
    verbose: bool,
    config_file: str | None,
    **overrides: Any,
) -> None:
    """Build feeds, emails and pages from the digests in --seeds into --out.

    \b
    Exit codes:
      0  built, and the newest day's email is new since the last build
      1  an error (with the other days still built unless --strict)
      3  built, but no new edition since the last build (nothing to send)
    """
    config = load_config(config_file, overrides)
    for warning in [] if quiet else config.warnings():
        click.echo(f"warning: {warning}", err=True)
    result = build(
        config,
        seeds=seeds,
        out=out,
        strict=strict,
        cache_dir=None if no_cache else cache_dir,
        progress=_progress(quiet),
        wait=wait,
        keep={config_file: "the settings (--config)"} if config_file else None,
    )
    for problem in result.problems:
        click.echo(str(problem), err=True)
    if verbose or (sys.stdout.isatty() and not quiet):
        for note in result.notes:
            click.echo(note)
    if not quiet:
        click.echo(build_summary(result, out))
    if result.count("error"):
        raise SystemExit(EXIT_ERROR)
    if not result.new_edition:
        raise SystemExit(EXIT_NOTHING_NEW)


@cli.command("send", short_help="Send each new edition once, through any SMTP tool.")
@click.option(
    "--via",
    "command",
    metavar="COMMAND",
    help='What sends one email read on its standard input: "msmtp -t", "sendmail -t -i"…',
)
@OUT
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False),
    help="The record of what was sent [default: the ledger setting, newsletter-sent.jsonl].",
)
@click.option(
    "--kind",
    "kinds",
    type=click.Choice(EDITION_KINDS),
    multiple=True,
    help="Send only this kind of edition [default: the send_editions setting, both].",
)
@click.option("--backfill", is_flag=True, help="Also send editions older than any sent yet.")
@click.option("--dry-run", is_flag=True, help="List what would be sent; send and record nothing.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds COMMAND may take to send one email; then it counts as failed.",
)
@wait_option("send using the same ledger")
@QUIET
@CONFIG_FILE
@reporting_errors
def send_command(
    command: str | None,
    out: str,
    ledger: str | None,
    kinds: tuple[str, ...],
    backfill: bool,
    dry_run: bool,
    timeout: float,
    wait: float,
    quiet: bool,
    config_file: str | None,
) -> None:
    """Pipe each edition in --out that has not been sent yet, oldest first, into COMMAND,
    and record it in the ledger once COMMAND exits 0. An edition is its date or ISO week:
    once recorded, no edit, vote change, setting or deletion sends it again. With nothing
    recorded yet for a kind of edition, only its newest is sent (--backfill: all).

    \b
    Exit codes:
      0  sent at least one edition (with --dry-run: would)
      1  COMMAND failed: that edition, and the ones after it, go next time
      3  nothing to send
    """
    from .send import send  # here: a build never needs the email parser it loads

    config = load_config(config_file)
    for warning in config.warnings():
        click.echo(f"warning: {warning}", err=True)
    sending = send(
        Path(out),
        command,
        Path(ledger or config.ledger),
        kinds=kinds or config.send_editions,
        backfill=backfill,
        dry_run=dry_run,
        wait=wait,
        timeout=timeout,
    )
    for done in sending.delivered if not quiet else ():
        verb = "would send" if dry_run else "sent"
        click.echo(f"{verb} {done.edition.name} {done.message_id} ({done.size:,} bytes)")
    if sending.failed is not None:
        raise click.ClickException(str(sending.failed) + "; it goes next time")
    if not sending.delivered:
        if not quiet:
            click.echo("nothing to send")
        raise SystemExit(EXIT_NOTHING_NEW)


class _Bar:
    """A progress bar on stderr for the units being rendered, drawn from the first report."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="rendering", file=sys.stderr)
        self.bar.update(done - self.bar.pos)
        if done == total:
            self.bar.render_finish()


def _progress(quiet: bool) -> Progress | None:
    """A progress bar on a terminal only; cron gets nothing but the summary."""
    return None if quiet or not sys.stderr.isatty() else _Bar()


def build_summary(result: BuildResult, out: str) -> str:
    stats = result.stats
    newest = result.newest
    edition = f"new edition {newest}" if result.new_edition else f"no new edition (newest {newest})"
    shortened = f", {len(result.notes)} emails shortened" if result.notes else ""
    return (
        f"built {result.days} days from {summary(result)}; "
        f"{shown(out)}/: {stats.written} written, "
        f"{stats.unchanged} unchanged, {stats.removed} removed ({result.rendered} parts rendered, "
        f"{result.reused} reused{shortened}); {edition}"
    )


def main() -> None:
    cli()
