"""CSS inlining for email with premailer, learned from the templates themselves.

premailer defines what inlined CSS means, but running it on every email costs
about 30 ms each. The email stylesheet may select by tag and class only, so
what premailer writes onto an element depends on nothing but that element's own
start tag. So every start tag the email templates hold (in every branch of
every condition and macro) is put alone in one synthetic document, premailer
runs on it once, and its result for each tag is stamped onto that tag in the
templates: every email then renders already inlined, and nothing a template
can emit is missing. The tags summary Markdown renders to (``markup.TAGS``, which
carry no class) go through premailer the same way and get their styles as the
filter renders them. A rule the stamping could not honour (one that selects
by context: descendants, siblings, attributes, :first-child) is an error
naming the stylesheet's line; so is a start tag whose attributes a template
computes where premailer would change them. ``@media`` rules and
pseudo-classes stay in the ``<style>`` element, as premailer leaves them.

Measured (1x archive, 361 emails): premailer on every email 11.9 s; stamped
templates 0.22 s, plus 0.2 s once to learn them (cached as data).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from .errors import ThemeError
from .markup import TAGS, to_html

if TYPE_CHECKING:
    import jinja2

    from .render import Theme

EMAIL = "email.html"
STYLESHEET = "email.css"
START_TAG = re.compile(r"<(?P<tag>[a-zA-Z][a-zA-Z0-9]*)(?P<attrs>(?:\s[^<>]*?)?)(?P<end>/?>)")
ATTRIBUTE_VALUE = r"""(?P<value>"[^"]*"|'[^']*'|[^\s"'>]+)"""
ATTRIBUTE = re.compile(rf"""\s*(?P<name>[^\s=/>"']+)(?:\s*=\s*{ATTRIBUTE_VALUE})?""")
STYLE_BLOCK = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL)
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
INLINED_SELECTOR = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9]*)?(?:\.[-_a-zA-Z0-9]+)*$")
KEPT_PSEUDO = re.compile(r"^[^\s>+~\[\]]*:(?!first-child|last-child|nth-)[-a-z]+$")
# Where each tag may stand, so the HTML parser keeps it where it was put.
CONTEXT = {
    "td": ("<table><tr>", "</tr></table>"),
    "th": ("<table><tr>", "</tr></table>"),
    "tr": ("<table>", "</table>"),
    "tbody": ("<table>", "</table>"),
    "thead": ("<table>", "</table>"),
    "tfoot": ("<table>", "</table>"),
    "li": ("<ul>", "</ul>"),
    "dt": ("<dl>", "</dl>"),
    "dd": ("<dl>", "</dl>"),
}
HEAD_ONLY = {"head", "meta", "title", "style", "link", "base", "script"}
VOID = {"area", "br", "col", "embed", "hr", "img", "input", "source", "track", "wbr"}
MARK = "data-newsletter-tag"
PLACEHOLDER = "x"  # stands for a value the template computes


def premailer_options() -> dict[str, object]:
    """premailer as email needs it: no network, quiet, @media kept with !important."""
    import logging  # here, like premailer itself: only a build that runs premailer needs it

    return {
        "allow_network": False,
        "strip_important": False,
        "keep_style_tags": False,
        "disable_basic_attributes": ["width", "height"],  # never overwrite <img width/height>
        "cssutils_logging_level": logging.CRITICAL,  # cron mails every stderr line
        "disable_validation": True,
        "remove_classes": False,
    }


def inline_with_premailer(html: str) -> str:
    """The straightforward way: premailer over one whole email."""
    # Imported here: premailer (with cssutils) is a tenth of a second to load, and a
    # rebuild that renders no email should not pay for it.
    from premailer import Premailer

    return str(Premailer(html, **premailer_options()).transform(pretty_print=False))


@dataclass(frozen=True)
class StartTag:
    """A start tag as a template writes it, where, and its attributes (raw values, quotes
    and all, or None for a bare attribute)."""

    text: str
    name: str
    attributes: tuple[tuple[str, str | None], ...]
    template: str
    line: int

    def static(self, name: str) -> str | None:
        """An attribute's value if the template writes it as a constant, else None."""
        raw = dict(self.attributes).get(name)
        if raw is None or "{{" in raw:
            return None
        return raw.strip("\"'")

    def specimen(self, name: str) -> str:
        """An attribute's value in the specimen: as written, or a stand-in if computed."""
        value = self.static(name)
        return PLACEHOLDER if value is None else value


