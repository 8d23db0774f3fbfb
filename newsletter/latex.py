"""LaTeX in titles and summary lines -> Unicode text, touching only what is clearly LaTeX.

Titles and summaries quote papers, so they carry LaTeX (``LLM$\\times$MapReduce``,
``M$^{2}$UGen``, ``\\textsc{AIEV-Instruct}``) next to text that only looks like it
(``$5 and $10``, ``50%``, ``R&D``, ``C:\\Users\\x\\new``). Run on a whole string,
pylatexenc eats the latter (``%`` starts a comment, ``&`` is a column) and
unicodeit rewrites every ``-`` and ``\\l…``. So only two things are converted:

- math spans, found by pandoc's rule for ``$…$``: the opening ``$`` is not
  followed by a space, the closing one not preceded by a space nor followed
  by a digit. Super- and subscripts use unicodeit's table, with an ASCII
  fallback (``θ_opt``, ``x^(q+1)``) where Unicode has no such character;
  symbols use pylatexenc's table; the rest goes through pylatexenc;
- outside math, a whitelist: text-style macros (``\\textbf{…}`` and the like,
  ``\\url``, ``\\href``), ``\\mathcal``-style letters, named symbols and the
  escapes ``\\% \\$ \\& \\_ \\# \\{ \\}``.

Markdown code spans are left as they are. A conversion that fails keeps the
text as written; nothing here raises.

:func:`restore_escapes` undoes the damage escape processing upstream did to
``\\b``, ``\\f`` and ``\\t`` in front of macro names (``\\x0crac`` -> ``\\frac``).

Measured (2 cores, Python 3.11, best of 3 on a busy machine): 21,000 title
and summary lines in the mix of the real days in ``tests/fixtures`` (0.4 %
hold ``\\`` or ``$``) take 4.2 ms, of which the lines with neither take
3.3 ms; ``restore_escapes`` on them takes 7 ms; 21,000 lines that each hold
three formulas and a macro take 0.8 s. Importing this module takes 3 ms. The
first line that needs pylatexenc and unicodeit imports them and builds the
tables: 26 to 50 ms, so a build that sees no LaTeX never pays for them.
A formula that only pylatexenc can read (``\\frac``, ``\\sqrt``) costs about
0.25 ms each.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

# pandoc's tex_math_dollars: no space inside either ``$``, no digit right after the closing one.
# A longer body is not a formula in a title or summary line, and would cost pylatexenc time.
MATH_SPAN = re.compile(r"(?<![\\$])\$(?!\s)(?P<body>(?:\\.|[^$\\\n]){1,300}?)(?<!\s)\$(?![0-9$])")
# CommonMark's: a run of backticks up to the next run of the same length.
CODE_SPAN = re.compile(r"(?<!`)(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)")
# Macros whose argument is the text itself, in math or out.
TEXT_MACROS = (
    *("textnormal", "textbf", "textit", "textsc", "texttt", "textrm", "textsf", "textsl"),
    *("textup", "textmd", "text", "emph", "underline", "mbox", "boldsymbol", "bm"),
    *("mathrm", "mathbf", "mathit", "mathsf", "mathtt", "operatorname", "url", "nolinkurl"),
)
LETTER_STYLES = {
    "mathcal": "script",
    "mathscr": "script",
    "mathbb": "doublestruck",
    "mathfrak": "fraktur",
}
TEXT_MACRO = re.compile(
    # Not when it is a script's whole body: ``θ_{\text{opt}}`` is a label, kept as ``θ_opt``.
    r"(?<![_^]\{)(?<![_^])\\(?P<name>" + "|".join(sorted(TEXT_MACROS, key=len, reverse=True)) + r")"
    r"\s*\{(?P<arg>[^{}]*)\}"
)
TEXT_LABEL = re.compile(r"\\(?:text|textrm|mathrm|operatorname)\s*\{(?P<arg>[^{}]*)\}")
HREF = re.compile(r"\\href\s*\{(?P<url>[^{}]*)\}\s*\{(?P<text>[^{}]*)\}")
STYLED_LETTERS = re.compile(
    r"\\(?P<name>" + "|".join(LETTER_STYLES) + r")\s*(?:\{(?P<arg>[^{}\\]*)\}|(?P<letter>[A-Za-z]))"
)
SYMBOL = re.compile(r"(?<!\\)\\(?P<name>[A-Za-z]+)(?:\{\})?")
ESCAPE = re.compile(r"(?<!\\)\\(?P<char>[$%&_#{}])")
SCRIPT = re.compile(
    r"(?P<mark>[\^_])(?:\{(?P<braced>(?:[^{}]|\{[^{}]*\})*)\}"
    r"|(?P<macro>\\[A-Za-z]+)|(?P<char>[^\s{}\\^_$]))"
)
WORD = re.compile(r"[A-Za-z0-9]+|.", re.DOTALL)
BRACE = re.compile(r"\\.|[{}]", re.DOTALL)
BRACE_DEPTH = {"{": 1, "}": -1}  # an escaped brace counts for nothing
SPACES = re.compile(r"\s+")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Upstream escape processing read ``\b``, ``\f``, ``\t`` as these characters.
ESCAPED_MACRO = re.compile(r"(?P<control>[\x08\x0c\t])(?P<rest>[A-Za-z]+)")
ESCAPES = {"\x08": ("b", "backspace"), "\x0c": ("f", "form feed"), "\t": ("t", "tab")}

# Nesting deeper than this (``\textbf{\emph{\texttt{x}}}``) is left as written: each
# round is a pass over the string, and hostile input could nest thousands deep.
UNWRAP_ROUNDS = 4
# A title or summary line holds a few formulas; past this many, the rest stay as written, so
# a hostile line of thousands costs milliseconds, not seconds (pylatexenc: 0.25 ms each).
MAX_FORMULAS = 20
# Short names are read as symbols outside math only when they are Greek letters:
# ``\to`` or ``\in`` could as well be part of a Windows path.
SHORT_TEXT_SYMBOLS = frozenset({"mu", "nu", "xi", "pi", "Pi", "Xi"})
# Primes and the asterisk already sit high: raised, they are themselves.
RAISED = "\N{PRIME}\N{DOUBLE PRIME}\N{TRIPLE PRIME}*"


@dataclass(frozen=True)
class _Tables:
    """What the libraries give, built on first use."""

    latex_to_text: Callable[[str], str]
    style_letters: Callable[[str, str], str]
    math_symbols: dict[str, str]
    text_symbols: dict[str, str]
    superscripts: dict[str, str]
    subscripts: dict[str, str]
    macro_names: frozenset[str]


def to_unicode(text: str, *, markdown: bool = False) -> str:
    """``text`` with its LaTeX (math spans, whitelisted macros, escapes) as Unicode.

    Markdown code spans are left as written: in one, ``$HOME`` is shell, not math. In
    Markdown text (``markdown=True``) the escapes ``\\_`` and the like are left to the
    Markdown renderer, which reads them the same way, and keeps ``\\_x\\_`` from
    becoming emphasis.
    """
    if "\\" not in text and "$" not in text:  # nearly always: no copy
        return text
    if "`" not in text:
        return _convert(text, markdown)
    out: list[str] = []
    position = 0
    for code in CODE_SPAN.finditer(text):
        out += (_convert(text[position : code.start()], markdown), code[0])
        position = code.end()
    out.append(_convert(text[position:], markdown))
    return "".join(out)


def _convert(text: str, markdown: bool) -> str:
    """Text that holds no code span: math spans (the first MAX_FORMULAS) and the whitelist
    outside them."""
    text = _unwrap(text)
    out, position = [], 0
    for count, span in enumerate(MATH_SPAN.finditer(text)):
        if count == MAX_FORMULAS:
            break
        out.append(_plain(text[position : span.start()], markdown))
        out.append(_math(span))
        position = span.end()
    out.append(_plain(text[position:], markdown))
    return "".join(out)


def restore_escapes(line: str) -> tuple[str, list[str]]:
    """``line`` with ``\\b``, ``\\f``, ``\\t`` put back before macro names, and a note for each.

    A control character that is not followed by the rest of a known macro's name
    stays: a tab is then a tab, and the caller reports the others.
    """
    if "\t" not in line and "\x08" not in line and "\x0c" not in line:  # nearly always
        return line, []
    notes: list[str] = []

    def restore(match: re.Match[str]) -> str:
        letter, character = ESCAPES[match["control"]]
        name = letter + match["rest"]
        if name not in _tables().macro_names:
            return match[0]
        notes.append(f"{character} before '{match['rest']}' restored as '\\{name}'")
        return "\\" + name

    return ESCAPED_MACRO.sub(restore, line), notes


def _unwrap(text: str) -> str:
    """``\\textbf{x}`` -> ``x``, ``\\href{u}{t}`` -> ``t (u)``, innermost first, in math or out."""
    if "\\" not in text:
        return text
    for _ in range(UNWRAP_ROUNDS):
        unwrapped = TEXT_MACRO.sub(lambda match: match["arg"], HREF.sub(_link, text))
        if unwrapped == text:
            break
        text = unwrapped
    return text


def _link(match: re.Match[str]) -> str:
    # The address is kept: it is part of what the author wrote, and outputs may be plain text.
    url, text = match["url"].strip(), match["text"].strip()
    return url if text in ("", url) else f"{text} ({url})"


def _plain(text: str, markdown: bool) -> str:
    """Text outside math: styled letters, named symbols and escapes; nothing else."""
    if "\\" not in text:
        return text
    tables = _tables()
    text = STYLED_LETTERS.sub(_styled, text)
    text = SYMBOL.sub(lambda match: tables.text_symbols.get(match["name"], match[0]), text)
    return text if markdown else ESCAPE.sub(lambda match: match["char"], text)


def _math(span: re.Match[str]) -> str:
    """One ``$…$`` span as text, or as written if pylatexenc cannot read it."""
    body = span["body"]
    if "\\" in body or "{" in body or "^" in body or "_" in body:
        body = STYLED_LETTERS.sub(_styled, body)
        body = SCRIPT.sub(_script, body)
        body = SYMBOL.sub(_math_symbol, body)
    if "\\" in body or "{" in body:
        converted = _read(body)
        if converted is None:
            return span[0]
        body = converted
    return SPACES.sub(" ", body).strip()


def _read(body: str) -> str | None:
    """What pylatexenc makes of ``body``, or None where that would lose or garble text."""
    if not _balanced(body):  # it drops what an unclosed brace holds
        return None
    try:
        converted = _tables().latex_to_text(body)
    except Exception:  # pylatexenc fails in many ways (IndexError on \href)
        return None
    if not converted.strip() or "%s" in converted or "%(" in converted:  # \begin{x}, \frac{
        return None
    return CONTROL.sub("", SPACES.sub(" ", converted))


def _balanced(body: str) -> bool:
    depth = 0
    for token in BRACE.findall(body):
        depth += BRACE_DEPTH.get(token, 0)
        if depth < 0:
            return False
    return depth == 0


def _script(match: re.Match[str]) -> str:
    """``^{2}`` -> ``²``; what Unicode cannot raise or lower stays readable (``^(q+1)``)."""
    mark, body = match["mark"], match["braced"]
    if body is None:
        body = match["macro"] or match["char"]
    elif label := TEXT_LABEL.fullmatch(body):
        return mark + label["arg"]
    body = SYMBOL.sub(_math_symbol, body)
    tables = _tables()
    table = tables.superscripts if mark == "^" else tables.subscripts
    if body and all(character in table for character in body):
        return "".join(table[character] for character in body)
    if not body:
        return ""
    return mark + body if WORD.fullmatch(body) else f"{mark}({body})"


def _math_symbol(match: re.Match[str]) -> str:
    # The space after a symbol stays: pylatexenc would eat it (``\log n`` -> ``logn``).
    return _tables().math_symbols.get(match["name"], match[0])


def _styled(match: re.Match[str]) -> str:
    letters = match["arg"] if match["arg"] is not None else match["letter"]
    return _tables().style_letters(letters, LETTER_STYLES[match["name"]])


@cache
def _tables() -> _Tables:
    """The libraries and their tables: imported here, so a build without LaTeX never loads them."""
    import logging  # here too: a build that never sees LaTeX need not load it

    from pylatexenc.latex2text import (
        LatexNodes2Text,
        MacroTextSpec,
        fmt_math_text_style,
        get_default_latex_context_db,
    )
    from pylatexenc.latexwalker import get_default_latex_context_db as get_parser_db
    from unicodeit.data import REPLACEMENTS, SUBSUPERSCRIPTS

    # Its warnings concern text this module keeps as written; cron mails every stderr line.
    logger = logging.getLogger("pylatexenc")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    specs = get_default_latex_context_db()
    # \today would put the build's date into the output; outputs depend on the input only.
    specs.add_context_category(
        "newsletter", macros=[MacroTextSpec("today", simplify_repl=r"\today")], prepend=True
    )
    converter = LatexNodes2Text(latex_context=specs, math_mode="text", keep_comments=True)
    replacements = {spec.macroname: spec.simplify_repl for spec in specs.iter_macro_specs()}
    symbols = {name: text for name, text in replacements.items() if _is_symbol(name, text)}
    # Operator names (\log, \max) are symbols too, in math; unicodeit fills what pylatexenc
    # writes in ASCII or lacks (\prime, \ne).
    math_symbols = {name: text for name, text in replacements.items() if text == name}
    math_symbols |= {
        latex[1:]: text
        for latex, text in REPLACEMENTS
        if latex[0] == "\\" and latex[1:].isascii() and _is_symbol(latex[1:], text)
    }
    math_symbols |= symbols
    parser_names = {spec.macroname for spec in get_parser_db().iter_macro_specs()}
    return _Tables(
        latex_to_text=converter.latex_to_text,
        style_letters=fmt_math_text_style,
        math_symbols=math_symbols,
        text_symbols={
            name: text
            for name, text in symbols.items()
            if len(name) >= 3 or name in SHORT_TEXT_SYMBOLS
        },
        superscripts=_scripts(SUBSUPERSCRIPTS, "^") | dict(zip(RAISED, RAISED, strict=True)),
        subscripts=_scripts(SUBSUPERSCRIPTS, "_"),
        macro_names=frozenset(
            name
            for name in {*replacements, *parser_names, *TEXT_MACROS, *LETTER_STYLES, "href"}
            if name.isalpha() and len(name) > 1
        ),
    )


def _is_symbol(name: str, text: object) -> bool:
    """Whether a macro stands for one or two visible non-ASCII characters, not an accent."""
    return (
        name.isalpha()
        and isinstance(text, str)
        and 1 <= len(text) <= 2
        and not text.isascii()
        and all(unicodedata.category(character)[0] not in "MCZ" for character in text)
    )


def _scripts(table: list[tuple[str, str]], mark: str) -> dict[str, str]:
    """unicodeit's raised or lowered characters, without its stand-ins from other scripts.

    It raises ``V`` as the Hangul letter ᄑ and ``.`` as a Canadian syllabic; in Korean
    text that reads as a typo, so only true super/subscripts and modifier letters are used.
    """
    return {
        key[1]: raised
        for key, raised in table
        if len(key) == 2 and key[0] == mark and _is_raised(raised)
    }


def _is_raised(character: str) -> bool:
    name = unicodedata.name(character, "")
    return (
        "SUPERSCRIPT" in name
        or "SUBSCRIPT" in name
        or name.startswith(("MODIFIER LETTER SMALL", "MODIFIER LETTER CAPITAL"))
    )
