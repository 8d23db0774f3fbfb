"""CSS inlining for email with premailer, paid for once per stylesheet instead of per email.

Every email comes from the same templates and the same stylesheet, and the
stylesheet styles elements by tag and class only. So premailer runs once, on a
specimen email that holds every kind of element; what it writes onto each
(tag, class) — the ``style`` attribute and the legacy attributes such as
``bgcolor`` — is recorded and stamped onto the tags of the email templates
themselves, so every real email renders already inlined.
If the stylesheet ever styled the same (tag, class) differently in different
places, the specimen shows it and :class:`Inliner` refuses to be built, so the
shortcut can never silently differ from premailer on the whole email.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import escape

from .errors import NewsletterError
from .render import environment, source

if TYPE_CHECKING:
    import lxml.html

START_TAG = re.compile(r"<(?P<tag>[a-zA-Z][a-zA-Z0-9]*)(?P<attrs>(?:\s[^<>]*?)?)(?P<end>/?>)")
CLASS_ATTR = re.compile(r'\sclass="(?P<value>[^"]*)"')
HEAD_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL)
Key = tuple[str, str]  # (tag, class attribute)


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
    # Imported here: premailer (with cssutils and requests) is a tenth of a second to load,
    # and a rebuild that renders no email should not pay for it.
    from premailer import Premailer

    return str(Premailer(html, **premailer_options()).transform(pretty_print=False))


def _key(element: lxml.html.HtmlElement) -> Key:
    return (element.tag, element.get("class", ""))


def _learn(before: str, after: str) -> dict[Key, str]:
    """What premailer added to each (tag, class), as attribute text to insert."""
    import lxml.html  # here, with premailer: a build that finds the inliner cached needs neither

    original = lxml.html.document_fromstring(before)
    inlined = lxml.html.document_fromstring(after)
    learned: dict[Key, str] = {}
    for old, new in zip(original.body.iter(), inlined.body.iter(), strict=True):
        if not isinstance(old.tag, str):
            continue
        added = {k: v for k, v in new.attrib.items() if old.get(k) != v}
        text = "".join(f' {name}="{escape(value)}"' for name, value in sorted(added.items()))
        key = _key(old)
        if learned.setdefault(key, text) != text:
            raise NewsletterError(f"email stylesheet styles <{key[0]} class={key[1]!r}> by context")
    return learned


class Inliner:
    """Applies premailer's result for one stylesheet to any email from the same templates."""

    def __init__(self, specimen: str) -> None:
        inlined = inline_with_premailer(specimen)
        self.attributes = {k: v for k, v in _learn(specimen, inlined).items() if v}
        leftover = HEAD_STYLE.search(inlined)
        self.head_style = leftover.group(0) if leftover else ""

    def __getstate__(self) -> dict[str, object]:
        return {"attributes": self.attributes, "head_style": self.head_style}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.attributes, self.head_style = state["attributes"], state["head_style"]

    def _stamp(self, match: re.Match[str]) -> str:
        attrs = match["attrs"]
        found = CLASS_ATTR.search(attrs)
        added = self.attributes.get((match["tag"].lower(), found["value"] if found else ""))
        if not added:
            return match.group(0)
        return f"<{match['tag']}{attrs}{added}{match['end']}"

    def _finish(self, stamped: str) -> str:
        """The <style> block reduced to what cannot inline."""
        return HEAD_STYLE.sub(lambda _: self.head_style, stamped, count=1)

    def __call__(self, html: str) -> str:
        """``html`` with inline styles."""
        return self._finish(START_TAG.sub(self._stamp, html))

    @cached_property
    def _templates(self) -> jinja2.Environment:
        """The HTML templates with their tags stamped; the text ones as they are."""

        def stamped(name: str) -> str:
            text = source(name)
            return START_TAG.sub(self._stamp, text) if name.endswith(".html") else text

        return environment().overlay(loader=jinja2.FunctionLoader(stamped))

    def render(self, template: str, **context: object) -> str:
        """A template rendered with inline styles: the same as rendering it and calling
        this inliner, without a pass over every tag of every email."""
        return self._finish(self._templates.get_template(template).render(**context))


InlineFunction = Callable[[str], str]
