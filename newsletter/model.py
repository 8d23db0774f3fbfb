"""The archive as data: frozen dataclasses, no I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Origin:
    """Where something was read: a file as the user named it, and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Section:
    """One summary item: a labelled block (``What's New``) or a plain bullet (label None).

    Nested structure (sub-bullets, numbered lists, dict-valued highlights) is kept
    as children, in source order.
    """

    label: str | None
    text: str
    children: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Paper:
    arxiv_id: str
    title: str
    origin: Origin
    thumbnail: str | None = None
    video: str | None = None
    votes: int | None = None
    authors: tuple[str, ...] = ()
    authors_elided: bool = False
    sections: tuple[Section, ...] = ()

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.arxiv_id}"

    @property
    def hf_url(self) -> str:
        return f"https://huggingface.co/papers/{self.arxiv_id}"


@dataclass(frozen=True)
class Digest:
    """One day of the archive: its date and its papers in source order."""

    date: dt.date
    papers: tuple[Paper, ...]
    sources: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Mention:
    """A paper as one day lists it, without its text.

    Enough to merge, count and rank days and to tell when a paper's text changed,
    for the whole archive at a small fraction of the memory its papers take.
    """

    arxiv_id: str
    origin: Origin
    votes: int | None
    text: str  # a hash of what a reader sees of the paper (votes aside)


@dataclass(frozen=True)
class Outline:
    """One day of the archive as mentions: what every page knows of every day."""

    date: dt.date
    mentions: tuple[Mention, ...]
    sources: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.date.isoformat()
