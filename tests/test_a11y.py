"""Accessibility in a real headless Chromium: axe-core (WCAG 2.1 A and AA) finds nothing on
the web pages and the emails, in light and in dark colour scheme, and the day pager reflows
onto one line on a phone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Route

WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
# One of each kind of page the build writes; a day with a previous and a next day.
PAGES = [
    "index.html",
    "days/2025-02-19.html",
    "weeks/2025-W08.html",
    "email/2025-02-19.html",
    "email/2025-W08.html",
]
OPTIONAL_PAGES = ["feeds/index.html"]  # the subscribe page, where the build has one
PAGER_DAY = "days/2025-02-19.html"
SHOWN_NODES = 8  # elements listed per rule in a failure report


def offline(route: Route) -> None:
    """Nothing leaves the machine: remote thumbnails fail at once and show their alt text."""
    if route.request.url.startswith(("file:", "data:")):
        route.continue_()
    else:
        route.abort()


@pytest.fixture(scope="module")
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.route("**/*", offline)
    yield context
    context.close()


@pytest.fixture(scope="module")
def loaded(context: BrowserContext) -> Callable[[Path], Page]:
    """Each page is loaded once and checked in both colour schemes."""
    pages: dict[Path, Page] = {}

    def load(path: Path) -> Page:
        if path not in pages:
            pages[path] = context.new_page()
            pages[path].goto(path.as_uri())
        return pages[path]

    return load


def report(name: str, scheme: str, violations: list[dict[str, Any]]) -> str:
    """One line per rule and one per element: what axe found, where, and why."""
    lines = [f"{name} ({scheme}): {len(violations)} axe violation(s)"]
    for violation in violations:
        lines.append(f"- {violation['id']} [{violation['impact']}]: {violation['help']}")
        nodes = violation["nodes"]
        for node in nodes[:SHOWN_NODES]:
            summary = " ".join(str(node.get("failureSummary") or "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary[:300]}")
        if len(nodes) > SHOWN_NODES:
            lines.append(f"    … and {len(nodes) - SHOWN_NODES} more")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", PAGES + OPTIONAL_PAGES)
def test_no_wcag_violations(
    loaded: Callable[[Path], Page], corpus_out: Path, name: str, scheme: str
) -> None:
    path = corpus_out / name
    if name in OPTIONAL_PAGES and not path.exists():
        pytest.skip(f"the build writes no {name}")
    assert path.is_file(), f"the build wrote no {name}"
    page = loaded(path)
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    matches = page.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches")
    assert matches, f"{scheme} colour scheme not applied"
    results = Axe().run(page, options=WCAG_21_AA)
    violations = results.response["violations"]
    assert not violations, report(name, scheme, violations)


def test_day_pager_stays_on_one_line_on_a_phone(context: BrowserContext, corpus_out: Path) -> None:
    page = context.new_page()
    page.set_viewport_size({"width": 375, "height": 667})
    page.goto((corpus_out / PAGER_DAY).as_uri())
    links = page.locator("nav.pager a")
    boxes = [links.nth(i).bounding_box() for i in range(links.count())]
    nav = page.locator("nav.pager").bounding_box()
    line = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('nav.pager a')).lineHeight)"
    )
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    page.close()
    assert len(boxes) == 3 and all(boxes) and nav, "expected previous, week and next links"
    tops = [round(box["y"]) for box in boxes if box]
    assert len(set(tops)) == 1, f"pager links on more than one line: tops {tops}"
    assert nav["height"] < 1.5 * line, f"pager is {nav['height']}px tall, one line is {line}px"
    assert not overflow, "the pager makes the page scroll sideways"