def start_tags(template: str, text: str) -> Iterator[StartTag]:
    """Every start tag of a template, outside its Jinja comments."""
    text = JINJA_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    for found in START_TAG.finditer(text):
        line = text.count("\n", 0, found.start()) + 1
        attrs = found["attrs"]
        if "{%" in attrs or "{#" in attrs:
            raise ThemeError(
                f"<{found['tag']}> computes its attributes with a template tag; the email "
                "inliner needs each attribute written out ({{ }} in a value is fine)",
                file=template,
                line=line,
            )
        pairs = tuple((m["name"].lower(), m["value"]) for m in ATTRIBUTE.finditer(attrs))
        yield StartTag(found.group(0), found["tag"].lower(), pairs, template, line)


def check_stylesheet(css: str, file: str) -> None:
    """Every rule premailer would inline selects by tag and class only."""
    bare = CSS_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), css)
    depth, start = 0, 0
    for index, character in enumerate(bare):  # the top-level rules, outside @media
        if character == "{":
            if depth == 0 and not bare[start:index].strip().startswith("@"):
                _check_selectors(bare, start, index, file)
            depth += 1
        elif character == "}":
            depth -= 1
            start = index + 1
        elif character == ";" and depth == 0:
            start = index + 1


def _check_selectors(css: str, start: int, end: int, file: str) -> None:
    """The selectors between ``start`` and ``end``; an error names the line of the bad one."""
    for found in re.finditer(r"[^,]+", css[start:end]):
        selector = found.group(0).strip()
        if INLINED_SELECTOR.match(selector) or KEPT_PSEUDO.match(selector):
            continue
        at = start + found.start() + len(found.group(0)) - len(found.group(0).lstrip())
        raise ThemeError(
            f"the email inliner cannot honour the selector {selector!r}: style by tag "
            "and class only (a.link, .cell), or put the rule inside @media",
            file=file,
            line=css.count("\n", 0, at) + 1,
        )


def email_templates(theme: Theme) -> list[str]:
    """The email template and every template it imports, includes or extends."""
    from jinja2 import meta

    env = theme.environment
    found: list[str] = []
    todo = [EMAIL]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.append(name)
        text = theme.source(name)
        try:
            tree = env.parse(text, name, theme.files[name].as_posix())
        except Exception as error:  # jinja2.TemplateSyntaxError, with its line
            raise ThemeError(
                str(error), file=str(theme.files[name]), line=getattr(error, "lineno", None)
            ) from None
        todo += [n for n in meta.find_referenced_templates(tree) if n and n.endswith(".html")]
    return sorted(found)


def _specimen(tags: list[StartTag], css: str) -> str:
    """One document holding every start tag alone, in a context that keeps it in place,
    each marked with its number; its constant attributes as written, the others as "x"."""
    html, body, parts = "<html>", "<body>", []
    for number, tag in enumerate(tags):
        attributes = "".join(
            f' {name}="{escape(tag.specimen(name))}"' if raw is not None else f" {name}"
            for name, raw in tag.attributes
        )
        opened = f'<{tag.name}{attributes} {MARK}="{number}">'
        if tag.name in ("html", "body"):
            html, body = (opened, body) if tag.name == "html" else (html, opened)
        elif tag.name not in HEAD_ONLY:
            before, after = CONTEXT.get(tag.name, ("", ""))
            closed = "" if tag.name in VOID else f"</{tag.name}>"
            parts.append(f"{before}{opened}{closed}{after}")
    return f"{html}<head><style>{css}</style></head>{body}{''.join(parts)}</body></html>"


