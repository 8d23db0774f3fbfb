"""Emails in a real headless Chromium at phone and desktop widths: no overflow, titles visible."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CORPUS, build_into
from playwright.sync_api import Browser, Page, sync_playwright

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


@pytest.fixture(scope="module")
def mail_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_into(tmp_path_factory.mktemp("browser") / "out", CORPUS)


@pytest.mark.parametrize("width", [375, 600])
@pytest.mark.parametrize("day", ["2025-02-19", "2023-12-12", "2025-04-11"])
def test_email_layout(
    browser: Browser, mail_out: Path, tmp_path: Path, width: int, day: str
) -> None:
    url = (mail_out / "email" / f"{day}.html").as_uri()
    shot = tmp_path / f"email-{day}-{width}.png"
    result = layout(browser, url, width, ".paper-title, .compact-item", shot)
    assert result["scroll"] <= result["inner"], "horizontal scrolling"
    assert result["titles"] and result["hidden"] == []
    assert shot.stat().st_size > 10_000
