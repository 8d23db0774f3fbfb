"""The built .eml goes through a real SMTP server on localhost, sent as a user would send it."""

from __future__ import annotations

import email
import re
import shutil
import subprocess
from email import policy
from pathlib import Path

import pytest
from conftest import CORPUS, Inbox, build_into, unflowed

TITLE = re.compile(r'<a class="title-link" href="https://arxiv.org/abs/([^"]+)"')
VOTES = re.compile(r"^\d+\. .*\n   추천 (\d+)", re.MULTILINE)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_into(
        tmp_path_factory.mktemp("smtp") / "out",
        CORPUS,
        email_from="Daily Papers <papers@example.org>",
        email_to=("readers@example.org",),
        list_unsubscribe=("mailto:unsubscribe@example.org",),
    )


def swaks(path: Path, port: int) -> list[str]:
    return [
        "swaks",
        "--server",
        f"127.0.0.1:{port}",
        "--from",
        "papers@example.org",
        "--to",
        "readers@example.org",
        "--data",
        f"@{path}",
    ]


def curl(path: Path, port: int) -> list[str]:
    return [
        "curl",
        "--silent",
        "--show-error",
        "--url",
        f"smtp://127.0.0.1:{port}",
        "--mail-from",
        "papers@example.org",
        "--mail-rcpt",
        "readers@example.org",
        "--upload-file",
        str(path),
    ]


@pytest.mark.parametrize("client", [swaks, curl])
def test_eml_is_delivered_unchanged(client, built: Path, smtp: tuple[Inbox, int]) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    eml = built / "email" / "latest.eml"
    command = client(eml, port)
    assert shutil.which(command[0]), f"{command[0]} is not installed (see README)"
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    (envelope,) = inbox.received
    assert envelope.rcpt_tos == ["readers@example.org"]
    raw = envelope.original_content
    assert raw.rstrip(b"\r\n") == eml.read_bytes().rstrip(b"\r\n")
    message = email.message_from_bytes(raw, policy=policy.strict)
    assert message["Subject"] == "[Daily Papers 한국어 요약] 2025년 4월 11일 (금) 논문 15편"
    assert message["From"] == "Daily Papers <papers@example.org>"
    assert message["List-Unsubscribe"] == "<mailto:unsubscribe@example.org>"
    assert "List-Unsubscribe-Post" not in message  # one-click needs an https URL
    plain, rich = message.iter_parts()
    assert plain.get_content_type() == "text/plain" and rich.get_content_type() == "text/html"
    html, text = rich.get_content(), unflowed(plain.get_content())
    assert "Kimi-VL Technical Report" in html and "Kimi-VL Technical Report" in text
    assert TITLE.findall(html)[0] == "2504.07491"
    votes = [int(v) for v in VOTES.findall(text)]
    assert len(votes) == 15 and votes == sorted(votes, reverse=True)
