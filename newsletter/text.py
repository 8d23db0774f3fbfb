"""Plain-text helpers shared by the parser and the renderers."""

from __future__ import annotations

import re

# Characters XML 1.0 cannot carry (C0 except tab/LF/CR, the two non-characters), those feed
# validators reject as mis-decoded text (DEL, C1 controls, the replacement character), and
# lone surrogates (a literal's escapes can make them; UTF-8 cannot write them).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd\ufffe\uffff]")


def clean(text: str) -> tuple[str, bool]:
    """``text`` without the characters no output can carry, and whether any were removed."""
    if XML_ILLEGAL.search(text) is None:  # nearly always: no copy
        return text, False
    return XML_ILLEGAL.sub("", text), True


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
