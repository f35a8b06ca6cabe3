"""Every CLI command has help and is documented in README; every config key is documented."""

import re
from pathlib import Path

import pytest

from distillwatch.cli import build_parser
from distillwatch.config import load_config

README = (Path(__file__).resolve().parents[3] / "README.md").read_text("utf-8")


def _commands() -> dict:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return sub.choices


@pytest.mark.parametrize("name", sorted(_commands()))
def test_command_is_documented_and_has_help(name):
    sub = _commands()[name]
    assert sub.description and sub.description.strip()
    assert f"`distillwatch {name}" in README, f"README does not document `distillwatch {name}`"
    for action in sub._actions:
        if action.option_strings and action.dest != "help":
            assert action.help, f"{name} {action.option_strings} has no help"


def test_every_config_key_is_documented():
    import tomllib

    from distillwatch.config import default_config_text

    data = tomllib.loads(default_config_text())
    keys = set()
    for value in data.values():
        if isinstance(value, dict):
            keys |= {k for k in value if not isinstance(value[k], list) or k in ("recipients", "admins", "exclude")}
    keys |= {k for source in data["sources"] for k in source}
    keys |= {k for rule in data["topic"]["rules"] for k in rule}
    missing = sorted(k for k in keys if not re.search(rf"`(\w+\.)?{re.escape(k)}`", README))
    assert missing == [], f"config keys missing from README: {missing}"
    assert load_config(None, env={})
