"""Settings: defaults, then ``newsletter.toml`` (or ``[tool.newsletter]``), then CLI flags."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

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
    email_to: str | None = None
    reply_to: str | None = None
    list_unsubscribe: str | None = None
    email_full_papers: int = 20
    min_votes: int = 0
    feed_days: int = 14
    week_top: int = 10
    timezone: str = "Asia/Seoul"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def recipient(self) -> str:
        return self.email_to or self.email_from

    @property
    def domain(self) -> str:
        return urlsplit(self.site_url).hostname or "localhost"

    def midnight(self, date: dt.date) -> dt.datetime:
        """A day of the archive as an instant: its midnight in the configured time zone."""
        return dt.datetime.combine(date, dt.time(), tzinfo=self.zone)

    def url(self, path: str) -> str:
        """The absolute URL of a path inside the published ``out/``."""
        return self.site_url + path.lstrip("/")


FIELDS = {f.name: f for f in dataclasses.fields(Config)}
# The whole-number settings and their smallest sensible value.
MINIMUM = {"email_full_papers": 0, "min_votes": 0, "feed_days": 1, "week_top": 1}


def _key_line(text: str, key: str) -> int | None:
    found = re.search(rf"^\s*{re.escape(key)}\s*=", text, re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else None


def _check_value(key: str, value: object) -> object:
    """The value as the field wants it, or a ConfigError message (raised by the caller)."""
    if key in MINIMUM:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{key} must be a whole number, not {value!r}")
        if value < MINIMUM[key]:
            raise ValueError(f"{key} must be at least {MINIMUM[key]}, not {value}")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {value!r}")
    return _check_text(key, value)


def _check_text(key: str, value: str) -> str:
    if key == "site_url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"site_url must be an absolute http(s) URL, not {value!r}")
        return value if value.endswith("/") else value + "/"
    if key == "timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {value!r} is not a known time zone") from None
    if key in ("email_from", "email_to", "reply_to") and "@" not in parseaddr(value)[1]:
        raise ValueError(f"{key} must be an email address, not {value!r}")
    if key == "list_unsubscribe" and urlsplit(value).scheme not in ("https", "http", "mailto"):
        raise ValueError(f"list_unsubscribe must be an https: or mailto: URL, not {value!r}")
    return value


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
