"""Sign-in by typed credentials: `auth` asks, checks with the vendor, stores them encrypted; they
then win over the environment; a refusal or a cancelled sign-in stores nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from angie_mcp_core.credentials import credentials_command
from angie_mcp_core.runner import ConfigError, load_settings, main
from angie_mcp_core.settings import ServerSettings


class MailSettings(ServerSettings):
    model_config = SettingsConfigDict(env_prefix="ANGIE_TYPED_")
    required: ClassVar[tuple[str, ...]] = ("address", "app_password")
    typed_credentials: ClassVar[tuple[str, ...]] = ("address", "app_password")
    address: str | None = None
    app_password: SecretStr | None = None
    token_file: Path = Field(default=Path("tokens.enc"))
    token_key: SecretStr | None = None


GOOD = ("sam@example.com", "abcd efgh ijkl mnop")
tried: list[tuple[str | None, str | None]] = []


async def _check(settings: Any) -> str:
    password = settings.app_password.get_secret_value() if settings.app_password else None
    tried.append((settings.address, password))
    if (settings.address, password) != GOOD:
        raise PermissionError("authentication failed")
    return f"the mailbox of {settings.address}"


def _never(_settings: Any) -> Any:
    raise AssertionError("a server is not built to sign in")


def _auth(monkeypatch: pytest.MonkeyPatch, typed: str, *extra: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    command = credentials_command(_check, service="Example Mail")
    return main(_never, MailSettings, ["auth", *extra], prog="typed", commands=[command])


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tried.clear()
    monkeypatch.setenv("ANGIE_TYPED_TOKEN_FILE", str(tmp_path / "tokens.enc"))
    for name in ("ANGIE_TYPED_ADDRESS", "ANGIE_TYPED_APP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def test_checked_credentials_are_stored_encrypted_and_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _auth(monkeypatch, "sam@example.com\nabcd efgh ijkl mnop\n") == 0
    assert "Signed in: the mailbox of sam@example.com" in capsys.readouterr().out
    assert tried == [GOOD]
    stored = (tmp_path / "tokens.enc").read_bytes()
    assert b"abcd" not in stored
    assert b"sam@example.com" not in stored
    # The household's environment names another mailbox: the signed-in one wins.
    monkeypatch.setenv("ANGIE_TYPED_ADDRESS", "household@example.com")
    monkeypatch.setenv("ANGIE_TYPED_APP_PASSWORD", "household-password")
    settings = load_settings(MailSettings)
    assert settings.address == "sam@example.com"
    assert settings.app_password is not None
    assert settings.app_password.get_secret_value() == "abcd efgh ijkl mnop"
    assert settings.missing() == []


def test_without_a_sign_in_the_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANGIE_TYPED_ADDRESS", "household@example.com")
    settings = load_settings(MailSettings)
    assert settings.address == "household@example.com"
    assert settings.missing() == ["ANGIE_TYPED_APP_PASSWORD"]


def test_a_refused_sign_in_stores_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _auth(monkeypatch, "sam@example.com\nwrong\n") == 1
    said = capsys.readouterr().err
    assert "Example Mail refused the sign-in: authentication failed" in said
    assert "wrong" not in said
    assert not (tmp_path / "tokens.enc").exists()


@pytest.mark.parametrize(
    ("typed", "code", "said"),
    [
        ("sam@example.com\n", 1, "the sign-in was cancelled; nothing was stored"),
        ("sam@example.com\n\n", 2, "ANGIE_TYPED_APP_PASSWORD cannot be empty"),
    ],
)
def test_a_cancelled_or_empty_sign_in_stores_nothing_and_asks_nobody(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    typed: str,
    code: int,
    said: str,
) -> None:
    assert _auth(monkeypatch, typed) == code
    assert said in capsys.readouterr().err
    assert tried == []
    assert not (tmp_path / "tokens.enc").exists()


def test_revoke_forgets_the_stored_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert _auth(monkeypatch, "sam@example.com\nabcd efgh ijkl mnop\n") == 0
    assert _auth(monkeypatch, "", "--revoke") == 0
    assert not (tmp_path / "tokens.enc").exists()
    assert load_settings(MailSettings).address is None


def test_an_unreadable_token_file_is_a_clear_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert _auth(monkeypatch, "sam@example.com\nabcd efgh ijkl mnop\n") == 0
    monkeypatch.setenv("ANGIE_TYPED_TOKEN_KEY", "another key that is long enough to use")
    with pytest.raises(ConfigError, match=r"^ANGIE_TYPED_TOKEN_FILE: .*sign in again"):
        load_settings(MailSettings)
