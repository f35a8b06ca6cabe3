"""The shipped deployment files: the production example config is valid, the unit runs `run` hardened."""

from __future__ import annotations

import configparser
from pathlib import Path

from distillwatch.config import load_config

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def test_production_config_is_valid_and_keeps_state_in_var_lib():
    config = load_config(DEPLOY / "distillwatch.toml", env={})
    assert config.storage_path == Path("/var/lib/distillwatch/distillwatch.db")
    assert str(config.outbox_dir).startswith("/var/lib/distillwatch/")
    assert config.sources and not config.network.allow_private_addresses


def test_systemd_unit_runs_the_daemon_with_reload_restart_and_hardening():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # keys are case-sensitive
    unit.read(DEPLOY / "distillwatch.service")
    service = unit["Service"]
    assert service["Type"] == "simple"
    assert service["ExecStart"] == (
        "/opt/distillwatch/.venv/bin/distillwatch --config /etc/distillwatch/distillwatch.toml run")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"] == "/etc/distillwatch/secrets.env"
    assert service["StateDirectory"] == "distillwatch"
    for key in ("ProtectSystem", "NoNewPrivileges", "PrivateTmp"):
        assert service[key] in ("strict", "yes"), key
    assert service.get("User") == "distillwatch" or service.get("DynamicUser") == "yes"
