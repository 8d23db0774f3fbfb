"""LaTeX to Unicode: what is clearly LaTeX is converted, everything else is left alone."""

# ruff: noqa: RUF001 (the expected outputs are Greek letters and math symbols)

from __future__ import annotations

import re

import pytest
from conftest import ALL_DAY_FILES
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.latex import restore_escapes, to_unicode

REAL_LINES = sorted({line for path in ALL_DAY_FILES for line in path.read_text().splitlines()})
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
PLAIN_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\\$"))
# Mostly LaTeX's own characters, so the examples hit spans, scripts, macros and their edges.
LATEX_ISH = st.lists(
    st.one_of(
        st.sampled_from("$\\{}^_ ~%&#-+'*\t\x08\x0c"),
        st.sampled_from(["\\frac", "\\text", "\\textbf", "\\alpha", "\\href", "\\url", "\\today"]),
        st.sampled_from(["\\mathcal", "\\sqrt", "\\\\", "\\left(", "\\begin", "\\end", "\\$"]),
        st.characters(blacklist_categories=("Cs",)),
        st.sampled_from("abxyzRO0129"),
    ),
    max_size=60,
).map("".join)
LETTERS = str.maketrans({"\x08": "b", "\x0c": "f", "\t": "t"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"LLM$\times$MapReduce", "LLM×MapReduce"),
        (r"M$^{2}$UGen", "M²UGen"),
        (r"$\textbf{Only-IF}$", "Only-IF"),
        ("PanGu-$π$", "PanGu-π"),
        (r"\textsc{AIEV-Instruct}", "AIEV-Instruct"),
        (r"see \url{https://example.org/x}", "see https://example.org/x"),
        (r"$\alpha$-Blend", "α-Blend"),
        (r"$x_{i}^{2}$ and $\mathcal{O}(n \log n)$", "xᵢ² and 𝒪(n log n)"),
        (r"$\mathbb{R}^{n}$ spaces", "ℝⁿ spaces"),
        (r"$\theta_{\text{opt}}$ via $f^{-1}$", "θ_opt via f⁻¹"),
        (r"$x^{q+1}$", "x^(q+1)"),
        (r"$x^{n+1}$", "xⁿ⁺¹"),
        (r"$K^{\prime}$", "K′"),
        ("X$^*$-Net", "X*-Net"),
        ("GPT-4$o$", "GPT-4o"),
        (r"$O(n^2)$", "O(n²)"),
        (r"$\log_2 n$", "log₂ n"),
        (r"$a \ne b$", "a ≠ b"),
        (r"$\frac{1}{2}$", "1/2"),
        (r"\textbf{\textsc{Nested}} Title", "Nested Title"),
        (r"\textbf{$\alpha$-Blend}", "α-Blend"),
        (r"\emph{Why} $\rightarrow$ How", "Why → How"),
        (r"\href{https://a.org}{link text}", "link text (https://a.org)"),
        (r"\href{https://a.org}{https://a.org}", "https://a.org"),
        (r"\mathcal{O}(n) with \alpha", "𝒪(n) with α"),
        (r"100\% Accuracy \& More \_ \# \{x\} \$", "100% Accuracy & More _ # {x} $"),
        (r"$50K and $\beta$", "$50K and β"),
        (r"`\emph{x}` is $\emph{x}$", r"`\emph{x}` is x"),
        # unicodeit raises V as a Hangul letter; a Korean reader would take it for a typo.
        (r"$X^V$", "X^V"),
    ],
)
def test_latex_becomes_unicode(text: str, expected: str) -> None:
    assert to_unicode(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        r"C:\Users\x\new",
        "50% faster",
        "R&D",
        "a_b_c",
        "O(n^2)",
        "{braces}",
        "a ~ b",
        "C++",
        "#1 tool",
        "cost is $5 and $10",
        "costs $5-$10",
        "price $5",
        "$ spaced $ not math",
        r"use \n in C",
        r"\to and \in stay: short names could be a path",
        "set `$CUDA_HOME` and `$PATH`",  # a code span is shell, not math
        r"write `\textbf{x}` for bold",
        "SWE-Lancer: Can Frontier LLMs Earn $1 Million from Real-World Freelance Software?",
    ],
)
def test_what_only_looks_like_latex_is_untouched(text: str) -> None:
    assert to_unicode(text) == text


