"""Settings: defaults, then ``newsletter.toml`` (or ``[tool.newsletter]``), then CLI flags."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, available_timezones

from .errors import UNPRINTABLE, ConfigError, describe

if TYPE_CHECKING:
    from email.headerregistry import Address

CONFIG_NAME = "newsletter.toml"
PYPROJECT_NAME = "pyproject.toml"
TOML_LINE = re.compile(r"at line (?P<line>\d+)")


@dataclass(frozen=True)
class Config:
    title: str = "Daily Papers 한국어 요약"
    description: str = "Hugging Face Daily Papers, 한국어 요약"
    site_url: str = "http://localhost:8000/"
    author: str = "newsletter"
    email_from: str = "newsletter@localhost"
    email_to: tuple[str, ...] = ()  # default: email_from
    reply_to: str | None = None
    list_unsubscribe: tuple[str, ...] = ()  # https: first, then mailto:
    email_full_papers: int = 20
    min_votes: int = 0
    feed_days: int = 14
    feed_weeks: int = 10  # finished weeks in the weekly feed
    week_top: int = 10
    timezone: str = "Asia/Seoul"
    edition_time: str = "07:00"  # when a day's edition is dated, in the time zone above
    postal_address: tuple[str, ...] = ()  # lines of the footer every email carries
    ledger: str = "newsletter-sent.jsonl"  # what `send` has sent, outside out/ and the cache
    send_editions: tuple[str, ...] = ("daily", "weekly")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.email_to or (self.email_from,)

    @property
    def domain(self) -> str:
        """The site's host name, for Message-ID and List-Id ("localhost" for an IP address,
        which neither may hold)."""
        host = urlsplit(self.site_url).hostname or "localhost"
        return "localhost" if ":" in host or host.replace(".", "").isdigit() else host

    def edition(self, date: dt.date, position: int = 0) -> dt.datetime:
        """A day of the archive as an instant: its edition time in the configured time zone,
        less ``position`` seconds. A day's papers get their places in its source order, so
        each has an instant of its own, and a feed reader that sorts by date shows them in
        the order the day lists them; a paper added at the end moves no other."""
        hour, minute = map(int, self.edition_time.split(":"))
        start = dt.datetime.combine(date, dt.time(hour, minute), tzinfo=self.zone)
        if not position:
            return start
        # In UTC: on a day clocks change, wall-clock arithmetic would skip or repeat an hour.
        return (start.astimezone(dt.UTC) - dt.timedelta(seconds=position)).astimezone(self.zone)

    def week_end(self, sunday: dt.date) -> dt.datetime:
        """A finished week as an instant, the same in its email and its feed entry: the
        last second of its Sunday."""
        return dt.datetime.combine(sunday, dt.time(23, 59, 59), tzinfo=self.zone)

    def warnings(self) -> list[str]:
        """What makes the emails unfit to send to a list, one line each."""
        said = []
        if self.site_url == DEFAULTS.site_url:
            said.append(f"site_url is the default {self.site_url}: emails and feeds link to it")
        if self.email_from == DEFAULTS.email_from:
            said.append(f"email_from is the default {self.email_from}: set a real sender")
        if not self.list_unsubscribe:
            said.append("list_unsubscribe is not set: the emails offer no way to unsubscribe")
        return said

    def url(self, path: str) -> str:
        """The absolute URL of a path inside the published ``out/``."""
        return self.site_url + path.lstrip("/")


FIELDS = {f.name: f for f in dataclasses.fields(Config)}
DEFAULTS = Config()
# The whole-number settings and their smallest sensible value.
MINIMUM = {"email_full_papers": 0, "min_votes": 0, "feed_days": 1, "feed_weeks": 1, "week_top": 1}
# Longest a one-line setting may be: it lands in headers, subjects and every page's title.
MAX_TEXT = 200
MAX_DESCRIPTION = 1000
MAX_URL = 500
STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
URI_SAFE = "/:@!$&'()*+,;=~%?#[]-._"
# A local part as a mailto: URL may hold it (RFC 6068), ASCII and unquoted.
LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$&'*+/=?^_`{|}~-]+)*$")
QUOTED_PAIR = re.compile(r"\\(.)")
EDITION_KINDS = ("daily", "weekly")
MACHINE_ZONES = {"localtime", "posixrules", "Factory"}  # what they mean depends on the machine


def _key_line(text: str, key: str) -> int | None:
    found = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else None


def _text(key: str, value: object, limit: int = MAX_TEXT) -> str:
    """One line of text a reader sees: nothing that could end a header line or a page's
    title, nothing that cannot be written as UTF-8."""
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {value!r}")
    if bad := UNPRINTABLE.search(value):
        if bad.group(0) >= "\ud800":  # from a command-line argument that was not UTF-8
            raise ValueError(f"{key} is not valid UTF-8 text")
        raise ValueError(f"{key} must not contain {describe(bad.group(0))}")
    if not value.strip():
        raise ValueError(f"{key} must not be empty")
    if len(value) > limit:
        raise ValueError(f"{key} must be at most {limit} characters, not {len(value)}")
    return value


def _host(key: str, host: str) -> str:
    """A host name as the network writes it: IDNA 2008 (punycode) for a non-ASCII name,
    as browsers and mail servers resolve it."""
    import idna  # here: only a setting with a host needs it

    if ":" in host:  # an IPv6 address, which urlsplit gives without its brackets
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{key} has an invalid host name: {host!r}") from None
        if address.scope_id is not None:
            raise ValueError(f"{key} must not name a network interface: {host!r}")
        return f"[{address}]"
    try:
        return str(idna.encode(host.rstrip("."), uts46=True).decode("ascii"))
    except (idna.IDNAError, UnicodeError):
        raise ValueError(f"{key} has an invalid host name: {host!r}") from None


def _url(key: str, value: object) -> str:
    """An absolute http(s) URL, written as a URI: a non-ASCII host in punycode, anything
    else outside ASCII (or a space) percent-encoded, so every output writes it the same."""
    text = _text(key, value, MAX_URL)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"{key} is not a valid URL: {text!r}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{key} must be an absolute http(s) URL, not {text!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{key} must not hold a user name or password")
    if port == 0:
        raise ValueError(f"{key} is not a valid URL (port 0): {text!r}")
    netloc = _host(key, parts.hostname) + (f":{port}" if port is not None else "")
    path, query, fragment = (_encoded(part) for part in (parts.path, parts.query, parts.fragment))
    return _bounded(key, urlunsplit((parts.scheme.lower(), netloc, path or "/", query, fragment)))


def _encoded(part: str) -> str:
    """A part of a URL with everything a URI may not hold percent-encoded (a ``%`` that
    starts no escape among it), and the escapes it already has kept."""
    return quote(STRAY_PERCENT.sub("%25", part), safe=URI_SAFE)


def _bounded(key: str, uri: str) -> str:
    """The limit holds for the URI as written, every escape counted."""
    if len(uri) > MAX_URL:
        raise ValueError(f"{key} must be at most {MAX_URL} characters written as a URI")
    return uri


def _site_url(key: str, value: object) -> str:
    url = _url(key, value)
    if "?" in url or "#" in url:
        raise ValueError(f"{key} must not have a query or fragment: {value!r}")
    return url if url.endswith("/") else url + "/"


def _mailbox(key: str, value: object, several: str = "") -> Address:
    """One mailbox, ``Name <user@example.org>`` or ``user@example.org``, parsed completely and
    written exactly so: anything the parser would drop, change or guess at (a comment, a
    second address, a stray comma, an encoded word) is an error, never half a recipient."""
    from email import policy  # here: most builds set no address (10 ms)
    from email.headerregistry import Address

    text = _text(key, value, MAX_TEXT + 260).strip()
    try:
        header = policy.strict.header_factory("To", text)
        groups, defects = header.groups, header.defects
    except Exception:  # the email package's parser fails with IndexError and friends
        groups, defects = (), ("unreadable",)
    mailboxes = [a for group in groups for a in group.addresses]
    if defects or len(groups) != 1 or groups[0].display_name is not None or len(mailboxes) != 1:
        hint = several if len(mailboxes) > 1 else ""
        raise ValueError(f"{key} must be one email address, not {text!r}{hint}")
    found = mailboxes[0]
    if not _written_as(text, found.display_name, found.addr_spec) or "=?" in text:
        raise ValueError(
            f"{key} must be one email address written plainly, 'Name <user@example.org>' "
            f"or 'user@example.org', not {text!r}"
        )
    if not LOCAL_PART.match(found.username):
        raise ValueError(f"{key}: the part before @ must be plain ASCII, not {found.username!r}")
    if len(found.display_name) > MAX_TEXT:
        raise ValueError(f"{key}: the name must be at most {MAX_TEXT} characters")
    domain = _host(key, found.domain)
    return Address(display_name=found.display_name, username=found.username, domain=domain)


def _written_as(text: str, name: str, address: str) -> bool:
    """Whether ``text`` is exactly the mailbox ``name <address>`` (the name plain or quoted)
    or the bare ``address``, with nothing else in it."""
    if not name:
        return text == address or text == f"<{address}>"
    if not text.endswith(f"<{address}>"):
        return False
    phrase = text[: -len(address) - 2].rstrip()
    if phrase.startswith('"') and phrase.endswith('"') and len(phrase) > 1:
        return QUOTED_PAIR.sub(r"\1", phrase[1:-1]) == name
    return phrase == name


def _address(key: str, value: object) -> str:
    return str(_mailbox(key, value))


def _addresses(key: str, value: object) -> tuple[str, ...]:
    """One address, or a TOML array of them."""
    if value == []:
        raise ValueError(f"{key} must name at least one address")
    if isinstance(value, list):
        return tuple(_address(f"{key}[{i}]", item) for i, item in enumerate(value))
    return (str(_mailbox(key, value, "; write several as a TOML array")),)


def _whole(key: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key} must be a whole number, not {value!r}")
    if value < MINIMUM[key]:
        raise ValueError(f"{key} must be at least {MINIMUM[key]}, not {value}")
    return value


def _timezone(key: str, value: object) -> str:
    text = _text(key, value)
    if text in MACHINE_ZONES or text not in available_timezones():
        raise ValueError(f"timezone {text!r} is not a known time zone")
    return text


def _time_of_day(key: str, value: object) -> str:
    """``HH:MM``, 24-hour."""
    text = _text(key, value)
    try:
        written = dt.time.fromisoformat(text)
    except ValueError:
        written = None
    if written is None or len(text) != 5 or written.second or written.tzinfo:
        raise ValueError(f"{key} must be a time of day as HH:MM (24-hour), not {text!r}")
    return text


def _unsubscribe(key: str, value: object) -> tuple[str, ...]:
    """One URI or a TOML array: ``mailto:`` with one address, or an absolute ``https:`` URL;
    https first, as RFC 8058's one-click unsubscribing wants it."""
    uris = []
    for item in value if isinstance(value, list) else [value]:
        text = _text(key, item, MAX_URL)
        if isinstance(value, str) and "," in text:
            raise ValueError(f"{key}: write several URLs as a TOML array, not {text!r}")
        if text.lower().startswith("mailto:"):
            mailbox, _, query = text[len("mailto:") :].partition("?")
            found = _mailbox(key, unquote(mailbox))
            if found.display_name:
                raise ValueError(f"{key}: a mailto: URL holds an address only, not {text!r}")
            written = quote(found.addr_spec, safe="@!$'*+-._~")  # no comma, quote or space
            tail = f"?{_encoded(query)}" if query else ""
            uris.append(_bounded(key, f"mailto:{written}{tail}"))
        elif text.lower().startswith("https:"):
            uris.append(_url(key, text))
        else:
            raise ValueError(f"{key} must be a mailto: or https: URL, not {text!r}")
    if not uris:
        raise ValueError(f"{key} must name at least one URL")
    return tuple(sorted(uris, key=lambda uri: not uri.startswith("https:")))


