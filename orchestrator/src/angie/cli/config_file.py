"""The CLI's own settings file: which Angie to talk to and the API token to use (mode 0600).

It lives at ``platformdirs.user_config_dir("angie")/cli.json``, or wherever ``ANGIE_CLI_CONFIG``
points, and holds nothing else: Angie's own settings stay in her environment and ``.env``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_dir

__all__ = (
    "CONFIG_ENV",
    "CliConfig",
    "CliConfigError",
    "config_path",
    "load_config",
    "save_config",
    "write_private",
)

#: The environment variable that moves the file (tests, several Angies on one machine).
CONFIG_ENV = "ANGIE_CLI_CONFIG"


class CliConfigError(Exception):
    """The file cannot be read or written; the message is one sentence naming it."""


@dataclass
class CliConfig:
    url: str | None = None
    token: str | None = None


def config_path() -> Path:
    override = os.environ.get(CONFIG_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(user_config_dir("angie")) / "cli.json"


def load_config(path: Path | None = None) -> CliConfig:
    """The saved settings; an absent file is an empty configuration."""
    path = path or config_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return CliConfig()
    except OSError as err:
        raise CliConfigError(f"cannot read {path}: {err.strerror}") from err
    try:
        data = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as err:
        raise CliConfigError(
            f"{path} is not valid JSON (line {err.lineno}); fix it or delete it and `angie login`"
        ) from err
    if not isinstance(data, dict):
        raise CliConfigError(f"{path} should hold a JSON object; delete it and `angie login`")
    url, token = data.get("url"), data.get("token")
    return CliConfig(
        url=url if isinstance(url, str) and url else None,
        token=token if isinstance(token, str) and token else None,
    )


def save_config(config: CliConfig, path: Path | None = None) -> Path:
    """Write the settings atomically, readable by this user only (the token is a credential)."""
    path = path or config_path()
    data = {key: value for key, value in (("url", config.url), ("token", config.token)) if value}
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private(path, json.dumps(data, indent=2) + "\n")
    except OSError as err:
        raise CliConfigError(f"cannot write {path}: {err.strerror}") from err
    return path


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by this user only (it holds a credential).

    A temporary file in the same folder, created 0600, then renamed over the old one: the
    credential is never readable by others, not even for a moment, nor the file ever half written.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
