"""What reaches a mail header can never start a header line, lose a recipient or overflow."""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
from email import policy
from email.header import decode_header, make_header
from email.utils import getaddresses
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SEEDS, build_into, unwarned
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.errors import NewsletterError

# Every character str.splitlines() splits on: each would end a header line somewhere.
LINE_BREAKS = ["\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85"]
LINE_BREAKS += ["\u2028", "\u2029"]
TOML_ESCAPES = re.compile('[\\x00-\\x1f\\x7f"\\\\]')  # what a TOML basic string must escape
NEWSLETTER = str(Path(sys.executable).parent / "newsletter")
ONE_DAY = sorted(SEEDS.iterdir())[-1]


def toml_string(value: object) -> str:
    """A TOML basic string (or array of them) holding exactly ``value``."""
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_string, value)) + "]"
    assert isinstance(value, str)
    return '"' + TOML_ESCAPES.sub(lambda m: f"\\u{ord(m.group(0)):04x}", value) + '"'


def build_cli(folder: Path, *args: str) -> tuple[int, str]:
    seeds = folder / "seeds"
    if not seeds.exists():
        seeds.mkdir()
        (seeds / ONE_DAY.name).write_bytes(ONE_DAY.read_bytes())
    os.chdir(folder)
    result = CliRunner().invoke(cli, ["build", "--no-cache", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def mailboxes(data: bytes, name: str) -> list[tuple[str, str]]:
    """(display name, address) of an address header, decoded as RFC 2047 says and mail
    clients do: the white space between two encoded words is dropped. (Python 3.11's own
    address parser adds a space there instead: CPython gh-128110.)"""
    raw = email.message_from_bytes(data)[name]  # the compat32 parser: the header as written
    return [(str(make_header(decode_header(n))), a) for n, a in getaddresses([raw])]


def configured(values: tuple[str, ...]) -> list[tuple[str, str]]:
    found = [policy.strict.header_factory("To", value).addresses[0] for value in values]
    return [(a.display_name, a.addr_spec) for a in found]


def built(folder: Path, settings: str) -> list[tuple[bytes, email.message.EmailMessage]]:
    """The emails of a build of one day with these settings, which must succeed quietly."""
    (folder / "newsletter.toml").write_text(settings)
    code, stderr = build_cli(folder)
    assert (code, unwarned(stderr)) == (0, "")
    return messages(folder / "out")


def messages(out: Path) -> list[tuple[bytes, email.message.EmailMessage]]:
    found = []
    for path in sorted((out / "email").glob("*.eml")):
        data = path.read_bytes()
        message = email.message_from_bytes(data, policy=policy.strict)
        assert isinstance(message, email.message.EmailMessage)
        found.append((data, message))
    assert found
    return found


@pytest.mark.parametrize("breaker", LINE_BREAKS, ids=[f"U+{ord(b[-1]):04X}" for b in LINE_BREAKS])
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("title", "Daily Papers{}Bcc: victim@evil.example"),
        ("description", "Papers{}Bcc: victim@evil.example"),
        ("author", "Editor{}Bcc: victim@evil.example"),
        ("email_from", "Papers{}Bcc: v@evil.example <p@example.org>"),
        ("reply_to", "Editor{}Bcc: v@evil.example <e@example.org>"),
        ("email_to", "Readers{}Bcc: v@evil.example <r@example.org>"),
        ("list_unsubscribe", "https://example.org/u{}Bcc: v@evil.example"),
    ],
)
def test_a_setting_cannot_start_a_header_line(
    chdir_tmp: Path, key: str, value: str, breaker: str
) -> None:
    (chdir_tmp / "newsletter.toml").write_text(f"\n{key} = {toml_string(value.format(breaker))}\n")
    code, stderr = build_cli(chdir_tmp)
    character = f"U+{ord(breaker[0]):04X}"
    assert code == 1 and stderr.startswith(f"Error: newsletter.toml:2: {key} must not contain ")
    assert character in stderr and stderr.count("\n") == 1
    assert not (chdir_tmp / "out").exists()


@pytest.mark.parametrize("breaker", LINE_BREAKS, ids=[f"U+{ord(b[-1]):04X}" for b in LINE_BREAKS])
def test_a_flag_cannot_start_a_header_line(chdir_tmp: Path, breaker: str) -> None:
    code, stderr = build_cli(chdir_tmp, "--title", f"x{breaker}Bcc: victim@evil.example")
    assert code == 1 and stderr.startswith("Error: --title: title must not contain U+")


