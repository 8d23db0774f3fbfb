"""Plain-text helpers shared by the parser and the renderers."""

from __future__ import annotations

import mimetypes
import re
from functools import cache
from unicodedata import east_asian_width

# Characters XML 1.0 cannot carry (C0 except tab/LF/CR, the two non-characters), those feed
# validators reject as mis-decoded text (DEL, C1 controls, the replacement character), and
# lone surrogates (a literal's escapes can make them; UTF-8 cannot write them).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd\ufffe\uffff]")


def clean(text: str) -> tuple[str, str]:
    """``text`` without the characters no output can carry, and those it held (each once)."""
    if XML_ILLEGAL.search(text) is None:  # nearly always: no copy
        return text, ""
    return XML_ILLEGAL.sub("", text), "".join(dict.fromkeys(XML_ILLEGAL.findall(text)))


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@cache
def _types() -> mimetypes.MimeTypes:
    """Python's own table of media types, not the system's: that differs between machines."""
    return mimetypes.MimeTypes(filenames=())


def media_type(url: str) -> str | None:
    """A URL's media type, from the extension of its path, or None."""
    return _types().guess_type(url.split("?", 1)[0].split("#", 1)[0], strict=False)[0]


FLOWED_WIDTH = 72  # columns; RFC 3676 asks for at most 78
CHUNK = re.compile(r"[^ ]* *")  # a word and the spaces after it
SIGNATURE = "-- "


def columns(text: str) -> int:
    """How wide ``text`` is on a terminal: Hangul and other wide characters take two."""
    return len(text) + sum(1 for c in text if c >= "\u1100" and east_asian_width(c) in "WF")


def flowed(text: str, width: int = FLOWED_WIDTH) -> str:
    """Text as RFC 3676 format=flowed: each line wrapped at its spaces to ``width`` columns,
    a soft break a line ending in a space, space-stuffed where a reader would misread a
    line. A reader that knows the format joins the lines back as they were; one that does
    not shows them wrapped. A word longer than ``width`` (a URL) stays whole."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line if line == SIGNATURE else line.rstrip(" ")
        current, used = "", 0
        for chunk in CHUNK.findall(line):
            if not chunk:  # the empty match at the end
                continue
            word = chunk.rstrip(" ")
            # Never a line of its own that reads as the signature separator.
            if current and used + columns(word) > width and current != SIGNATURE:
                out.append(current)
                current, used = "", 0
            current += chunk
            used += columns(chunk)
        out.append(current)
    return "\n".join(_stuffed(line) for line in out)


def _stuffed(line: str) -> str:
    if line.startswith((" ", ">", "From ")):
        return " " + line
    return line
