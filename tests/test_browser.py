"""Emails in a real headless Chromium at phone and desktop widths: no overflow, titles visible."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CORPUS, build_into, layout
from playwright.sync_api import Browser


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
