"""Feeds checked by the W3C Feed Validation Service's own code, offline.

The validator is vendored unmodified in ``tests/feedvalidator/`` (see its NOTICE).
``validate`` runs it on a feed's bytes as the online service does on a feed it has
fetched from ``self_url`` (minus the checks of HTTP headers, which a file has not),
and returns what the service shows: errors and warnings (level AA), one line each,
with line and column. Rules of our own that the validator does not have live in
the tests that need them, not here.

Offline: during validation any use of the network (the validator looks up the
host of e-mail addresses it cannot otherwise accept) is refused by an audit hook
and reported as a finding, so results never depend on the network. Results
depend only on the bytes and the URL, so each pair is validated once a session.
"""

from __future__ import annotations

import hashlib
import re
import socket
import sys
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

VENDORED = Path(__file__).parent / "feedvalidator"
SELF_LINK = re.compile(rb"<(?:atom:)?link\b[^>]*\brel=[\"']self[\"'][^>]*>")
HREF = re.compile(rb"\bhref=[\"']([^\"']+)[\"']")
# Where the document is said to be when it names no self link of its own.
NOWHERE = "https://feed.invalid/feed"
NETWORK_EVENTS = (
    "socket.",
    "urllib.Request",
    "http.client.",
    "ftplib.",
    "smtplib.",
    "imaplib.",
    "poplib.",
    "nntplib.",
)


@dataclass(frozen=True)
class Finding:
    """One error or warning, with the validator's own text for it."""

    level: str  # "error" or "warning"
    kind: str  # the validator's name for it, e.g. "DuplicateUpdated"
    text: str  # "line 12, column 3: <message> (N occurrences)", as the service prints it
    element: str
    parent: str
    value: str  # the offending value, when the validator names one
    count: int  # the validator reports the first occurrence and counts the rest

    def __str__(self) -> str:
        where = f" <{self.element}>" if self.element else ""
        where += f" in <{self.parent}>" if self.element and self.parent else ""
        value = f": {self.value[:120]!r}" if self.value else ""
        return f"{self.level}: {self.text} [{self.kind}{where}{value}]"


class _Offline(threading.local):
    attempts: list[str] | None = None


_offline = _Offline()
_findings: dict[tuple[bytes, str | None], tuple[Finding, ...]] = {}


def _refuse_network(event: str, args: tuple[object, ...]) -> None:
    if _offline.attempts is not None and event.startswith(NETWORK_EVENTS):
        _offline.attempts.append(f"{event}{args!r}")
        raise OSError(f"network use refused while validating a feed: {event}")


@cache
def _validator() -> tuple[Any, Any, Any]:
    """The vendored package, its compatibility levels and its plain-text formatter."""
    sys.path.insert(0, str(VENDORED))
    timeout = socket.getdefaulttimeout()
    try:
        import feedvalidator
        from feedvalidator import compatibility
        from feedvalidator.formatter.text_plain import Formatter
    finally:
        socket.setdefaulttimeout(timeout)  # the import sets a process-wide 10 s default
    assert Path(feedvalidator.__file__).is_relative_to(VENDORED), feedvalidator.__file__
    sys.addaudithook(_refuse_network)
    return feedvalidator, compatibility, Formatter([])


def own_self_url(xml: bytes) -> str:
    """The href of the feed's rel="self" link, or a placeholder when it has none."""
    link = SELF_LINK.search(xml)
    href = HREF.search(link.group(0)) if link else None
    return href.group(1).decode() if href else NOWHERE


def _run(xml: bytes, location: str) -> tuple[list[Any], list[str]]:
    feedvalidator, compatibility, _ = _validator()
    _offline.attempts = attempts = []
    try:
        # fallback="utf-8" as the service does: XML without a declaration is UTF-8.
        result = feedvalidator.validateString(
            xml, firstOccurrenceOnly=1, fallback="utf-8", base=location
        )
        events = result["loggedEvents"]
    except feedvalidator.logging.ValidationFailure as failure:
        events = [failure.event]
    finally:
        _offline.attempts = None
    return compatibility.AA(events), attempts


def _finding(event: Any) -> Finding:
    feedvalidator, _, formatter = _validator()
    params = event.params
    return Finding(
        level="error" if isinstance(event, feedvalidator.logging.Error) else "warning",
        kind=type(event).__name__,
        text=formatter.format(event),
        element=str(params.get("element") or ""),
        parent=str(params.get("parent") or ""),
        value=str(params.get("value") or ""),
        count=int(params.get("msgcount", 1)),
    )


def findings(xml: bytes, self_url: str | None = None) -> tuple[Finding, ...]:
    """What the validator shows for ``xml`` published at ``self_url``.

    With ``self_url``, the feed's rel="self" link must name it; without, the feed
    is taken to be where its own self link says.
    """
    key = (hashlib.sha256(xml).digest(), self_url)
    if key not in _findings:
        events, attempts = _run(xml, self_url or own_self_url(xml))
        network = [
            Finding("error", "NetworkUse", f"the validator tried {a}; refused", "", "", "", 1)
            for a in attempts
        ]
        _findings[key] = (*network, *(_finding(event) for event in events))
    return _findings[key]


def validate(xml: bytes, self_url: str | None = None) -> list[str]:
    """The validator's errors and warnings for ``xml``, one readable line each."""
    return [str(finding) for finding in findings(xml, self_url)]