def _lines(key: str, value: object) -> tuple[str, ...]:
    """One line of text, or a TOML array of lines."""
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ValueError(f"{key} must hold at least one line")
    return tuple(
        _text(f"{key}[{i}]" if isinstance(value, list) else key, v) for i, v in enumerate(values)
    )


def _kinds(key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not set(value) <= set(EDITION_KINDS):
        raise ValueError(
            f"{key} must be a TOML array of {' and '.join(EDITION_KINDS)}, not {value!r}"
        )
    return tuple(kind for kind in EDITION_KINDS if kind in value)


CHECKS: dict[str, Callable[[str, object], object]] = {
    "title": _text,
    "description": partial(_text, limit=MAX_DESCRIPTION),
    "site_url": _site_url,
    "author": _text,
    "email_from": _address,
    "email_to": _addresses,
    "reply_to": _address,
    "list_unsubscribe": _unsubscribe,
    "timezone": _timezone,
    "edition_time": _time_of_day,
    "postal_address": _lines,
    "ledger": partial(_text, limit=MAX_URL),
    "send_editions": _kinds,
    **{key: _whole for key in MINIMUM},
}


def _check_value(key: str, value: object) -> object:
    """The value as the field wants it; ValueError says what is wrong with it."""
    return CHECKS[key](key, value)


def _read_table(path: Path) -> tuple[dict[str, object], str]:
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as error:
        raise ConfigError(f"cannot read: {error.strerror}", file=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", file=str(path)) from None
    except tomllib.TOMLDecodeError as error:
        found = TOML_LINE.search(str(error))
        line = int(found["line"]) if found else None
        raise ConfigError(f"invalid TOML: {error}", file=str(path), line=line) from None
    if path.name == PYPROJECT_NAME:
        tool = data.get("tool", {})
        table = tool.get("newsletter", {}) if isinstance(tool, dict) else {}
        return (table if isinstance(table, dict) else {}), text
    return data, text


def _from_file(path: Path) -> dict[str, object]:
    table, text = _read_table(path)
    values: dict[str, object] = {}
    for key, value in table.items():
        line = _key_line(text, key)
        if key not in FIELDS:
            raise ConfigError(f"unknown key {key!r}", file=str(path), line=line)
        try:
            values[key] = _check_value(key, value)
        except ValueError as error:
            raise ConfigError(str(error), file=str(path), line=line) from None
    return values


def find_config(cwd: Path) -> Path | None:
    """``newsletter.toml``, else a ``pyproject.toml`` that has ``[tool.newsletter]``."""
    candidate = cwd / CONFIG_NAME
    if candidate.is_file():
        return candidate
    pyproject = cwd / PYPROJECT_NAME
    if pyproject.is_file() and "[tool.newsletter]" in pyproject.read_text(errors="replace"):
        return pyproject
    return None


def load_config(
    path: str | None = None,
    overrides: Mapping[str, object] | None = None,
    *,
    cwd: Path | None = None,
) -> Config:
    """Defaults, then the file, then overrides; None in overrides means "not given"."""
    if path is not None and not Path(path).is_file():
        raise ConfigError("no such configuration file", file=path)
    found = Path(path) if path is not None else find_config(cwd or Path())
    values = _from_file(found) if found is not None else {}
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        try:
            values[key] = _check_value(key, value)
        except ValueError as error:
            option = "--" + key.replace("_", "-")
            raise ConfigError(f"{option}: {error}") from None
    return Config(**values)  # type: ignore[arg-type]
