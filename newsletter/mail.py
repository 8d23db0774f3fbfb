"""One email per edition: HTML with inlined CSS, a plain-text part, and a ready-to-send .eml."""

from __future__ import annotations

import binascii
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email import policy
from email.header import Header
from email.utils import format_datetime, quote
from functools import lru_cache

from .config import Config
from .editions import Editions, Ranked, Week, at_least, ranked
from .model import Day, Paper
from .outputs import Context, Output, Rendered, produces
from .render import korean_date
from .text import clip, flowed

# Gmail clips a message whose HTML passes about 102 KB; stay clear of it.
HTML_BUDGET = 100_000
PREHEADER_LENGTH = 150
# The longest word that may go into a header as it is; a longer one is encoded, so it can fold.
HEADER_WORD = 60
SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')  # RFC 5322: a phrase holding one is quoted
FOLDLESS_BREAK = re.compile(r"\r\n(?![ \t])|\r(?!\n)|(?<!\r)\n")
BASE64_LINE = 76
CRLF = b"\r\n"


@dataclass(frozen=True)
class Mail:
    """What one email says; ``full`` papers in full, ``listed`` as one line each."""

    key: str
    subject: str
    heading: str
    sent: dt.datetime  # the instant it is dated: its day, or its week's end
    page_url: str
    papers: tuple[Paper, ...]
    full: tuple[Paper, ...] = ()
    listed: tuple[Paper, ...] = ()
    unlisted: int = 0  # papers not even listed (only on the web page)
    days: Mapping[str, dt.date] = field(default_factory=dict)  # weekly: the day each appeared

    @property
    def preheader(self) -> str:
        """The line a mail client shows beside the subject; it never holds a whole title."""
        titles = " · ".join(p.title for p in self.papers[:3])
        return clip(f"논문 {len(self.papers)}편 · {titles}", PREHEADER_LENGTH)

    @property
    def shortened(self) -> bool:
        return len(self.full) < len(self.papers)

    def showing(self, full: int, listed: int) -> Mail:
        papers = self.papers
        listed_papers = papers[full : full + listed]
        return replace(
            self,
            full=papers[:full],
            listed=listed_papers,
            unlisted=len(papers) - full - len(listed_papers),
        )


def day_mail(day: Ranked, config: Config) -> Mail:
    papers = at_least(day.papers, min_votes=config.min_votes)
    heading = korean_date(day.date)
    return Mail(
        key=day.key,
        subject=f"[{config.title}] {heading} 논문 {len(papers)}편",
        heading=heading,
        sent=config.edition(day.date),
        page_url=config.url(f"days/{day.key}.html"),
        papers=papers,
    )


def week_mail(week: Week, config: Config) -> Mail:
    papers = week.papers()
    shown = at_least((w.paper for w in papers), min_votes=config.min_votes)
    days = {w.paper.arxiv_id: w.date for w in papers}
    heading = week.heading
    return Mail(
        key=week.key,
        subject=f"[{config.title}] {heading} 주간 논문 {len(shown)}편",
        heading=heading,
        sent=config.week_end(week.last),
        page_url=config.url(f"weeks/{week.key}.html"),
        papers=shown,
        days=days,
    )


def _html(mail: Mail, ctx: Context) -> str:
    context = {"mail": mail, "config": ctx.config, "css": ctx.theme.source("email.css")}
    if ctx.inline is not None:  # premailer on the whole email, the straightforward way
        return ctx.inline(ctx.theme.render("email.html", **context))
    return ctx.stamped.render("email.html", **context)


def fit(mail: Mail, ctx: Context, full: int) -> tuple[Mail, str]:
    """The most papers in full (at most ``full``), then the most listed, under the budget."""
    full, listed = min(full, len(mail.papers)), len(mail.papers)
    while True:
        shown = mail.showing(full, listed - full)
        html = _html(shown, ctx)
        size = len(html.encode()) + html.count("\n")  # as sent: every line ends in CRLF
        if size < HTML_BUDGET or (full == 0 and listed == 0):
            return shown, html
        # Shrink in proportion to the overshoot, by at least one paper.
        if full > 0:
            full = min(full - 1, int(full * HTML_BUDGET / size))
            full = max(full, 0)
        else:
            listed = max(0, min(listed - 1, int(listed * HTML_BUDGET / size)))
        listed = max(listed, full)


def _plain(text: str) -> bool:
    """Short printable ASCII words that no decoder could take for an encoded word: a header
    can hold them as they are."""
    return "=?" not in text and all(
        w.isascii() and w.isprintable() and len(w) <= HEADER_WORD for w in text.split(" ")
    )


def _unstructured(text: str) -> str:
    """Any text as a folded header value: plain ASCII folded at its spaces, anything else as
    RFC 2047 encoded words, which fold at any length. Header, not the email package's own
    folding: that puts spaces between encoded words where decoders drop or add them
    ("4월 11일" came back as "4월11일", a long Korean name with spaces in it)."""
    charset = "us-ascii" if _plain(text) else "utf-8"
    return Header(text, charset, header_name="Subject").encode(linesep="\r\n")


def _phrase(text: str) -> str:
    """A display name: a quoted string where it holds specials, else as unstructured text."""
    if _plain(text) and SPECIALS.search(text):
        return f'"{quote(text)}"'
    return _unstructured(text)


def _mailboxes(values: tuple[str, ...]) -> str:
    """Addresses the configuration has checked, one mailbox each, a line each."""
    found = [policy.strict.header_factory("To", value).addresses[0] for value in values]
    return ",\r\n ".join(
        f"{_phrase(a.display_name)} <{a.addr_spec}>" if a.display_name else a.addr_spec
        for a in found
    )


