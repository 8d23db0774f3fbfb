"""The archive as data: frozen dataclasses, no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple


class Origin(NamedTuple):
    """Where something was read: a file as the user named it, and a 1-based line.
    (A named tuple: the archive's outline makes one for every paper of every day, and a
    tuple is made in a third of the time a frozen dataclass takes.)"""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Section:
    """One summary item: a labelled block (``What's New``) or a plain bullet (label None);
    ``number`` is its number in a numbered list (``1.``, ``1)``), else None.

    Nested structure (sub-bullets, numbered lists, dict-valued highlights) is kept
    as children, in source order. The text is Markdown, as its author wrote it.
    """

    label: str | None
    text: str
    children: tuple[Section, ...] = ()
    number: int | None = None


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


NOT_TEXT = ("votes", "origin")


def text_of(paper: Paper) -> tuple[object, ...]:
    """What a reader sees of a paper as its text: every field but its vote count, which
    changes from day to day, and where it was read."""
    return tuple(value for name, value in vars(paper).items() if name not in NOT_TEXT)


class Mention(NamedTuple):
    """A paper as one day lists it, without its text.

    Enough to merge, count and rank days and to tell when a paper's text changed,
    for the whole archive at a small fraction of the memory its papers take.
    """

    arxiv_id: str
    origin: Origin
    votes: int | None
    text: str  # a hash of text_of(paper)


Loader = Callable[["Day"], tuple[Paper, ...]]


@dataclass(frozen=True)
class Day:
    """One day of the archive: its date, its papers as mentions (in source order), the
    files it was read from, and a hash that changes whenever anything ``papers`` returns
    changes. The papers themselves are read on first use, through the loader the input
    stage gives every day."""

    date: dt.date
    mentions: tuple[Mention, ...]
    sources: tuple[str, ...]
    fingerprint: str
    load: Loader = field(compare=False, repr=False)

    @property
    def key(self) -> str:
        return self.date.isoformat()

    @property
    def papers(self) -> tuple[Paper, ...]:
        return self.load(self)

    def __digest__(self) -> str:
        """What stands for the day in a hash of what an output reads."""
        return self.fingerprint
