"""The servers this Angie knows, assembled from settings: built-ins, the mcpServers file and the
environment (with .env) their credentials come from."""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values

from angie.mcp.registry import ServerSpec, builtin_specs, load_config_file, merge
from angie.settings import AngieSettings

__all__ = ("server_environ", "servers")


def server_environ(env_file: Path | None) -> dict[str, str]:
    """The process environment plus a .env file's entries (the environment wins)."""
    values = dotenv_values(env_file) if env_file and env_file.is_file() else {}
    return {**{k: v for k, v in values.items() if v is not None}, **os.environ}


def servers(
    settings: AngieSettings, enabled: dict[str, bool] | None = None
) -> dict[str, ServerSpec]:
    """Every server by name; raises RegistryError for a bad mcpServers file."""
    configured = load_config_file(settings.mcp_config) if settings.mcp_config else {}
    return merge(builtin_specs(), configured, enabled or {})
