"""The servers this Angie knows, assembled from settings: built-ins, the mcpServers file and the
environment (with .env) their credentials come from."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from angie.mcp.registry import (
    ConfigFile,
    ServerSpec,
    Skipped,
    builtin_specs,
    load_config_file,
    merge,
)
from angie.settings import AngieSettings

__all__ = ("Catalog", "catalog", "server_environ", "servers")


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every server by name, and the mcpServers file's entries that were skipped (and why)."""

    servers: dict[str, ServerSpec]
    skipped: tuple[Skipped, ...] = ()


def server_environ(env_file: Path | None) -> dict[str, str]:
    """The process environment plus a .env file's entries (the environment wins)."""
    values = dotenv_values(env_file) if env_file and env_file.is_file() else {}
    return {**{k: v for k, v in values.items() if v is not None}, **os.environ}


def catalog(settings: AngieSettings, enabled: dict[str, bool] | None = None) -> Catalog:
    """The servers and the file's skipped entries (each logged at WARNING as it is read);
    raises RegistryError only for a file that is not an mcpServers file at all."""
    configured = (
        load_config_file(settings.mcp_config, settings.environment())
        if settings.mcp_config
        else ConfigFile()
    )
    return Catalog(merge(builtin_specs(), configured.servers, enabled or {}), configured.skipped)


def servers(
    settings: AngieSettings, enabled: dict[str, bool] | None = None
) -> dict[str, ServerSpec]:
    """Every server by name (see :func:`catalog`)."""
    return catalog(settings, enabled).servers
