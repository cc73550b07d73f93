"""Settings: defaults, .env loading, the generated development key, one-line errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from angie.settings import AngieSettings, Environment, SettingsError, load_settings


def test_defaults_put_sqlite_in_the_data_dir(data_dir: Path) -> None:
    settings = load_settings(env_file=None, data_dir=data_dir)
    assert settings.env is Environment.DEVELOPMENT
    assert settings.database_url == f"sqlite+aiosqlite:///{data_dir / 'angie.db'}"
    assert settings.redis_url is None
    assert settings.model is None
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANGIE_MODEL", "openai:gpt-4o-mini")
    monkeypatch.setenv("ANGIE_REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = load_settings(env_file=None)
    assert settings.model == "openai:gpt-4o-mini"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ANGIE_PORT=9123\nANGIE_LOG_LEVEL=debug\nANGIE_HUE_BRIDGE=10.0.0.2\n")
    settings = load_settings(env_file=env_file)
    assert settings.port == 9123
    assert settings.log_level == "DEBUG"


def test_empty_values_in_dotenv_mean_unset(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ANGIE_SECRET_KEY=\nANGIE_MODEL=\nANGIE_REDIS_URL=\n")
    settings = load_settings(env_file=env_file)
    assert settings.model is None
    assert settings.redis_url is None
    assert settings.secret == (settings.data_dir / "secret_key").read_text()


def test_environment_wins_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ANGIE_PORT=9123\n")
    monkeypatch.setenv("ANGIE_PORT", "9200")
    assert load_settings(env_file=env_file).port == 9200


def test_mysql_url_is_accepted(data_dir: Path) -> None:
    url = "mysql+asyncmy://angie:pw@127.0.0.1:3306/angie"
    settings = load_settings(env_file=None, data_dir=data_dir, database_url=url)
    assert settings.database_url == url
    assert not settings.uses_sqlite


def test_secret_key_is_generated_once_in_development(data_dir: Path) -> None:
    first = load_settings(env_file=None, data_dir=data_dir).secret
    second = load_settings(env_file=None, data_dir=data_dir).secret
    key_file = data_dir / "secret_key"
    assert first == second
    assert len(first) >= 48
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_secret_key_is_never_shown_in_repr(data_dir: Path) -> None:
    settings = load_settings(env_file=None, data_dir=data_dir)
    assert settings.secret not in repr(settings)
    assert settings.secret not in str(settings)


def test_production_requires_a_secret_key(data_dir: Path) -> None:
    with pytest.raises(SettingsError, match=r"^ANGIE_SECRET_KEY must be set in production$"):
        load_settings(env_file=None, data_dir=data_dir, env="production")
    assert not (data_dir / "secret_key").exists()


@pytest.mark.parametrize("placeholder", ["changeme", "<your secret key>", "short-but-random-1"])
def test_production_refuses_a_placeholder_secret_key(data_dir: Path, placeholder: str) -> None:
    with pytest.raises(SettingsError, match="ANGIE_SECRET_KEY looks like a placeholder"):
        load_settings(env_file=None, data_dir=data_dir, env="production", secret_key=placeholder)


def test_production_accepts_a_real_secret_key(data_dir: Path) -> None:
    key = "q3VdQk1mJ0x8r2n6Z5cT7wYb4hL9pA0eS1uF"
    settings = load_settings(env_file=None, data_dir=data_dir, env="production", secret_key=key)
    assert settings.secret == key


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ANGIE_PORT", "70000", "ANGIE_PORT: Input should be less than or equal to 65535"),
        ("ANGIE_PORT", "http", "ANGIE_PORT: Input should be a valid integer"),
        ("ANGIE_ENV", "prod", "ANGIE_ENV: Input should be 'development', 'test' or 'production'"),
        ("ANGIE_DATABASE_URL", "postgresql://x/y", "ANGIE_DATABASE_URL: unsupported scheme"),
        ("ANGIE_REDIS_URL", "http://127.0.0.1", "ANGIE_REDIS_URL: must start with one of"),
        ("ANGIE_LOG_LEVEL", "loud", "ANGIE_LOG_LEVEL: must be one of"),
        (
            "ANGIE_SCHEDULER_LEASE_SECONDS",
            "0",
            "ANGIE_SCHEDULER_LEASE_SECONDS: Input should be greater than 0",
        ),
        (
            "ANGIE_SCHEDULER_RENEW_SECONDS",
            "45",
            "ANGIE_SCHEDULER_RENEW_SECONDS must be less than ANGIE_SCHEDULER_LEASE_SECONDS "
            "(got 45 and 30)",
        ),
    ],
)
def test_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_the_scheduler_lease_can_be_shortened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANGIE_SCHEDULER_LEASE_SECONDS", "2")
    monkeypatch.setenv("ANGIE_SCHEDULER_RENEW_SECONDS", "0.5")
    settings = load_settings(env_file=None)
    assert (settings.scheduler_lease_seconds, settings.scheduler_renew_seconds) == (2.0, 0.5)


def test_error_never_echoes_a_database_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANGIE_DATABASE_URL", "postgresql://angie:hunter2@db/angie")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    assert "hunter2" not in str(caught.value)


def test_unreadable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SettingsError, match=r"^ANGIE_DATA_DIR: cannot create the secret key file"):
        load_settings(env_file=None, data_dir=blocker / "data")


def test_settings_are_not_built_at_import() -> None:
    import angie.settings as module

    assert not [value for value in vars(module).values() if isinstance(value, AngieSettings)]