def _header(name: str, value: str) -> bytes:
    """One header line, its value folded already. ASCII only (non-ASCII text is encoded
    words), and no line break but a fold: nothing a value holds can start another header."""
    if FOLDLESS_BREAK.search(value):
        raise ValueError(f"{name}: a line break that is not a fold")
    return f"{name}: {value}\r\n".encode("ascii")


@lru_cache(maxsize=4)
def _shared_headers(config: Config) -> tuple[bytes, bytes]:
    """The headers every email of one configuration has: those before Subject, and
    those between Message-ID and Content-Type. Parsing addresses is slow; do it once."""
    before = _header("From", _mailboxes((config.email_from,))) + _header(
        "To", _mailboxes(config.recipients)
    )
    if config.reply_to:
        before += _header("Reply-To", _mailboxes((config.reply_to,)))
    after = _header("List-Id", f"{_phrase(config.title)} <newsletter.{config.domain}>")
    if config.list_unsubscribe:
        uris = ",\r\n ".join(f"<{uri}>" for uri in config.list_unsubscribe)
        after += _header("List-Unsubscribe", uris)
        if config.list_unsubscribe[0].startswith("https:"):
            after += _header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    return before, after + _header("MIME-Version", "1.0")


def _headers(mail: Mail, config: Config, boundary: str) -> bytes:
    before, after = _shared_headers(config)
    return (
        before
        + _header("Subject", _unstructured(mail.subject))
        + _header("Date", format_datetime(mail.sent))
        + _header("Message-ID", f"<{mail.key}.newsletter@{config.domain}>")
        + after
        + _header("Content-Type", f'multipart/alternative; boundary="{boundary}"')
        + CRLF
    )


def _text_part(subtype: str, body: str, parameters: str = "") -> bytes:
    """A UTF-8 text part in base64, 76 characters a line, the body in canonical CRLF form."""
    data = body.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n").encode()
    encoded = binascii.b2a_base64(data, newline=False)
    lines = CRLF.join([encoded[i : i + BASE64_LINE] for i in range(0, len(encoded), BASE64_LINE)])
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"{parameters}\r\n'
        "Content-Transfer-Encoding: base64\r\n"
    )
    return head.encode() + CRLF + lines + CRLF


def eml(mail: Mail, config: Config, html: str, text: str) -> bytes:
    """The whole message, ``text`` in format=flowed (RFC 3676). Headers come from the email
    package; the two base64 parts are assembled here, which is many times faster than its
    generator and gives the same MIME."""
    # A fixed boundary keeps the file byte-identical between builds; "_" never occurs in base64.
    boundary = f"=_newsletter_{mail.key}_="
    delimiter = f"--{boundary}\r\n".encode()
    return (
        _headers(mail, config, boundary)
        + delimiter
        + _text_part("plain", text, "; format=flowed")
        + delimiter
        + _text_part("html", html)
        + f"--{boundary}--\r\n".encode()
    )


def compose(mail: Mail, ctx: Context, full: int) -> Rendered:
    """The email's HTML, text and .eml files, and a note if it does not show every paper."""
    shown, html = fit(mail, ctx, full)
    text = flowed(ctx.theme.render("email.txt", mail=shown, config=ctx.config))
    files = {
        f"email/{mail.key}.html": html.encode(),
        f"email/{mail.key}.txt": text.encode(),
        f"email/{mail.key}.eml": eml(shown, ctx.config, html, text),
    }
    return files, (shortened_note(mail, shown, full),) if shown.shortened else ()


def _paths(key: str) -> tuple[str, ...]:
    return tuple(f"email/{key}.{kind}" for kind in ("html", "txt", "eml"))


@produces
def day_emails(editions: Editions, config: Config) -> list[Output]:
    """An email a day, papers by votes; the newest day's also as latest.eml, for cron."""
    week_of = {day.date: week.key for week in editions.weeks for day in week.days}
    newest = editions.days[-1]
    return [
        Output(
            _paths(day.key) + (("email/latest.eml",) if day is newest else ()),
            _day_email,
            (day, day is newest),
            group=week_of[day.date],
            email=True,
        )
        for day in editions.days
    ]


def _day_email(ctx: Context, day: Day, latest: bool) -> Rendered:
    files, notes = compose(day_mail(ranked(day), ctx.config), ctx, ctx.config.email_full_papers)
    if latest:
        files["email/latest.eml"] = files[f"email/{day.key}.eml"]
    return files, notes


@produces
def week_emails(editions: Editions, config: Config) -> list[Output]:
    """An email a finished ISO week: its top papers in full, the rest listed; the newest
    also as latest-week.eml, for cron. A week still going on has none: its email would
    go out twice, or a day short."""
    weeks = editions.finished_weeks()
    return [
        Output(
            _paths(week.key) + (("email/latest-week.eml",) if week is weeks[-1] else ()),
            _week_email,
            (week, week is weeks[-1]),
            group=week.key,
            email=True,
        )
        for week in weeks
    ]


def _week_email(ctx: Context, week: Week, latest: bool) -> Rendered:
    files, notes = compose(week_mail(week, ctx.config), ctx, ctx.config.week_top)
    if latest:
        files["email/latest-week.eml"] = files[f"email/{week.key}.eml"]
    return files, notes


def shortened_note(mail: Mail, shown: Mail, full: int) -> str:
    by_size = len(shown.full) < min(full, len(mail.papers))
    reason = " to stay under the size limit" if by_size else ""
    return (
        f"email {mail.key}: {len(shown.full)} of {len(mail.papers)} papers in full{reason}, "
        "the rest listed with a link to the web page"
    )
