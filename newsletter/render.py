"""The one Jinja2 environment (templates shipped in the package) and its filters."""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from typing import Any

import jinja2

from .model import Paper

WEEKDAYS = "월화수목금토일"
TEMPLATE_SUFFIXES = (".html", ".txt", ".css", ".xsl")


def korean_date(date: dt.date) -> str:
    """``2024년 11월 1일 (금)``, without locale so every machine writes the same."""
    return f"{date.year}년 {date.month}월 {date.day}일 ({WEEKDAYS[date.weekday()]})"


def author_line(paper: Paper, limit: int | None = None) -> str:
    """Names joined; past ``limit`` names, or where the source elided some, "외 N명"."""
    names = paper.authors
    if limit is not None and len(names) > limit:
        rest = len(names) - limit
        more = f" 외 {rest}명" if not paper.authors_elided else f" 외 {rest}명 이상"
        return ", ".join(names[:limit]) + more
    return ", ".join(names) + (" 외" if paper.authors_elided else "")


def votes_label(paper: Paper) -> str:
    return f"추천 {paper.votes}" if paper.votes is not None else "추천 없음"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("newsletter.templates", "."),
        autoescape=jinja2.select_autoescape(disabled_extensions=("txt",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(korean_date=korean_date, authors=author_line, votes=votes_label)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


@cache
def source(name: str) -> str:
    """A shipped file as text, unrendered (the email stylesheet)."""
    env = environment()
    assert env.loader is not None
    return env.loader.get_source(env, name)[0]


@cache
def template_digest() -> str:
    """A hash of every shipped template, so a changed template invalidates cached output."""
    env = environment()
    assert env.loader is not None
    sha = hashlib.sha256()
    for name in sorted(env.loader.list_templates()):
        if not name.endswith(TEMPLATE_SUFFIXES):  # the package folder also holds bytecode
            continue
        sha.update(name.encode() + b"\0" + source(name).encode() + b"\0")
    return sha.hexdigest()