@pytest.mark.parametrize(
    "text",
    [
        r"$\frac{$",  # pylatexenc fills in "%s/%s"
        r"$\href{a}$",  # pylatexenc raises IndexError
        r"$\begin{array}$",  # pylatexenc gives nothing
        "$" + "{" * 20 + "$",  # pylatexenc drops what an unclosed brace holds
        "$" + r"\frac{a}{b}" * 100 + "$",  # too long for a formula in a title
    ],
)
def test_what_pylatexenc_cannot_read_is_kept(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert to_unicode(text) == text
    assert capsys.readouterr().err == ""  # cron mails every stderr line


def test_the_output_does_not_depend_on_the_day() -> None:
    assert to_unicode(r"$\today$") == r"\today"


@pytest.mark.parametrize(
    ("line", "expected", "named"),
    [
        ("\x0crac{1}{2}", r"\frac{1}{2}", "form feed"),
        ("\textbf{x}", r"\textbf{x}", "tab"),
        ("\textit{x}", r"\textit{x}", "tab"),
        ("\x08oldsymbol{x}", r"\boldsymbol{x}", "backspace"),
        ("a \times b", r"a \times b", "tab"),
        ("$\x08eta_1$", r"$\beta_1$", "backspace"),
    ],
)
def test_escapes_before_macro_names_are_restored(line: str, expected: str, named: str) -> None:
    restored, notes = restore_escapes(line)
    assert restored == expected
    assert len(notes) == 1
    assert named in notes[0]


def test_each_restored_escape_has_its_note() -> None:
    restored, notes = restore_escapes("\x0crac{a}{b} \times \textbf{c}")
    assert restored == r"\frac{a}{b} \times \textbf{c}"
    assert notes == [
        r"form feed before 'rac' restored as '\frac'",
        r"tab before 'imes' restored as '\times'",
        r"tab before 'extbf' restored as '\textbf'",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "\tThe model",  # a tab before a word is a tab
        "a\tb",
        "cell\t3",
        "\x08enchbench",  # from the real archive: no macro \benchbench, so the caller reports it
        "\x0coo",
        "\x08",
        "\t",
        "plain line",
    ],
)
def test_other_control_characters_stay(line: str) -> None:
    assert restore_escapes(line) == (line, [])


def test_real_lines_convert_as_expected() -> None:
    converted = {to_unicode(line) for line in REAL_LINES if "$" in line or "\\" in line}
    assert any("LLM×MapReduce" in line for line in converted)
    assert any("M²UGen" in line for line in converted)
    assert any("Earn $1 Million" in line for line in converted)


@settings(max_examples=200, deadline=None)
@given(PLAIN_TEXT)
def test_text_without_backslash_or_dollar_is_unchanged(text: str) -> None:
    assert to_unicode(text) is text


@settings(max_examples=200, deadline=None)
@given(st.one_of(LATEX_ISH, st.text(), st.sampled_from(REAL_LINES)))
def test_any_text_converts_without_raising_or_new_control_characters(text: str) -> None:
    converted = to_unicode(text)
    assert set(CONTROL.findall(converted)) <= set(CONTROL.findall(text))


@settings(max_examples=200, deadline=None)
@given(st.one_of(LATEX_ISH, st.text(st.sampled_from("\t\x08\x0cbfterxacimo{} "), max_size=40)))
def test_restoring_escapes_only_puts_backslashes_back(line: str) -> None:
    restored, notes = restore_escapes(line)
    # Each note is one control character that became a backslash and its letter.
    assert len(restored) == len(line) + len(notes)
    assert restored.replace("\\", "").translate(LETTERS) == line.replace("\\", "").translate(
        LETTERS
    )