def test_flags_that_are_not_text_are_config_errors(tmp_path: Path) -> None:
    """A byte that is not UTF-8 reaches Python as a lone surrogate; it never reaches a file."""
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / ONE_DAY.name).write_bytes(ONE_DAY.read_bytes())
    for value, message in [
        (b"\xff", "title is not valid UTF-8 text"),
        (b"x\x0b", "title must not contain U+000B (LINE TABULATION)"),
        (b"x\x1c", "title must not contain U+001C (a control character)"),
        (b"", "title must not be empty"),
    ]:
        result = subprocess.run(
            [NEWSLETTER, "build", "--no-cache", "--title", value], cwd=tmp_path, capture_output=True
        )
        assert (result.returncode, result.stderr) == (1, f"Error: --title: {message}\n".encode())
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            'email_to = "a@example.org, b@example.org"',
            "email_to must be one email address, not 'a@example.org, b@example.org'; "
            "write several as a TOML array",
        ),
        ('email_from = "Papers p@example.org"', "email_from must be one email address"),
        ('email_from = "<p@example.org> Papers"', "email_from must be one email address"),
        ('email_from = "all: a@example.org;"', "email_from must be one email address"),
        ('email_from = "a@example.org, b@example.org"', "email_from must be one email address"),
        ('reply_to = "@example.org"', "reply_to must be one email address"),
        ("email_to = []", "email_to must name at least one address"),
        ('email_to = ["a@example.org", "b"]', "email_to[1] must be one email address, not 'b'"),
        (f'email_from = "{"x" * 201} <p@example.org>"', "email_from: the name must be at most 200"),
        ('email_from = "p@exa mple.org"', "email_from must be one email address"),
    ],
)
def test_addresses_parse_completely_or_not_at_all(
    chdir_tmp: Path, setting: str, message: str
) -> None:
    assert_config_error(chdir_tmp, setting, message)


def assert_config_error(folder: Path, setting: str, message: str) -> None:
    """A newsletter.toml holding ``setting`` stops the build with ``message`` at its line."""
    (folder / "newsletter.toml").write_text(setting + "\n")
    code, stderr = build_cli(folder)
    assert code == 1 and stderr.startswith(f"Error: newsletter.toml:1: {message}"), stderr


def test_several_recipients_as_an_array(chdir_tmp: Path) -> None:
    settings = (
        'email_from = "매일 논문 <papers@뉴스.example>"\n'
        'email_to = ["a@example.org", "\\"Readers, All\\" <b@example.org>"]\n'
    )
    for data, _ in built(chdir_tmp, settings):
        assert mailboxes(data, "To") == [("", "a@example.org"), ("Readers, All", "b@example.org")]
        assert mailboxes(data, "From") == [("매일 논문", "papers@xn--vg1b002a.example")]


def test_long_settings_fold_within_998_bytes(tmp_path: Path) -> None:
    """The longest settings allowed, with no space to fold at, still give short lines."""
    config = load_config(
        None,
        {
            "title": "T" * 200,
            "email_from": '"' + '\\"' * 100 + "x" * 99 + '" <p@example.org>',
            "email_to": ["한" * 200 + " <r@example.org>"],
            "list_unsubscribe": ["https://example.org/" + "u" * 470, "mailto:u@example.org"],
        },
        cwd=tmp_path,
    )
    out = build_into(tmp_path / "out", SEEDS, **vars(config))
    for data, message in messages(out):
        assert max(len(line) for line in data.split(b"\r\n")) <= 998
        assert str(message["Subject"]).startswith("[" + "T" * 200 + "]")
        assert mailboxes(data, "To") == [("한" * 200, "r@example.org")]
        assert mailboxes(data, "From") == [('"' * 100 + "x" * 99, "p@example.org")]


