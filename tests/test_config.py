"""Configuration: defaults, file, flags, and errors that name the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import FIELDS, Config, load_config
from newsletter.errors import ConfigError


def test_defaults_without_any_file(chdir_tmp: Path) -> None:
    config = load_config()
    assert config == Config()
    assert config.timezone == "Asia/Seoul" and config.feed_days == 14
    assert config.recipients == (config.email_from,)


def test_file_then_flags(chdir_tmp: Path) -> None:
    (chdir_tmp / "newsletter.toml").write_text(
        'title = "From file"\nsite_url = "https://papers.example.org/ko"\nfeed_days = 7\n'
    )
    config = load_config(None, {"title": None, "feed_days": 3, "site_url": None})
    assert config.title == "From file"  # a flag not given is not an override
    assert config.feed_days == 3  # a flag given wins
    assert config.site_url == "https://papers.example.org/ko/"


def test_pyproject_tool_table(chdir_tmp: Path) -> None:
    (chdir_tmp / "pyproject.toml").write_text(
        '[project]\nname="x"\n[tool.newsletter]\nmin_votes = 5\n'
    )
    assert load_config().min_votes == 5


def test_newsletter_toml_wins_over_pyproject(chdir_tmp: Path) -> None:
    (chdir_tmp / "pyproject.toml").write_text("[tool.newsletter]\nmin_votes = 5\n")
    (chdir_tmp / "newsletter.toml").write_text("min_votes = 2\n")
    assert load_config().min_votes == 2


def test_explicit_config_file(chdir_tmp: Path) -> None:
    (chdir_tmp / "other.toml").write_text('timezone = "UTC"\n')
    assert load_config("other.toml").timezone == "UTC"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('titel = "x"\n', "newsletter.toml:1: unknown key 'titel'"),
        (
            'title = "x"\nfeed_days = "many"\n',
            "newsletter.toml:2: feed_days must be a whole number, not 'many'",
        ),
        ("feed_days = 0\n", "newsletter.toml:1: feed_days must be at least 1, not 0"),
        (
            'site_url = "/relative"\n',
            "newsletter.toml:1: site_url must be an absolute http(s) URL, not '/relative'",
        ),
        (
            'timezone = "Mars/Olympus"\n',
            "newsletter.toml:1: timezone 'Mars/Olympus' is not a known time zone",
        ),
        (
            'email_from = "nobody"\n',
            "newsletter.toml:1: email_from must be one email address, not 'nobody'",
        ),
        ("min_votes = true\n", "newsletter.toml:1: min_votes must be a whole number, not True"),
    ],
)
def test_bad_values_name_key_file_and_line(chdir_tmp: Path, text: str, message: str) -> None:
    (chdir_tmp / "newsletter.toml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert str(caught.value) == message


def test_invalid_toml_names_line(chdir_tmp: Path) -> None:
    (chdir_tmp / "newsletter.toml").write_text('title = "ok"\ntitle = = 3\n')
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert str(caught.value).startswith("newsletter.toml:2: invalid TOML")


def test_missing_explicit_file(chdir_tmp: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("nope.toml")
    assert str(caught.value) == "nope.toml: no such configuration file"


def test_bad_flag_value_names_the_flag(chdir_tmp: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"timezone": "Nowhere/Land"})
    assert str(caught.value) == "--timezone: timezone 'Nowhere/Land' is not a known time zone"


def test_the_readme_example_is_every_setting_and_loads(chdir_tmp: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    (chdir_tmp / "newsletter.toml").write_text(example)
    config = load_config()
    assert config.email_to and config.list_unsubscribe and config.postal_address
    written = {line.split("=")[0].strip() for line in example.splitlines() if "=" in line}
    assert written == set(FIELDS)
