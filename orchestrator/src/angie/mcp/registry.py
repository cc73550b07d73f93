"""The MCP servers Angie knows: her built-in integrations, the database, and an mcpServers file.

The file is the format Claude Desktop and VS Code use, so a user can add any third-party server::

    {"mcpServers": {
        "weather": {"command": "uvx", "args": ["mcp-weather"], "env": {"KEY": "${WEATHER_KEY}"}},
        "remote":  {"url": "https://example.org/mcp", "headers": {"Authorization": "Bearer ${T}"}}
    }}

``${VAR}`` (and ``${VAR:-default}``) is expanded from the environment when the file is read;
an unset variable without a default is an error naming it.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from angie.mcp.manifests import discover

if TYPE_CHECKING:
    from angie_mcp_core.manifest import ServerManifest

from angie.errors import Invalid

__all__ = (
    "RegistryError",
    "ServerSpec",
    "builtin_specs",
    "load_config_file",
    "merge",
)

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class RegistryError(Invalid):
    """A server definition is invalid; the message names the server and what is wrong."""


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """How to reach one MCP server."""

    name: str
    transport: Literal["stdio", "http"]
    command: tuple[str, ...] = ()
    url: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True
    # Built-in servers are Angie's packages: the supervisor runs them over HTTP with a token.
    builtin: bool = False
    source: str = "builtin"
    # What a built-in server says about itself (scope, content trust); None for the file's.
    manifest: ServerManifest | None = None

    @property
    def content_trust(self) -> str | None:
        """What the server declares of its outputs (``trusted``/``untrusted``); None when it
        declares nothing, as third-party servers don't."""
        return self.manifest.content_trust if self.manifest is not None else None

    @property
    def env_prefix(self) -> str:
        return f"ANGIE_{self.name.upper()}_"

    def describe(self) -> str:
        """How it is reached, without any secret (no env values, no header values)."""
        return " ".join(self.command) if self.transport == "stdio" else str(self.url)


def _check_name(name: str, source: str) -> str:
    if not _NAME.match(name):
        raise RegistryError(
            f"{source}: server name {name!r} must be lower-case letters, digits and _ "
            "(starting with a letter): it prefixes the tool names"
        )
    return name


def builtin_specs(installed: Iterable[str] | None = None) -> dict[str, ServerSpec]:
    """Specs of the built-in servers whose packages are installed (all, or those named)."""
    found = discover()
    names = found if installed is None else [n for n in installed if n in found]
    return {
        name: ServerSpec(
            name=name,
            transport="stdio",
            command=(sys.executable, "-m", found[name].module),
            builtin=True,
            manifest=found[name],
        )
        for name in names
    }


def _expand(value: str, where: str, environ: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise RegistryError(f"{where}: environment variable {name} is not set")

    return _VAR.sub(one, value)


def _strings(raw: Any, where: str, environ: Mapping[str, str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise RegistryError(f"{where}: must be an object of strings")
    return {str(k): _expand(v, f"{where}.{k}", environ) for k, v in raw.items()}


def _spec(name: str, raw: Any, source: str, environ: Mapping[str, str]) -> ServerSpec:
    where = f"{source}: mcpServers.{name}"
    _check_name(name, source)
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: must be an object with a command or a url")
    enabled = not raw.get("disabled", False)
    if "command" in raw and "url" in raw:
        raise RegistryError(f"{where}: give either command or url, not both")
    if "command" in raw:
        command, args = raw["command"], raw.get("args", [])
        if not isinstance(command, str) or not command:
            raise RegistryError(f"{where}.command: must be a non-empty string")
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise RegistryError(f"{where}.args: must be a list of strings")
        argv = tuple(_expand(part, f"{where}.args", environ) for part in (command, *args))
        env = _strings(raw.get("env"), f"{where}.env", environ)
        return ServerSpec(name, "stdio", command=argv, env=env, enabled=enabled, source=source)
    if "url" in raw:
        url = raw["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise RegistryError(f"{where}.url: must be an http:// or https:// URL")
        headers = _strings(raw.get("headers"), f"{where}.headers", environ)
        return ServerSpec(
            name,
            "http",
            url=_expand(url, f"{where}.url", environ),
            headers=headers,
            enabled=enabled,
            source=source,
        )
    raise RegistryError(f"{where}: needs a command (stdio) or a url (streamable HTTP)")


def load_config_file(path: Path, environ: Mapping[str, str] | None = None) -> dict[str, ServerSpec]:
    """Read an ``mcpServers`` JSON file; a missing file is no servers, a bad one an error."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RegistryError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from err
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise RegistryError(f'{path}: expected an object with an "mcpServers" object')
    env = os.environ if environ is None else environ
    return {name: _spec(name, raw, str(path), env) for name, raw in servers.items()}


def merge(
    builtins: Mapping[str, ServerSpec],
    configured: Mapping[str, ServerSpec],
    enabled: Mapping[str, bool],
) -> dict[str, ServerSpec]:
    """All servers: the file's entries override built-ins of the same name; ``enabled`` holds
    the user's on/off choices (from the database), which win over both."""
    servers = {**builtins, **configured}
    return {
        name: replace(spec, enabled=enabled.get(name, spec.enabled))
        for name, spec in servers.items()
    }
