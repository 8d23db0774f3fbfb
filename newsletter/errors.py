"""Our own exceptions and diagnostics; only ``cli`` turns them into exit codes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
# What could end a line on a terminal or in cron's mail, or cannot be printed at all:
# control characters, line and paragraph separators, lone surrogates (undecodable names).
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def shown(text: str) -> str:
    """``text`` with every character that could start a new line, or not print, escaped:
    one diagnostic is always one line, whatever a file name or the input holds."""
    return UNPRINTABLE.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# Unicode gives control characters no name, only aliases; the ones a digest may hold.
CONTROL_NAMES = {
    "\x00": "NULL",
    "\x08": "BACKSPACE",
    "\x0b": "LINE TABULATION",
    "\x0c": "FORM FEED",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
}


def describe(character: str) -> str:
    """A character as a reader can look it up: ``U+000B``, ``U+2028 (LINE SEPARATOR)``."""
    name = (
        unicodedata.name(character, "")
        or CONTROL_NAMES.get(character)
        or unicodedata.category(character)
    )
    kind = {"Cc": "a control character", "Cs": "a lone surrogate"}.get(name, name)
    return f"U+{ord(character):04X} ({kind})"


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

    def __reduce__(self) -> tuple[object, ...]:
        """Whole across processes: a worker's error reaches the build with file and line."""
        return (_rebuild, (type(self), self.message, self.file, self.line, self.problems))

    def __str__(self) -> str:
        return shown(f"{_where(self.file, self.line)}{self.message}")


def _rebuild(
    kind: type[NewsletterError],
    message: str,
    file: str | None,
    line: int | None,
    problems: tuple[Problem, ...],
) -> NewsletterError:
    return kind(message, file=file, line=line, problems=problems)


class InputError(NewsletterError):
    """The archive cannot be read."""


class Changed(InputError):
    """A file changed while the build was reading it."""


class ConfigError(NewsletterError):
    """The configuration file or an option is wrong."""


class ThemeError(NewsletterError):
    """A template or stylesheet the build cannot use."""


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
        return shown(f"{_where(self.file, self.line)}{self.severity}: {self.message}")

    @classmethod
    def from_error(cls, error: NewsletterError) -> Problem:
        return cls(error.file or "?", error.line, "error", error.message)
