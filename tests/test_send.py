"""Sending: each edition exactly once, through real SMTP clients to a real SMTP server.

Every test runs the installed command as cron would (`newsletter build`, then `newsletter
send --via COMMAND`) with msmtp or swaks from Debian delivering to an aiosmtpd server on
localhost, and checks the mails the server received, by Message-ID.
"""

from __future__ import annotations

import email
import json
import shutil
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest
from conftest import CORPUS, Inbox

NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
SOURCE = (CORPUS / "2025-04-11.md").read_text()
SETTINGS = """\
site_url = "https://papers.example.org/"
email_from = "Daily Papers <papers@example.org>"
email_to = ["readers@example.org", "lab@example.org"]
list_unsubscribe = ["https://papers.example.org/unsubscribe", "mailto:u@example.org"]
postal_address = ["Example Lab", "1 Road, Seoul"]
"""


def day(date: str) -> str:
    return SOURCE.replace("2025-04-11", date, 1)


class Project:
    """A folder as a user keeps it: seeds/, newsletter.toml, out/, the ledger."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        (root / "seeds").mkdir()
        (root / "newsletter.toml").write_text(SETTINGS)

    def add(self, *dates: str) -> None:
        for date in dates:
            (self.root / "seeds" / f"{date}.md").write_text(day(date))

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [NEWSLETTER, *args], cwd=self.root, capture_output=True, text=True, timeout=300
        )

    def build(self, *args: str) -> int:
        built = self.run("build", "--quiet", *args)
        assert built.returncode in (0, 3), built.stderr
        return built.returncode

    def msmtp(self) -> str:
        """msmtp as a user would run it, recipients from the headers (-t), no config file."""
        return (
            f"msmtp -C /dev/null --host=127.0.0.1 --port={self.port} --tls=off --auth=off "
            "--domain=localhost --from=papers@example.org -t"
        )

    def send(self, *args: str, via: str | None = None) -> subprocess.CompletedProcess[str]:
        return self.run("send", "--via", via or self.msmtp(), *args)

    def ledger(self) -> list[dict[str, object]]:
        path = self.root / "newsletter-sent.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> tuple[Inbox, int]:
    assert shutil.which("msmtp") and shutil.which("swaks"), "msmtp, swaks: see the README"
    return smtp


@pytest.fixture
def project(tmp_path: Path, inbox: tuple[Inbox, int]) -> Project:
    return Project(tmp_path, inbox[1])


def received(inbox: tuple[Inbox, int]) -> list[str]:
    """The Message-IDs the server received, in order; each message parses strictly."""
    ids = []
    for envelope in inbox[0].received:
        message = email.message_from_bytes(envelope.original_content, policy=policy.strict)
        ids.append(str(message["Message-ID"]))
    return ids


def mid(edition: str) -> str:
    return f"<{edition}.newsletter@papers.example.org>"


def test_first_run_sends_the_newest_of_each_kind_then_nothing(
    project: Project, inbox: tuple[Inbox, int]
) -> None:
    # Week 15 of 2025 runs 04-07 to 04-13: finished by 04-14; week 16 still going.
    project.add("2025-04-03", "2025-04-08", "2025-04-10", "2025-04-14", "2025-04-15")
    assert project.build() == 0
    sent = project.send()
    assert sent.returncode == 0, sent.stderr
    assert received(inbox) == [mid("2025-W15"), mid("2025-04-15")]  # oldest first, by date
    assert [e["edition"] for e in project.ledger()] == ["2025-W15", "2025-04-15"]
    assert sorted(inbox[0].received[0].rcpt_tos) == ["lab@example.org", "readers@example.org"]
    again = project.send()
    assert (again.returncode, again.stdout) == (3, "nothing to send\n")
    assert len(inbox[0].received) == 2


def test_a_new_day_is_one_mail_and_an_edit_of_a_sent_one_is_none(
    project: Project, inbox: tuple[Inbox, int]
) -> None:
    project.add("2025-04-08", "2025-04-09")
    project.build()
    assert project.send().returncode == 0
    project.add("2025-04-10")
    assert project.build() == 0  # a new edition
    assert project.send().returncode == 0
    assert received(inbox) == [mid("2025-04-09"), mid("2025-04-10")]
    newest = project.root / "seeds" / "2025-04-10.md"
    for edit in (
        lambda text: text.replace("Vote: 7", "Vote: 70", 1),  # a vote count corrected
        lambda text: text.replace("모델", "모형", 1),  # a typo fixed
    ):
        newest.write_text(edit(newest.read_text()))
        assert project.build() == 3  # rebuilt, but not a new edition
        assert project.send().returncode == 3
    assert project.build("--email-full-papers", "5") == 3  # a setting changed
    assert project.send().returncode == 3
    newest.unlink()  # the newest day deleted: the day before is old news
    assert project.build() == 3
    assert project.send().returncode == 3
    assert received(inbox) == [mid("2025-04-09"), mid("2025-04-10")]


def test_a_failing_command_sends_nothing_and_the_next_run_catches_up(
    project: Project, inbox: tuple[Inbox, int]
) -> None:
    project.add("2025-04-08")
    project.build()
    assert project.send().returncode == 0
    project.add("2025-04-09", "2025-04-10")
    project.build()
    failed = project.send(via="false")
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[-1] == "Error: 2025-04-09: false exited 1; it goes next time"
    missing = project.send(via="no-such-mailer -t")
    assert missing.stderr.endswith(
        "2025-04-09: no such command: no-such-mailer; it goes next time\n"
    )
    assert [e["edition"] for e in project.ledger()] == ["2025-04-08"]
    caught_up = project.send()
    assert caught_up.returncode == 0
    assert received(inbox) == [mid("2025-04-08"), mid("2025-04-09"), mid("2025-04-10")]


def test_two_sends_at_once_send_each_edition_once(
    project: Project, inbox: tuple[Inbox, int]
) -> None:
    project.add("2025-04-08", "2025-04-09")
    project.build()
    slow = project.root / "slow-mailer"
    slow.write_text(f"#!/bin/sh\nsleep 1\nexec {project.msmtp()}\n")
    slow.chmod(0o755)
    command = [NEWSLETTER, "send", "--via", str(slow)]
    both = [subprocess.Popen(command, cwd=project.root, stdout=subprocess.PIPE) for _ in "ab"]
    codes = sorted(process.wait(timeout=120) for process in both)
    assert codes == [0, 3]
    assert received(inbox) == [mid("2025-04-09")]


def test_a_week_goes_out_once_it_is_over(project: Project, inbox: tuple[Inbox, int]) -> None:
    project.add("2025-04-07", "2025-04-08")  # a Monday and a Tuesday
    project.build()
    assert not (project.root / "out/email/2025-W15.eml").exists()  # still going on
    assert project.send("--kind", "weekly").returncode == 3
    project.add("2025-04-13")  # its Sunday
    project.build()
    week = email.message_from_bytes(
        (project.root / "out/email/latest-week.eml").read_bytes(), policy=policy.strict
    )
    assert week["Date"] == "Sun, 13 Apr 2025 23:59:59 +0900"  # the end of the week
    assert project.send("--kind", "weekly").returncode == 0
    assert project.send("--kind", "weekly").returncode == 3
    assert received(inbox) == [mid("2025-W15")]


def test_backfill_and_dry_run(project: Project, inbox: tuple[Inbox, int]) -> None:
    project.add("2025-04-01", "2025-04-02", "2025-04-03")
    project.build()
    dry = project.send("--kind", "daily", "--backfill", "--dry-run")
    assert dry.returncode == 0
    assert dry.stdout.splitlines()[0].startswith(f"would send 2025-04-01 {mid('2025-04-01')} (")
    assert len(dry.stdout.splitlines()) == 3 and not project.ledger() and not inbox[0].received
    assert project.send("--kind", "daily").returncode == 0  # the newest only
    assert project.send("--kind", "daily", "--backfill").returncode == 0  # then the rest
    assert received(inbox) == [mid("2025-04-03"), mid("2025-04-01"), mid("2025-04-02")]


def test_a_damaged_ledger_line_is_an_error_not_a_reason_to_send(
    project: Project, inbox: tuple[Inbox, int]
) -> None:
    project.add("2025-04-08", "2025-04-09")
    project.build()
    assert project.send().returncode == 0
    ledger = project.root / "newsletter-sent.jsonl"
    ledger.write_text(ledger.read_text() + '{"edition": "2025-04-10", "kind": "dai\n')
    project.add("2025-04-10")
    project.build()
    broken = project.send()
    assert broken.returncode == 1
    assert broken.stderr.splitlines()[-1] == (
        "Error: newsletter-sent.jsonl:2: not a ledger line (not JSON); mend or remove it, "
        "nothing was sent"
    )
    assert received(inbox) == [mid("2025-04-09")]


def test_swaks_sends_it_too(project: Project, inbox: tuple[Inbox, int]) -> None:
    """swaks reads the message on its standard input, recipients on its command line."""
    project.add("2025-04-08")
    project.build()
    via = (
        f"swaks --silent 2 --server 127.0.0.1:{project.port} --from papers@example.org "
        "--to readers@example.org --data -"
    )
    assert project.send(via=via).returncode == 0
    (envelope,) = inbox[0].received
    sent = (project.root / "out/email/2025-04-08.eml").read_bytes()
    assert envelope.original_content.rstrip(b"\r\n") == sent.rstrip(b"\r\n")


def test_the_ledger_lives_outside_out(project: Project) -> None:
    project.add("2025-04-08")
    project.build()
    inside = project.send("--ledger", "out/sent.jsonl")
    assert inside.returncode == 1 and "the ledger must live outside out/" in inside.stderr


def test_the_footer_has_the_postal_address_and_the_https_unsubscribe_first(
    project: Project,
) -> None:
    project.add("2025-04-08")
    project.build()
    eml = (project.root / "out/email/2025-04-08.eml").read_bytes()
    message = email.message_from_bytes(eml, policy=policy.strict)
    assert message["List-Unsubscribe"] == (
        "<https://papers.example.org/unsubscribe>, <mailto:u@example.org>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Example Lab\n1 Road, Seoul" in text.replace("\r\n", "\n")
    assert "Example Lab<br>1 Road, Seoul" in html
    assert html.index("https://papers.example.org/unsubscribe") < html.index("Example Lab")


def test_unsendable_defaults_are_said_once_each(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "a.md").write_text(day("2025-04-08"))
    built = subprocess.run([NEWSLETTER, "build"], cwd=tmp_path, capture_output=True, text=True)
    assert built.stderr.splitlines() == [
        "warning: site_url is the default http://localhost:8000/: emails and feeds link to it",
        "warning: email_from is the default newsletter@localhost: set a real sender",
        "warning: list_unsubscribe is not set: the emails offer no way to unsubscribe",
    ]
    quiet = subprocess.run([NEWSLETTER, "build", "-q"], cwd=tmp_path, capture_output=True)
    assert quiet.stderr == b""


def test_a_build_killed_after_its_swap_loses_no_edition(
    project: Project, inbox: tuple[Inbox, int]
) -> None:
    from test_cron import KILLER

    project.add("2025-04-08")
    project.build()
    assert project.send().returncode == 0
    project.add("2025-04-09")
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, "swapped", "1", "build"], cwd=project.root, timeout=300
    )
    assert killed.returncode == -9 and (project.root / "out/email/2025-04-09.eml").exists()
    assert project.build() == 3  # out/ has the day: no new edition for build...
    assert project.send().returncode == 0  # ...but the ledger has not: it goes
    assert received(inbox) == [mid("2025-04-08"), mid("2025-04-09")]
