"""Angie's settings: read once from the environment (prefix ``ANGIE_``), ``.env`` and secret
files (Docker secrets in ``/run/secrets``), at the edge.

Nothing imports a settings object at module level: ``main()`` and the app factories call
:func:`load_settings` and pass the result down.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from platformdirs import user_data_dir
from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from angie.errors import Invalid

__all__ = (
    "SECRETS_DIR",
    "AngieSettings",
    "Environment",
    "SettingsError",
    "load_settings",
)

ENV_PREFIX = "ANGIE_"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
# Where Docker (compose `secrets:`, swarm) mounts secrets: a file named after a setting, such as
# /run/secrets/angie_secret_key, gives that setting (the environment and .env win over it).
SECRETS_DIR = Path("/run/secrets")
_DATABASE_SCHEMES = ("sqlite+aiosqlite", "mysql+asyncmy")
_REDIS_SCHEMES = ("redis", "rediss", "unix")
# Values that people paste from examples: never acceptable as a production secret.
_PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "change_me", "secret", "placeholder", "replace-me", "xxx"}
)
_MIN_PRODUCTION_SECRET_LENGTH = 32
# Settings whose rejected value may be echoed back; URLs can carry passwords, keys are secret.
_ECHOABLE = frozenset(
    {
        "env",
        "data_dir",
        "log_level",
        "log_format",
        "host",
        "port",
        "allowed_hosts",
        "trusted_proxies",
        "model",
        "mcp_timeout",
        "mcp_launcher",
        "mcp_idle_seconds",
        "scheduler_lease_seconds",
        "scheduler_renew_seconds",
    }
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SettingsError(Invalid):
    """A setting is missing or invalid; the message is one line naming the variable."""


def _default_data_dir() -> Path:
    return Path(user_data_dir("angie", appauthor=False))


def _is_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered in _PLACEHOLDER_SECRETS or lowered.startswith(("<", "${", "your-", "set-"))


class AngieSettings(BaseSettings):
    """Every setting of the orchestrator. Each MCP server has its own prefix and settings."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # `ANGIE_SECRET_KEY=` in a .env means "not set", not "the empty string".
        env_ignore_empty=True,
        validate_default=True,
    )
    # The env file's variables, for :meth:`environ`; filled by load_settings.
    _env_file_values: dict[str, str] = PrivateAttr(default_factory=dict)

    env: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="development, test or production; production refuses unsafe defaults.",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where Angie keeps her SQLite database, generated secret key and files.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy async URL; empty means SQLite in the data dir. "
        "Supported: sqlite+aiosqlite:///path, mysql+asyncmy://user:pass@host/db.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the cache and the Dramatiq broker; unset means embedded in-memory.",
    )
    model: str | None = Field(
        default=None,
        description="A pydantic-ai model string (openai:gpt-4o, anthropic:claude-sonnet-4-5).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs tokens and encrypts credentials; generated into the data dir in "
        "development, required in production.",
    )
    model_base_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible server (Ollama, llama.cpp, vLLM) that "
        "serves ANGIE_MODEL, e.g. http://127.0.0.1:11434/v1.",
    )
    model_api_key: SecretStr | None = Field(
        default=None,
        description="API key for ANGIE_MODEL_BASE_URL (most local servers need none).",
    )
    copilot_cli_path: Path | None = Field(
        default=None,
        description="The GitHub Copilot runtime binary for copilot:<model> (from npm "
        "@github/copilot); unset means the SDK's own lookup.",
    )
    worker_threads: int = Field(
        default=4, ge=1, le=64, description="Tasks one worker process runs at the same time."
    )
    approval_ttl: float = Field(
        default=86_400.0,
        gt=0,
        description="Seconds a pending approval waits for the user before its task fails.",
    )
    max_model_requests: int = Field(
        default=50, ge=1, description="Requests to the language model one agent run may make."
    )
    max_tool_calls: int = Field(default=100, ge=1, description="Tool calls one agent run may make.")
    max_run_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Wall-clock seconds one agent run may take (time waiting for the person "
        "is not counted); a long research run stops there with what it has.",
    )
    max_tokens_per_run: int = Field(
        default=200_000, ge=1, description="Tokens (input and output) one agent run may use."
    )
    max_tool_calls_per_task: int = Field(
        default=300,
        ge=1,
        description="Tool calls one request may make in all: its task, every task it delegated "
        "to and every run of each.",
    )
    max_tokens_per_task: int = Field(
        default=1_000_000,
        ge=1,
        description="Tokens (input and output) one request may use in all, delegations included.",
    )
    max_repeated_calls: int = Field(
        default=3,
        ge=1,
        description="Identical side-effecting calls one task makes before Angie asks the person.",
    )
    daily_budget_usd: Decimal | None = Field(
        default=None,
        gt=0,
        description="US dollars of language model a person's tasks may spend per day (UTC); "
        "once spent, unattended work (cron and webhook tasks) waits for tomorrow. Unset: none.",
    )
    history_messages: int = Field(
        default=40,
        ge=4,
        le=1000,
        description="Conversation messages kept verbatim; older ones are summarised.",
    )
    scheduler_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds the daemon that runs the crons holds the scheduler's lease "
        "unrenewed; another daemon on the same database takes over this long after it dies.",
    )
    scheduler_renew_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="How often the scheduler's lease is renewed by its holder and tried by "
        "the other daemons; less than ANGIE_SCHEDULER_LEASE_SECONDS.",
    )
    mcp_config: Path | None = Field(
        default=None,
        description="An mcpServers JSON file of extra MCP servers; default <data dir>/mcp.json.",
    )
    mcp_timeout: float = Field(
        default=30.0, gt=0, le=600, description="Seconds an MCP tool call may take."
    )
    mcp_launcher: Literal["fork", "exec"] | None = Field(
        default=None,
        description="How built-in MCP servers are started: fork (from one launcher that "
        "imported their code once; the default on Linux) or exec (a fresh Python each).",
    )
    mcp_idle_seconds: float = Field(
        default=600.0,
        ge=0,
        description="Stop a forked built-in MCP server nobody called for this many seconds; "
        "the next call starts it again (in about a tenth of a second). 0 keeps them running. "
        "Never less than twice ANGIE_MCP_TIMEOUT, so no call is cut short.",
    )
    log_level: Annotated[str, Field(description="DEBUG, INFO, WARNING or ERROR.")] = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text", description="text (one readable line) or json (one object per line)."
    )
    host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the API listens on.")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names the API answers to besides loopback and ANGIE_HOST, comma "
        "separated (angie.example.org,192.168.1.20); requests for any other Host are refused.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks of the reverse proxies in front of Angie, comma "
        "separated (127.0.0.1,10.0.0.0/8); only their X-Forwarded-For and X-Forwarded-Proto "
        "are believed. Unset: none, every peer is the client (also for rate limits).",
    )
    storage_url: str | None = Field(
        default=None,
        description="Where Angie keeps files (attachments, exports, scratch files, reports): "
        "file:///path or a path (a mounted NAS share too), sftp://user@host[:port]/path, "
        "s3://bucket/prefix?endpoint=https://…&region=…; default <data dir>/files.",
    )
    storage_access_key_id: str | None = Field(
        default=None, description="The S3 access key id for an s3:// ANGIE_STORAGE_URL."
    )
    storage_secret_access_key: SecretStr | None = Field(
        default=None, description="The S3 secret access key for an s3:// ANGIE_STORAGE_URL."
    )
    storage_password: SecretStr | None = Field(
        default=None, description="The password for an sftp:// ANGIE_STORAGE_URL."
    )
    storage_ssh_key: Path | None = Field(
        default=None, description="A private key file for an sftp:// ANGIE_STORAGE_URL."
    )
    storage_known_hosts: Path | None = Field(
        default=None,
        description="The known_hosts file the SFTP host's key is checked against; "
        "default ~/.ssh/known_hosts.",
    )
    scratch_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="How many bytes of scratch files one conversation may keep.",
    )
    scratch_retention_days: float = Field(
        default=30.0,
        gt=0,
        description="Days a scratch file is kept after it was last written.",
    )
    revoke_tokens_on_password_change: bool = Field(
        default=True,
        description="Changing a password also revokes the person's personal API tokens (a token "
        "made with a stolen password must not outlive the change); false keeps them.",
    )

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand_data_dir(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            hosts = [str(host).strip().lower() for host in value]
            for host in hosts:
                if "/" in host or " " in host:
                    raise ValueError(f"{host!r} is not a host name (no scheme, path or spaces)")
            return [host for host in hosts if host]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            proxies = [str(proxy).strip() for proxy in value if str(proxy).strip()]
            for proxy in proxies:
                try:
                    ipaddress.ip_network(proxy, strict=False)
                except ValueError:
                    raise ValueError(
                        f"{proxy!r} is not an IP address or network (such as 10.0.0.0/8)"
                    ) from None
            return proxies
        return value

    @field_validator("database_url", mode="after")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and not value.startswith(tuple(f"{s}://" for s in _DATABASE_SCHEMES)):
            scheme = value.split("://", 1)[0] if "://" in value else value[:20]
            raise ValueError(
                f"unsupported scheme {scheme!r}; use one of {', '.join(_DATABASE_SCHEMES)}"
            )
        return value

    @field_validator("redis_url", mode="after")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(tuple(f"{s}://" for s in _REDIS_SCHEMES)):
            raise ValueError(
                f"must start with one of {', '.join(s + '://' for s in _REDIS_SCHEMES)}"
            )
        return value

    @field_validator("log_level", mode="after")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @model_validator(mode="after")
    def _resolve(self) -> AngieSettings:
        if self.scheduler_renew_seconds >= self.scheduler_lease_seconds:
            raise ValueError(
                "ANGIE_SCHEDULER_RENEW_SECONDS must be less than ANGIE_SCHEDULER_LEASE_SECONDS "
                f"(got {self.scheduler_renew_seconds:g} and {self.scheduler_lease_seconds:g})"
            )
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'angie.db'}"
        if self.mcp_config is None:
            self.mcp_config = self.data_dir / "mcp.json"
        if not self.storage_url:
            self.storage_url = (self.data_dir / "files").as_uri()
        if self.env is Environment.PRODUCTION:
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if not key:
                raise ValueError("ANGIE_SECRET_KEY must be set in production")
            if _is_placeholder(key) or len(key) < _MIN_PRODUCTION_SECRET_LENGTH:
                raise ValueError(
                    "ANGIE_SECRET_KEY looks like a placeholder; use at least "
                    f"{_MIN_PRODUCTION_SECRET_LENGTH} random characters "
                    '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
                )
        return self

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def environ(self, name: str) -> str | None:
        """A variable other libraries read by its own name (a provider's key such as
        OPENAI_API_KEY): from the process environment, else from the env file these settings
        were loaded from (which does not change the process environment)."""
        return os.environ.get(name) or self._env_file_values.get(name) or None

    def environment(self) -> dict[str, str]:
        """Every variable Angie sees: the env file these settings were loaded from, under the
        process environment (which wins), as a ``${VAR}`` in an mcpServers file reads them."""
        return {**self._env_file_values, **os.environ}

    def with_environ(self, values: Mapping[str, str]) -> AngieSettings:
        """A copy whose env file also holds ``values`` (the process environment still wins)."""
        copy = self.model_copy()
        copy._env_file_values = {**self._env_file_values, **values}
        return copy

    @property
    def secret(self) -> str:
        """The secret key's value; :func:`load_settings` guarantees there is one."""
        if self.secret_key is None:
            raise SettingsError("ANGIE_SECRET_KEY: not set (load settings with load_settings())")
        return self.secret_key.get_secret_value()