@dataclass(frozen=True)
class Inliner:
    """premailer's result for one set of email templates: each start tag as written in a
    template, stamped with what premailer adds to it, and what stays in <style>."""

    stamps: dict[str, str]
    head_style: str
    markup: dict[str, str]  # what premailer adds to each tag of summary Markdown

    def stamp(self, text: str) -> str:
        """A template's text with its start tags stamped and its <style> block reduced."""
        text = START_TAG.sub(lambda m: self.stamps.get(m.group(0), m.group(0)), text)
        return STYLE_BLOCK.sub(lambda _: self.head_style, text, count=1)

    def stamp_markup(self, html: str) -> str:
        """Rendered summary Markdown with its tags stamped."""
        if not self.markup:
            return html
        return START_TAG.sub(lambda m: m.group(0)[:-1] + self.markup.get(m["tag"], "") + ">", html)

    def data(self) -> dict[str, object]:
        return {"stamps": self.stamps, "head_style": self.head_style, "markup": self.markup}

    @classmethod
    def from_data(cls, data: object) -> Inliner | None:
        """An inliner read back from the cache, or None if it is not one."""
        if not isinstance(data, dict):
            return None
        stamps, head, markup = data.get("stamps"), data.get("head_style"), data.get("markup")
        if not (isinstance(stamps, dict) and isinstance(markup, dict) and isinstance(head, str)):
            return None
        pairs = [*stamps.items(), *markup.items()]
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
            return None
        return cls(stamps, head, markup)


def learn(theme: Theme) -> Inliner:
    """Run premailer once over every start tag the email templates can write."""
    import lxml.html  # here, with premailer: a build that finds the inliner cached needs neither

    css = theme.source(STYLESHEET)
    check_stylesheet(css, str(theme.files[STYLESHEET]))
    tags = list(
        {t.text: t for n in email_templates(theme) for t in start_tags(n, theme.source(n))}.values()
    )
    markup = [StartTag(f"<{name}>", name, (), "summary Markdown", 0) for name in TAGS]
    inlined = lxml.html.document_fromstring(inline_with_premailer(_specimen(tags + markup, css)))
    stamps = {}
    for element in inlined.iter():
        if not isinstance(element.tag, str) or (number := element.get(MARK)) is None:
            continue
        tag = (tags + markup)[int(number)]
        after = {k: v for k, v in element.attrib.items() if k != MARK}
        stamps[tag.text if tag.line else tag.name] = _stamped(tag, after)
    leftover = inlined.find(".//head/style")
    head_style = f"<style>{leftover.text}</style>" if leftover is not None and leftover.text else ""
    added = {t.name: stamps.pop(t.name)[len(t.text) - 1 : -1] for t in markup}
    return Inliner(
        {k: v for k, v in stamps.items() if v != k},
        head_style,
        {name: text for name, text in added.items() if text},
    )


def _stamped(tag: StartTag, after: dict[str, str]) -> str:
    """The tag's text with premailer's changes: new attributes added, changed ones rewritten."""
    written = dict(tag.attributes)
    text = tag.text
    added = ""
    for name, value in sorted(after.items()):
        if name not in written:
            added += f' {name}="{escape(value)}"'
        elif tag.specimen(name) != value:
            if "{{" in (written[name] or ""):
                raise ThemeError(
                    f"premailer would change the {name} of <{tag.name}>, which the "
                    "template computes; write it out, or style the tag another way",
                    file=tag.template,
                    line=tag.line,
                )
            old = re.compile(rf"(\s{re.escape(name)}\s*=\s*){ATTRIBUTE_VALUE}", re.IGNORECASE)
            text = old.sub(f'\\g<1>"{escape(value)}"', text, count=1)
    end = "/>" if text.endswith("/>") else ">"
    return text[: -len(end)] + added + end


class Stamped:
    """The email templates with every start tag stamped: rendering one is rendering it
    and inlining its styles with premailer."""

    def __init__(self, theme: Theme, inliner: Inliner) -> None:
        self.theme = theme
        self.inliner = inliner

    @cached_property
    def environment(self) -> jinja2.Environment:
        import jinja2

        def stamped(name: str) -> str | None:
            if name not in self.theme.files:
                return None
            text = self.theme.source(name)
            return self.inliner.stamp(text) if name.endswith(".html") else text

        overlay = self.theme.environment.overlay(loader=jinja2.FunctionLoader(stamped))
        overlay.filters = {  # a copy: the overlay shares the theme's filters otherwise
            **overlay.filters,
            "markdown": lambda text: Markup(self.inliner.stamp_markup(to_html(text))),
        }
        return overlay

    def render(self, template: str, **context: object) -> str:
        return self.environment.get_template(template).render(**context)
