"""Our own exceptions and diagnostics; only ``cli`` turns them into exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


def _where(file: str | None, line: int | None) -> str:
    if file is None:
        return ""
    return f"{file}:{line}: " if line is not None else f"{file}: "


class NewsletterError(Exception):
    """A problem the user can fix, located by file and line where known."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        problems: tuple[Problem, ...] = (),
    ):
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.problems = problems  # the problems in the input that led to it, to list first

    def __str__(self) -> str:
        return f"{_where(self.file, self.line)}{self.message}"


class InputError(NewsletterError):
    """The archive cannot be read."""


class ConfigError(NewsletterError):
    """The configuration file or an option is wrong."""


class OutputError(NewsletterError):
    """The output folder cannot be written."""


@dataclass(frozen=True)
class Problem:
    """One diagnostic about the input, reported as ``file:line: severity: message``."""

    file: str
    line: int | None
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{_where(self.file, self.line)}{self.severity}: {self.message}"

    @classmethod
    def from_error(cls, error: NewsletterError) -> Problem:
        return cls(error.file or "?", error.line, "error", error.message)
