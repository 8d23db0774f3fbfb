from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from playwright.sync_api import Browser, Page, sync_playwright

from newsletter.archive import Archive

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"
CORPUS = FIXTURES / "corpus"
ALL_DAY_FILES = sorted(SEEDS.iterdir()) + sorted(CORPUS.iterdir())


@pytest.fixture
def chdir_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder so no newsletter.toml or pyproject.toml is picked up."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


SITE = "https://papers.example.org/ko/"


def unwarned(stderr: str) -> str:
    """stderr without the warnings about settings a list needs (which have their own test)."""
    return "".join(line for line in stderr.splitlines(True) if not line.startswith("warning: "))


def build_into(out: Path, seeds: Path = SEEDS, **settings: object) -> Path:
    """Build ``seeds`` into ``out`` with a published site URL, as a user's cron job would."""
    from newsletter.build import build
    from newsletter.config import Config

    config = Config(**({"site_url": SITE} | settings))  # type: ignore[arg-type]
    build(config, seeds=str(seeds), out=str(out))
    return out


def archive_of(folder: Path) -> Archive:
    """A folder read by the input stage, with no cache: every day's papers in memory."""
    from newsletter.archive import read_archive

    return read_archive(str(folder))[0]


@pytest.fixture(scope="session")
def seeds_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_into(tmp_path_factory.mktemp("seeds") / "out")


@pytest.fixture(scope="session")
def corpus_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_into(tmp_path_factory.mktemp("corpus") / "out", CORPUS)


class Inbox:
    """A real SMTP server's mailbox (aiosmtpd on localhost): every envelope it accepts."""

    def __init__(self) -> None:
        self.received: list[Envelope] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHECK = """(selector) => {
  const titles = [...document.querySelectorAll(selector)];
  const hidden = titles.filter((t) => {
    const r = t.getBoundingClientRect(), s = getComputedStyle(t);
    return r.width === 0 || r.height === 0 || r.left < 0 || r.right > window.innerWidth + 0.5
      || s.visibility !== "visible" || s.display === "none";
  }).map((t) => t.textContent);
  return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
          titles: titles.length, hidden};
}"""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "chromium is not installed (see README)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def open_offline(browser: Browser, url: str, width: int) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    # Nothing leaves the machine: remote images fail and show their alt text.
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort(),
    )
    page.goto(url)
    return page


def layout(browser: Browser, url: str, width: int, selector: str, shot: Path) -> dict[str, object]:
    page = open_offline(browser, url, width)
    result: dict[str, object] = page.evaluate(CHECK, selector)
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    return result


def unflowed(text: str) -> str:
    """A format=flowed text part as a reader that knows RFC 3676 shows it (DelSp=no): a line
    that ends in a space goes on in the next one; one leading space is stuffing."""
    lines: list[str] = []
    soft = False
    for line in text.replace("\r\n", "\n").split("\n"):
        body = line[1:] if line.startswith(" ") else line
        if soft:
            lines[-1] += body
        else:
            lines.append(body)
        soft = body.endswith(" ") and body != "-- "
    return "\n".join(lines)
