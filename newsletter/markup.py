"""Summary text as its authors wrote it: inline CommonMark, with bare URLs made links.

The archive's summary lines are Markdown: ``**bold**``, ``[text](url)``, backticks, and
bare URLs glued to a Korean particle (``…/SA-Segment-Anything에서``). markdown-it-py
renders them inline (a summary line is never a block of its own), with raw HTML off, and
with only http and https links: any other link stays text, as the parser keeps only
http(s) images and videos. Its linkify stops a URL before the first Hangul or CJK
character and before closing punctuation, where a reader sees the URL end; fuzzy links
(``train.py``, ``www.…``) stay text.

Most lines hold no Markdown at all; those are only escaped, exactly as the renderer
would escape them (a property test checks the two agree), which keeps rendering the
archive's 21,000 summary lines to about 0.1 s instead of 1.5 s.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# Characters that can start Markdown in a line; without any of them (and without a URL)
# a line renders as its escaped self.
MARKUP = re.compile(r"[*_`\[\]<&\\]|://")
# Hangul jamo, CJK punctuation, kana, compatibility jamo, CJK ideographs, Hangul syllables,
# full-width forms: where a URL written in Korean text ends.
NOT_IN_URL = re.compile(
    "[\u1100-\u11ff\u3000-\u303f\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7ff\uff00-\uffef]"
)
TRAILING = ".,;:!?'\"*_~(=#&"  # trimmed off a URL that was cut before Hangul
TAGS = ("a", "strong", "em", "code")  # all the HTML a summary line can hold
CACHED = 8192  # lines: a paper is rendered for its page, its emails and the feeds
# Past these, a line is shown as plain text: the renderer's cost grows with the square of a
# run of URLs without spaces (80 KB took 30 s), and no real summary line comes near them.
MAX_MARKDOWN = 5000  # characters
MAX_URLS = 50
# What an entity (``&#10;``, ``&#12;``) can put into the rendered text that no output should
# carry: line breaks, control characters, and the replacement character for ``&#0;``.
UNSHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffd\ufffe\uffff]+")


def _http(url: str) -> bool:
    """Only http(s) links, and only with a host (a URL cut before Hangul may have none)."""
    scheme, _, rest = url.partition("://")
    return scheme.lower() in ("http", "https") and rest[:1] not in ("", "/", "?", "#")


def _plain_line(text: str) -> bool:
    """Whether a line is shown without Markdown: it holds none, or is too big to render."""
    return MARKUP.search(text) is None or len(text) > MAX_MARKDOWN or text.count("://") > MAX_URLS


@cache
def _renderer() -> MarkdownIt:
    from linkify_it import LinkifyIt
    from markdown_it import MarkdownIt

    class StopAtHangul(LinkifyIt):  # type: ignore[misc]
        """linkify-it takes any letter for part of a URL; Korean text ends it."""

        def _create_match(self, text: str, schema: str, index: int, last_index: int) -> Any:
            if found := NOT_IN_URL.search(text, index, last_index):
                last_index = found.start()
                while last_index > index and text[last_index - 1] in TRAILING:
                    last_index -= 1
            return super()._create_match(text, schema, index, last_index)

    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
    md.enable("linkify")
    md.disable("image")  # a picture belongs in the paper's image line, not in a summary
    md.linkify = StopAtHangul(
        schemas={"ftp:": None, "//": None, "mailto:": None},
        options={"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False},
    )
    md.validateLink = _http  # type: ignore[method-assign]
    return md


@lru_cache(maxsize=CACHED)
def to_html(text: str) -> Markup:
    """One summary line as HTML."""
    if _plain_line(text):
        from markdown_it.common.utils import escapeHtml

        return Markup(escapeHtml(text))
    return Markup(UNSHOWN.sub(" ", _renderer().renderInline(text)))


@lru_cache(maxsize=CACHED)
def to_text(text: str) -> str:
    """One summary line as plain text: no Markdown marks, a link as "label (URL)" unless its
    label is its URL, and a URL glued to a following word in angle brackets (RFC 3986,
    appendix C), so a mail client's own linker does not take the word into it."""
    if _plain_line(text):
        return text
    tokens = _renderer().parseInline(text)[0].children or []
    out: list[str] = []
    opened: list[tuple[int, str, bool]] = []  # where each open link's label starts
    bare: list[tuple[int, int]] = []  # where each URL shown as itself is in ``out``
    for token in tokens:
        if token.type == "link_open":
            shown = token.markup in ("linkify", "autolink")  # the label is the URL
            opened.append((len(out), str(token.attrGet("href")), shown))
        elif token.type == "link_close" and opened:
            start, href, shown = opened.pop()
            if shown or "".join(out[start:]).strip() == href:
                bare.append((start, len(out)))
            else:
                out.append(f" ({href})")
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
        else:
            out.append(UNSHOWN.sub(" ", token.content))
    for start, end in bare:
        if start < end and "".join(out[end:])[:1].isalnum():
            out[start] = "<" + out[start]
            out[end - 1] += ">"
    return "".join(out)