@pytest.mark.parametrize(
    ("key", "value", "written"),
    [
        ("site_url", "https://example.org/뉴스/", "https://example.org/%EB%89%B4%EC%8A%A4/"),
        ("site_url", "https://뉴스.example/", "https://xn--vg1b002a.example/"),
        ("site_url", "https://example.org/daily papers", "https://example.org/daily%20papers/"),
        ("site_url", "https://example.org/50%25/", "https://example.org/50%25/"),
        (
            "list_unsubscribe",
            "https://example.org/구독취소",
            "https://example.org/%EA%B5%AC%EB%8F%85%EC%B7%A8%EC%86%8C",
        ),
        ("list_unsubscribe", "https://example.org/a b", "https://example.org/a%20b"),
    ],
)
def test_international_urls_are_written_as_uris_everywhere(
    chdir_tmp: Path, key: str, value: str, written: str
) -> None:
    (chdir_tmp / "newsletter.toml").write_text(f"{key} = {toml_string(value)}\n")
    code, stderr = build_cli(chdir_tmp)
    assert (code, unwarned(stderr)) == (0, "")
    out = chdir_tmp / "out"
    feed = (out / "feeds/papers.atom").read_text()
    page = (out / "index.html").read_text()
    for _, message in messages(out):
        html = message.get_body(("html",)).get_content()
        assert written in html and (value == written or value not in html)
        if key == "list_unsubscribe":
            assert message["List-Unsubscribe"] == f"<{written}>"
        else:
            assert message["Message-ID"].endswith(f"@{written.split('/')[2]}>")
    if key == "site_url":
        assert f'href="{written}feeds/papers.atom"' in feed and f"{written}index.html" in page


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://exa mple.org/", "site_url has an invalid host name: 'exa mple.org'"),
        ("https://[::1/", "site_url is not a valid URL: 'https://[::1/'"),
        ("https://example.org:99999/", "site_url is not a valid URL"),
        ("https://user:pw@example.org/", "site_url must not hold a user name or password"),
        ("https://example.org/?x=1", "site_url must not have a query or fragment"),
        ("javascript:alert(1)", "site_url must be an absolute http(s) URL"),
    ],
)
def test_invalid_urls_are_config_errors(chdir_tmp: Path, value: str, message: str) -> None:
    assert_config_error(chdir_tmp, f"site_url = {toml_string(value)}", message)


EXPECTED = {"From", "To", "Subject", "Date", "Message-ID", "List-Id", "MIME-Version"}


