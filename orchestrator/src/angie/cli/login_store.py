"""The CLI's saved login: which Angie to talk to and the API token to use (a 0600 file).

It lives at ``platformdirs.user_config_dir("angie")/cli.json``, or wherever ``ANGIE_CLI_CONFIG``
points, and holds nothing else: Angie's own settings stay in her environment and ``.env``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_dir

from angie.cli.private_file import write_private

__all__ = (
    "LOGIN_STORE_ENV",
    "LoginStoreError",
    "SavedLogin",
    "load_login",
    "login_path",
    "save_login",
)

#: The environment variable that moves the file (tests, several Angies on one machine).
LOGIN_STORE_ENV = "ANGIE_CLI_CONFIG"


class LoginStoreError(Exception):
    """The file cannot be read or written; the message is one sentence naming it."""


@dataclass
class SavedLogin:
    url: str | None = None
    token: str | None = None


def login_path() -> Path:
    override = os.environ.get(LOGIN_STORE_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(user_config_dir("angie")) / "cli.json"


def load_login(path: Path | None = None) -> SavedLogin:
    """The saved settings; an absent file is an empty configuration."""
    path = path or login_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return SavedLogin()
    except OSError as err:
        raise LoginStoreError(f"cannot read {path}: {err.strerror}") from err
    try:
        data = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as err:
        raise LoginStoreError(
            f"{path} is not valid JSON (line {err.lineno}); fix it or delete it and `angie login`"
        ) from err
    if not isinstance(data, dict):
        raise LoginStoreError(f"{path} should hold a JSON object; delete it and `angie login`")
    url, token = data.get("url"), data.get("token")
    return SavedLogin(
        url=url if isinstance(url, str) and url else None,
        token=token if isinstance(token, str) and token else None,
    )


def save_login(config: SavedLogin, path: Path | None = None) -> Path:
    """Write the settings atomically, readable by this user only (the token is a credential)."""
    path = path or login_path()
    data = {key: value for key, value in (("url", config.url), ("token", config.token)) if value}
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(path, json.dumps(data, indent=2) + "\n")
    except OSError as err:
        raise LoginStoreError(f"cannot write {path}: {err.strerror}") from err
    return path
