"""Templates: the built-in ones shipped in the package, each replaceable by a user's file."""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cached_property
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model import Paper
from .text import media_type

if TYPE_CHECKING:
    import jinja2

WEEKDAYS = "월화수목금토일"
# What every email client shows; not SVG (Gmail, Outlook), not WebP (older Outlook).
EMAIL_IMAGES = ("image/png", "image/jpeg", "image/gif")
TEMPLATE_SUFFIXES = (".html", ".txt", ".css")
# Found, not imported (importlib.resources would load zipfile and more for nothing).
BUILT_IN = Path((find_spec("newsletter.templates").submodule_search_locations or [""])[0])  # type: ignore[union-attr]


def korean_date(date: dt.date) -> str:
    """``2024년 11월 1일 (금)``, without locale so every machine writes the same."""
    return f"{date.year}년 {date.month}월 {date.day}일 ({WEEKDAYS[date.weekday()]})"


def author_line(paper: Paper, limit: int | None = None) -> str:
    """Names joined; past ``limit`` names, or where the source elided some, "외 N명" (never
    "외 1명": the one name takes no more room)."""
    names = paper.authors
    if limit is not None and len(names) > limit + 1:
        rest = len(names) - limit
        more = f" 외 {rest}명" if not paper.authors_elided else f" 외 {rest}명 이상"
        return ", ".join(names[:limit]) + more
    return ", ".join(names) + (" 외" if paper.authors_elided else "")


def paper_anchor(paper: Paper) -> str:
    """The id of a paper's block on a web page."""
    return "paper-" + paper.arxiv_id.replace("/", "-")


def email_image(url: str | None) -> bool:
    """Whether an image can stand in an email: https, and of a type every client shows."""
    return url is not None and url.startswith("https://") and media_type(url) in EMAIL_IMAGES


def votes_label(paper: Paper) -> str:
    return f"추천 {paper.votes}" if paper.votes is not None else "추천 없음"


class Theme:
    """The templates of one build: the built-in ones, each replaced by a file of the same
    name in ``folder`` when there is one."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder

    @cached_property
    def files(self) -> dict[str, Path]:
        """Every template by name, and the file it is read from."""
        found: dict[str, Path] = {}
        for root in (BUILT_IN, self.folder):
            if root is not None and root.is_dir():
                found.update(
                    {p.name: p for p in sorted(root.iterdir()) if p.suffix in TEMPLATE_SUFFIXES}
                )
        return found

    @cached_property
    def texts(self) -> dict[str, str]:
        return {name: path.read_text(encoding="utf-8") for name, path in self.files.items()}

    @cached_property
    def digest(self) -> str:
        """A hash of every template's name and text: a changed template changes every key.
        Read without Jinja: a build with nothing to render never imports it."""
        sha = hashlib.sha256()
        for name, text in sorted(self.texts.items()):
            sha.update(name.encode() + b"\0" + text.encode() + b"\0")
        return sha.hexdigest()

    def source(self, name: str) -> str:
        """A template file as text, unrendered (the stylesheets)."""
        return self.texts[name]

    @cached_property
    def environment(self) -> jinja2.Environment:
        import jinja2  # here: a build that renders nothing never loads it

        from .markup import to_html, to_text

        env = jinja2.Environment(
            loader=jinja2.FunctionLoader(self._load),
            autoescape=jinja2.select_autoescape(disabled_extensions=("txt",), default=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters.update(
            korean_date=korean_date,
            authors=author_line,
            votes=votes_label,
            anchor=paper_anchor,
            markdown=to_html,
            markdown_text=to_text,
        )
        env.tests.update(email_image=email_image)
        return env

    def _load(self, name: str) -> tuple[str, str, Any] | None:
        path = self.files.get(name)
        if path is None:
            return None
        return self.source(name), str(path), lambda: True

    def render(self, template: str, **context: Any) -> str:
        return self.environment.get_template(template).render(**context)