def mailbox(name: str) -> str:
    """Any text as the display name of a mailbox (a quoted string holds anything)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '" <p@example.org>'


# Mostly text a setting may hold, so most examples build; sometimes anything at all.
TEXT = st.one_of(
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=200),
    st.text(st.characters(codec="utf-8"), max_size=250),
)
SETTINGS = {
    "title": TEXT,
    "description": TEXT,
    "author": TEXT,
    "email_from": TEXT.map(mailbox),
    "reply_to": TEXT.map(mailbox),
    "email_to": st.lists(TEXT.map(mailbox), min_size=1, max_size=3),
    "list_unsubscribe": st.lists(
        st.one_of(
            TEXT.map(lambda t: "https://example.org/" + t),
            st.just("mailto:unsubscribe@example.org"),
        ),
        min_size=1,
        max_size=2,
    ),
    "site_url": st.text(max_size=80).map(lambda t: "https://example.org/" + t),
}


@settings(
    max_examples=int(os.environ.get("NEWSLETTER_FUZZ_EXAMPLES", "12")),
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # explain is slow
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.fixed_dictionaries({}, optional=SETTINGS),
    archive=st.lists(st.text(max_size=200), min_size=3, max_size=3),
)
def test_any_settings_and_text_give_strict_mail_or_a_clean_error(
    tmp_path_factory: pytest.TempPathFactory, values: dict[str, str], archive: list[str]
) -> None:
    """Arbitrary text in every setting that reaches a header and in every archive field: each
    .eml parses strictly to exactly the expected headers, no line passes 998 bytes, and the
    build either works or ends in our own error."""
    folder = tmp_path_factory.mktemp("headers")
    (folder / "seeds").mkdir()
    title, author, summary = archive
    (folder / "seeds" / "day.md").write_text(
        "## Daily Papers (2024-06-19)\n"
        f"### [{title}](https://arxiv.org/abs/2406.00001)\nAuthors: {author}\n- {summary}\n",
        encoding="utf-8",
        errors="surrogatepass",
    )
    toml = "".join(f"{key} = {toml_string(value)}\n" for key, value in values.items())
    (folder / "newsletter.toml").write_text(toml, encoding="utf-8", errors="surrogatepass")
    try:
        config = load_config(str(folder / "newsletter.toml"))
        out = build_into(folder / "out", folder / "seeds", **vars(config))
    except NewsletterError as error:
        event(f"stopped: {error.message.split(' ')[0]} {error.message.split(' ')[-1][:20]}")
        return
    event("built")
    expected = EXPECTED | ({"Reply-To"} if config.reply_to else set())
    if config.list_unsubscribe:
        expected |= {"List-Unsubscribe"}
        expected |= {"List-Unsubscribe-Post"} if "https:" in config.list_unsubscribe[0] else set()
    for data, message in messages(out):
        assert max(len(line) for line in data.split(b"\r\n")) <= 998
        assert sorted(message.keys()) == sorted(expected | {"Content-Type"})
        assert f"[{config.title}]" in str(message["Subject"])
        assert mailboxes(data, "To") == configured(config.recipients)
        assert mailboxes(data, "From") == configured((config.email_from,))


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (  # a quoted local part would decode into three URLs, one the user never wrote
            'list_unsubscribe = "mailto:%22x%3E%2C%3Chttps%3A%2F%2Fevil.example%2Fu%3E'
            '%2C%3Cmailto%3Ay%22@example.org"',
            "list_unsubscribe: the part before @ must be plain ASCII",
        ),
        (
            f'list_unsubscribe = "https://example.org/{"가" * 110}"',
            "list_unsubscribe must be at most 500 characters written as a URI",
        ),
        ('email_to = ["a@💩.la"]', "email_to[0] has an invalid host name"),
        ('site_url = "https://xn--a.example/"', "site_url has an invalid host name"),
        ('site_url = "https://a\\u200db.example/"', "site_url has an invalid host name"),
        ('site_url = "http://[fe80::1%eth0]:8000/"', "site_url must not name a network interface"),
        ('site_url = "https://example.org:0/"', "site_url is not a valid URL (port 0)"),
        ('email_to = "a@example.org,"', "email_to must be one email address"),
        ('email_from = "a@example.org (to: b@evil.org)"', "email_from must be one email address"),
        ('email_from = "Bob (x) <b@example.org>"', "email_from must be one email address"),
        ('email_from = "=?utf-8?q?A=0D=0AB?= <a@example.org>"', "email_from must be one email"),
        ('timezone = "America"', "timezone 'America' is not a known time zone"),
        ('timezone = "localtime"', "timezone 'localtime' is not a known time zone"),
    ],
)
def test_settings_that_would_change_on_their_way_out_are_errors(
    chdir_tmp: Path, setting: str, message: str
) -> None:
    assert_config_error(chdir_tmp, setting, message)


def test_international_names_are_written_as_browsers_and_mail_servers_resolve_them(
    chdir_tmp: Path,
) -> None:
    """IDNA 2008 (UTS 46), not Python's IDNA 2003: faß.de is not fass.de."""
    settings = (
        'site_url = "https://faß.de/"\nemail_to = ["a@faß.de"]\n'
        'list_unsubscribe = "mailto:u@example.org?subject=100% off"\n'
    )
    for data, message in built(chdir_tmp, settings):
        assert mailboxes(data, "To") == [("", "a@xn--fa-hia.de")]
        assert message["Message-ID"].endswith("@xn--fa-hia.de>")
        assert message["List-Unsubscribe"] == "<mailto:u@example.org?subject=100%25%20off>"


def test_text_that_looks_like_an_encoded_word_stays_text(chdir_tmp: Path) -> None:
    title = "=?utf-8?q?Hi=0D=0ABcc=3A_evil=40x=2Eorg?="
    (chdir_tmp / "newsletter.toml").write_text(f"title = {toml_string(title)}\n")
    code, _ = build_cli(chdir_tmp)
    assert code == 0
    for _, message in messages(chdir_tmp / "out"):
        assert str(message["List-Id"]) == f"{title} <newsletter.localhost>"
        assert "Bcc" not in message and str(message["Subject"]).startswith(f"[{title}]")


def test_an_ip_address_site_gives_valid_ids(chdir_tmp: Path) -> None:
    (chdir_tmp / "newsletter.toml").write_text('site_url = "http://[::1]:8000/"\n')
    code, _ = build_cli(chdir_tmp)
    assert code == 0
    for _, message in messages(chdir_tmp / "out"):  # strict: no defect in either header
        assert message["Message-ID"].endswith("@localhost>")
        assert str(message["List-Id"]).endswith("<newsletter.localhost>")