def _describe(error: Any) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part != "__root__"]
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if not loc:
        return message
    name = f"{ENV_PREFIX}{loc[0].upper()}"
    shown = error.get("input")
    if loc[0] in _ECHOABLE and isinstance(shown, str | int | float) and shown != "":
        return f"{name}: {message} (got {shown!r})"
    return f"{name}: {message}"


def _secret_from_data_dir(data_dir: Path) -> SecretStr:
    """Read the development secret key, creating it (mode 0600) the first time."""
    path = data_dir / SECRET_KEY_FILE
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(48))
        value = path.read_text(encoding="utf-8").strip()
    except OSError as err:
        raise SettingsError(
            f"ANGIE_DATA_DIR: cannot create the secret key file {path} ({err.strerror})"
        ) from err
    if not value:
        raise SettingsError(f"ANGIE_SECRET_KEY: the generated key file {path} is empty")
    return SecretStr(value)


def _secrets_dir(path: Path | str | None) -> Path | None:
    """``path`` if it is a folder; None when there is none (Angie outside a container)."""
    if path is None or not Path(path).is_dir():
        return None
    return Path(path)


def load_settings(
    env_file: Path | str | None = ".env",
    *,
    secrets_dir: Path | str | None = SECRETS_DIR,
    **overrides: Any,
) -> AngieSettings:
    """Build the settings at the edge; raise :class:`SettingsError` with one clear line.

    Sources, first wins: ``overrides``, the environment, ``env_file``, then one file per setting
    in ``secrets_dir`` (``angie_secret_key`` holds ANGIE_SECRET_KEY), when that folder exists.
    Outside production an unset secret key is generated once into the data dir, so a fresh
    machine runs with nothing configured.
    """
    try:
        settings = AngieSettings(
            _env_file=env_file, _secrets_dir=_secrets_dir(secrets_dir), **overrides
        )
    except ValidationError as err:
        first = err.errors()[0]
        raise SettingsError(_describe(first)) from None
    except OSError as err:  # a secrets folder or file this process may not read
        raise SettingsError(f"cannot read {err.filename} ({err.strerror or err})") from None
    if settings.secret_key is None:
        settings.secret_key = _secret_from_data_dir(settings.data_dir)
    if env_file is not None and Path(env_file).is_file():
        from dotenv import dotenv_values

        values = dotenv_values(env_file, encoding="utf-8")
        settings._env_file_values = {k: v for k, v in values.items() if v}
    return settings
