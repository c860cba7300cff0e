"""The default public and sensitive route lists (CONTRACT.md, route flags) and workbench.toml."""

import pytest

from audit.config import Config, ConfigError, load_config


@pytest.mark.parametrize("path", [
    "/api/auth/login", "/login", "/api/v1/login/access-token", "/oauth/token", "/api/auth/register",
    "/signup", "/api/auth/refresh", "/api/password/reset/request", "/health", "/api/v1/utils/health-check/",
    "/healthz", "/ping", "/version", "/docs", "/openapi.json", "/static/app.css",
])
def test_default_public(path):
    assert Config().is_public(path)


@pytest.mark.parametrize("path", [
    "/api/users/me", "/api/posts/<int:post_id>", "/api/users/<int:id>/token", "/admin/stats", "/api/messages/",
])
def test_not_public(path):
    assert not Config().is_public(path)


def test_config_extends_the_lists_and_switches_rules_off(tmp_path):
    toml = tmp_path / "workbench.toml"
    toml.write_text('[routes]\npublic = ["/api/feed/*"]\nsensitive = ["/api/admin/*"]\n'
                    '[rules]\ndisable = ["WB401"]\n[paths]\nexclude = ["scripts/*"]\n')
    config = load_config(toml)
    assert config.is_public("/api/feed/latest") and config.is_sensitive("/api/admin/export")
    assert not config.rule_enabled("WB401") and config.rule_enabled("WB402")
    assert config.exclude == ("scripts/*",)


def test_bad_config_is_a_clear_error(tmp_path):
    bad = tmp_path / "workbench.toml"
    bad.write_text("[routes]\npublic = 'not a list'\n")
    with pytest.raises(ConfigError, match="routes.public must be a list"):
        load_config(bad)
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml")
