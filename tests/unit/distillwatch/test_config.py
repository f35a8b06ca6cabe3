import pytest

from distillwatch.cli import main
from distillwatch.config import ConfigError, Secrets, load_config, parse_config, resolve_config_path

GOOD = {
    "sources": [{"url": "https://ledger.example/feed", "kind": "feed", "name": "Ledger", "priority": 2}],
    "topic": {"name": "t", "rules": [{"name": "r", "any": ["distillation attack"]}]},
}


def test_embedded_default_is_valid_and_covers_the_topic():
    config = load_config(None, env={})
    kinds = {s.kind for s in config.sources}
    assert {"feed", "sitemap", "wordpress", "html"} <= kinds
    assert any("news.google.com" in s.url for s in config.sources)
    assert any(rule.lang == "zh" for rule in config.topic.rules)
    assert config.network.allow_private_addresses is False


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"sources": [{"url": "ftp://x", "kind": "feed"}]}, "sources[0].url: must be an http(s) URL"),
        ({"sources": [{"url": "https://x", "kind": "rss"}]}, "sources[0].kind: must be one of"),
        ({"sources": [{"url": "https://x", "kind": "html"}]}, "sources[0].link_selector: is required"),
        ({"sources": [{"url": "https://x"}, {"url": "https://x"}]}, "sources[1].url: duplicates sources[0]"),
        ({"sources": [{"url": "https://x", "priority": "high"}]}, "sources[0].priority: must be an integer"),
        ({"sources": [{"url": "https://x", "interval": 5}]}, "sources[0].interval: must be at least 60"),
        ({"schedule": {"timezone": "Mars/Olympus"}}, "schedule.timezone: unknown time zone"),
        ({"schedule": {"digest_time": "8 am"}}, "schedule.digest_time: must be HH:MM"),
        ({"network": {"allow_private_addresses": "yes"}}, "network.allow_private_addresses: must be true or false"),
        ({"network": {"allow_addresses": ["intranet.example:80"]}},
         "network.allow_addresses: 'intranet.example:80' is not an address, address:port or network"),
        ({"network": {"allow_addresses": ["10.0.0.5:0"]}}, "network.allow_addresses: '10.0.0.5:0' has an invalid port"),
        ({"email": {"host": "smtp.example.org", "recipients": ["x@example.org"]}}, "email.from: is required"),
        ({"email": {"security": "tls"}}, "email.security: must be starttls, ssl or none"),
        ({"telegram": {"admins": ["me"]}}, "telegram.admins: must be a list of numeric"),
        ({"topic": {"rules": [{"name": "empty"}]}}, "topic.rules[0]: needs 'all' groups or 'any' terms"),
        ({"topic": {"rules": [{"all": ["distill"]}]}}, "topic.rules[0].all: must be a list of non-empty lists"),
        ({"telegarm": {}}, "telegarm: unknown key"),
        ({"schedule": {"tick": 600}}, "schedule.tick: must be at most schedule.min_interval (300), got 600"),
        ({"schedule": {"tick": 0}}, "schedule.tick: must be at least 1"),
        ({"websub": {"enabled": True}}, "websub.callback_url: must be set when websub.enabled is true"),
        ({"websub": {"callback_url": "ftp://me.example/websub"}}, "websub.callback_url: must be an http(s) URL"),
        ({"websub": {"listen_port": 70000}}, "websub.listen_port: must be at most 65535"),
        ({"websub": {"lease": 5}}, "websub.lease: unknown key"),
        ({"email": {"groups": [{"name": "asia", "recipients": []}]}}, "email.groups[0].recipients: must list"),
        ({"email": {"groups": [{"name": "a b", "recipients": ["x@y.z"]}]}}, "email.groups[0].name: must be letters"),
        ({"email": {"groups": [{"name": "a", "recipients": ["x@y.z"], "timezone": "Asia/Nowhere"}]}},
         "email.groups[0].timezone: unknown time zone"),
        ({"email": {"groups": [{"name": "a", "recipients": ["x@y.z"]}, {"name": "a", "recipients": ["x@y.z"]}]}},
         "email.groups[1].name: duplicates"),
        ({"metrics": {"port": 70000}}, "metrics.port: must be at most 65535"),
        ({"metrics": {"port": -1}}, "metrics.port: must be at least 0"),
        ({"metrics": {"enabled": "yes"}}, "metrics.enabled: must be true or false"),
        ({"metrics": {"host": " "}}, "metrics.host: must not be empty"),
        ({"metrics": {"path": "/m"}}, "metrics.path: unknown key"),
    ],
)
def test_each_problem_is_reported_with_its_key_path(patch, message):
    with pytest.raises(ConfigError) as err:
        parse_config({**GOOD, **patch})
    assert message in str(err.value)


def test_metrics_are_off_by_default_and_on_loopback():
    default = parse_config(GOOD).metrics
    assert (default.enabled, default.host, default.port) == (False, "127.0.0.1", 9464)
    on = parse_config({**GOOD, "metrics": {"enabled": True, "host": "0.0.0.0", "port": 9100}}).metrics
    assert (on.enabled, on.host, on.port) == (True, "0.0.0.0", 9100)


def test_all_problems_are_reported_at_once():
    with pytest.raises(ConfigError) as err:
        parse_config({"sources": [{"url": "ftp://x", "kind": "rss"}], "schedule": {"timezone": "Nowhere"}})
    assert len(err.value.problems) == 3


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    path = tmp_path / "conf" / "distillwatch.toml"
    path.parent.mkdir()
    path.write_text('[storage]\npath = "data/dw.db"\n[outbox]\ndir = "/tmp/x"\n')
    config = load_config(path, env={})
    assert config.storage_path == path.parent / "data" / "dw.db"
    assert str(config.outbox_dir) == "/tmp/x"


def test_secrets_come_from_env_and_never_show_in_repr():
    config = parse_config(GOOD, env={"TELEGRAM_BOT_TOKEN": "123:SECRET", "SMTP_PASSWORD": "hunter2"})
    assert config.secrets == Secrets("123:SECRET", "hunter2")
    assert "SECRET" not in repr(config) and "hunter2" not in repr(config)


def test_config_path_resolution(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_config_path(None, env={}) is None
    assert str(resolve_config_path(None, env={"DISTILLWATCH_CONFIG": "/etc/dw.toml"})) == "/etc/dw.toml"
    assert str(resolve_config_path("given.toml", env={"DISTILLWATCH_CONFIG": "/etc/dw.toml"})) == "given.toml"
    (tmp_path / "distillwatch.toml").write_text("")
    assert resolve_config_path(None, env={}).name == "distillwatch.toml"


def test_bad_config_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[sources]]\nurl = "https://x"\nkind = "rss"\n')
    assert main(["--config", str(bad), "check"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "sources[0].kind" in err and str(bad) in err
    bad.write_text("[[sources]\n")
    assert main(["--config", str(bad), "check"]) == 2
    assert "invalid TOML" in capsys.readouterr().err
    assert main(["--config", str(tmp_path / "missing.toml"), "check"]) == 2
    assert "file not found" in capsys.readouterr().err


def test_init_writes_the_default_and_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "dw.toml"
    assert main(["init", str(target)]) == 0
    assert load_config(target, env={}).topic.name == load_config(None, env={}).topic.name
    assert main(["init", str(target)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["--config", str(target), "check"]) == 0
