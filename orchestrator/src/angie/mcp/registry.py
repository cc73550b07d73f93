"""The MCP servers Angie knows: her built-in integrations, the database, and an mcpServers file.

The file is what Claude Desktop (``{"mcpServers": {...}}``) or VS Code (``{"servers": {...},
"inputs": [...]}``) use, pasted as is, so a user can add any third-party server::

    {"mcpServers": {
        "weather": {"command": "uvx", "args": ["mcp-weather"], "env": {"KEY": "${WEATHER_KEY}"}},
        "remote":  {"url": "https://example.org/mcp", "headers": {"Authorization": "Bearer ${T}"}}
    }}

``${VAR}``, ``${VAR:-default}`` and VS Code's ``${env:VAR}`` are expanded from the environment
when the file is read. A server name becomes Angie's tool-prefix form (``brave-search`` ->
``brave_search``). An entry may set ``"timeout"``: the seconds its calls may take (at most
3600), instead of ``ANGIE_MCP_TIMEOUT``. An entry Angie cannot use (an unset variable, a VS Code
``${input:…}``, an SSE server, a name that clashes, a bad timeout) is skipped with its reason,
and the others are still used.
"""

from __future__ import annotations

import json
import logging
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
    "ConfigFile",
    "RegistryError",
    "ServerSpec",
    "Skipped",
    "builtin_specs",
    "load_config_file",
    "merge",
    "tool_prefix",
)

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SEPARATORS = re.compile(r"[-.\s]+")
_VAR = re.compile(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_INPUT = re.compile(r"\$\{input:([^}]*)\}")
# VS Code's other ${prefix:…} variables (config:, command:, …) mean nothing outside VS Code.
_EDITOR_VAR = re.compile(r"\$\{(?!env:|input:)[A-Za-z]+:(?!-)[^}]*\}")
# The transports written as VS Code and Claude Code write them.
_TYPES = {"stdio": "stdio", "http": "http", "streamable-http": "http", "streamableHttp": "http"}
MAX_TIMEOUT = 3600.0  # an hour: past that a call is lost, not slow


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
    # Seconds a call may take; None: ANGIE_MCP_TIMEOUT.
    timeout: float | None = None

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


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry of the mcpServers file Angie could not use, and why (one line)."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """What an mcpServers file gave: the servers to use and the entries skipped."""

    servers: dict[str, ServerSpec] = field(default_factory=dict)
    skipped: tuple[Skipped, ...] = ()


def tool_prefix(name: str) -> str | None:
    """The name as Angie's tools are prefixed with it (lower-case; ``-``, ``.`` and spaces
    become ``_``), or None when even that is not letters, digits and ``_`` after a letter."""
    prefix = _SEPARATORS.sub("_", name.strip().lower())
    return prefix if _NAME.match(prefix) else None


def builtin_specs(installed: Iterable[str] | None = None) -> dict[str, ServerSpec]:
    """Specs of the built-in servers whose packages are installed (all, or those named)."""
    found = discover()
    names = found if installed is None else [n for n in installed if n in found]
    return {
        name: ServerSpec(
            name=name,
            transport="stdio",
            command=_builtin_command(name, found[name].module),
            builtin=True,
            manifest=found[name],
        )
        for name in names
    }


def _builtin_command(name: str, module: str) -> tuple[str, ...]:
    """How to start a built-in server: its package as a module of this Python, or, in the
    standalone binary (which has no Python to run ``-m`` with), the binary's own
    ``mcp-server NAME`` entry (packaging/angie_entry.py), which runs the bundled package."""
    if getattr(sys, "frozen", False):
        return (sys.executable, "mcp-server", name)
    return (sys.executable, "-m", module)


def _expand(value: str, where: str, environ: Mapping[str, str]) -> str:
    if found := _INPUT.search(value):
        raise RegistryError(
            f"{where}: ${{input:{found.group(1)}}} is a VS Code input, which only VS Code can ask "
            "for; put the value in an environment variable and write ${VAR} instead"
        )

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise RegistryError(f"{where}: environment variable {name} is not set")

    if found := _EDITOR_VAR.search(value):
        raise RegistryError(f"{where}: {found.group(0)} is a VS Code variable Angie cannot fill")
    return _VAR.sub(one, value)


def _strings(raw: Any, where: str, environ: Mapping[str, str]) -> dict[str, str]:
    if raw is None:
        return {}
    # VS Code also takes numbers in env; they are strings to the server all the same.
    scalar = (str, int, float)
    if not isinstance(raw, dict) or not all(isinstance(v, scalar) for v in raw.values()):
        raise RegistryError(f"{where}: must be an object of strings")
    return {str(k): _expand(str(v), f"{where}.{k}", environ) for k, v in raw.items()}


def _transport(raw: dict[str, Any], where: str) -> str:
    """stdio or http, from ``type`` when given, else from whether it has a command or a url."""
    if "command" in raw and "url" in raw:
        raise RegistryError(f"{where}: give either command or url, not both")
    kind = raw.get("type")
    if kind is None:
        if "command" in raw:
            return "stdio"
        if "url" in raw:
            return "http"
        raise RegistryError(f"{where}: needs a command (stdio) or a url (streamable HTTP)")
    if kind == "sse":
        raise RegistryError(
            f"{where}: SSE servers are not supported; use the server's streamable HTTP "
            'URL (often ending in /mcp) with "type": "http", or run it with a command'
        )
    if kind not in _TYPES:
        raise RegistryError(f"{where}.type: {kind!r} must be stdio or http")
    transport = _TYPES[kind]
    needs = "command" if transport == "stdio" else "url"
    if needs not in raw:
        raise RegistryError(f"{where}: a {kind} server needs a {needs}")
    return transport


def _timeout(raw: dict[str, Any], where: str) -> float | None:
    value = raw.get("timeout")
    if value is None:
        return None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not 0 < value <= MAX_TIMEOUT:
        raise RegistryError(
            f"{where}.timeout: {value!r} must be a number of seconds above 0 and at most "
            f"{MAX_TIMEOUT:g}"
        )
    return float(value)


def _spec(name: str, raw: Any, where: str, source: str, environ: Mapping[str, str]) -> ServerSpec:
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: must be an object with a command or a url")
    enabled = not raw.get("disabled", False)
    timeout = _timeout(raw, where)
    if _transport(raw, where) == "stdio":
        command, args = raw["command"], raw.get("args", [])
        if not isinstance(command, str) or not command:
            raise RegistryError(f"{where}.command: must be a non-empty string")
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise RegistryError(f"{where}.args: must be a list of strings")
        argv = tuple(_expand(part, f"{where}.args", environ) for part in (command, *args))
        env = _strings(raw.get("env"), f"{where}.env", environ)
        return ServerSpec(
            name,
            "stdio",
            command=argv,
            env=env,
            enabled=enabled,
            source=source,
            timeout=timeout,
        )
    url = raw["url"]
    if not isinstance(url, str):
        raise RegistryError(f"{where}.url: must be an http:// or https:// URL")
    # Checked once expanded: a deployment may give the whole URL as a ${VAR}.
    url = _expand(url, f"{where}.url", environ)
    if not url.startswith(("http://", "https://")):
        raise RegistryError(f"{where}.url: must be an http:// or https:// URL")
    headers = _strings(raw.get("headers"), f"{where}.headers", environ)
    return ServerSpec(
        name,
        "http",
        url=url,
        headers=headers,
        enabled=enabled,
        source=source,
        timeout=timeout,
    )


def _entries(data: Any, path: Path) -> tuple[str, dict[str, Any]]:
    """The servers object and its key: Claude Desktop's ``mcpServers``, VS Code's ``servers``
    (mcp.json) or ``mcp.servers`` (settings.json)."""
    if isinstance(data, dict) and isinstance(data.get("mcp"), dict) and "servers" in data["mcp"]:
        data = data["mcp"]
    if isinstance(data, dict) and "mcpServers" in data and "servers" in data:
        raise RegistryError(f'{path}: has both "mcpServers" and "servers"; keep one')
    for key in ("mcpServers", "servers"):
        servers = data.get(key) if isinstance(data, dict) else None
        if isinstance(servers, dict):
            return key, servers
    raise RegistryError(f'{path}: expected an object with an "mcpServers" or "servers" object')


def _names(written: Iterable[str], where: str) -> tuple[dict[str, str], list[Skipped]]:
    """Each usable entry's Angie name by the name it is written with; a name already in
    Angie's form keeps it before one that only becomes it, otherwise the first one does."""
    names: dict[str, str] = {}
    skipped: list[Skipped] = []
    claimed: dict[str, str] = {}
    ordered = sorted(written, key=lambda n: tool_prefix(n) != n)  # stable: exact names first
    for name in ordered:
        prefix = tool_prefix(name)
        if prefix is None:
            reason = (
                f"{where}.{name}: server name {name!r} must be letters, digits, -, . , spaces "
                "or _ starting with a letter: it prefixes the tool names"
            )
            skipped.append(Skipped(name, reason))
        elif prefix in claimed:
            reason = (
                f"{where}.{name}: server name {name!r} becomes {prefix!r}, as "
                f"{claimed[prefix]!r} does; rename one of them"
            )
            skipped.append(Skipped(name, reason))
        else:
            claimed[prefix] = name
            names[name] = prefix
    return names, skipped


def load_config_file(path: Path, environ: Mapping[str, str] | None = None) -> ConfigFile:
    """Read an mcpServers file (Claude Desktop's or VS Code's shape). A missing file is no
    servers; a file that is not one raises :class:`RegistryError`; an entry that cannot be used
    is skipped with its reason (logged at WARNING) and the others are kept."""
    if not path.exists():
        return ConfigFile()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RegistryError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from err
    key, entries = _entries(data, path)
    env = os.environ if environ is None else environ
    where = f"{path}: {key}"
    names, skipped = _names(entries, where)
    servers: dict[str, ServerSpec] = {}
    for written, raw in entries.items():
        if written not in names:
            continue
        name = names[written]
        try:
            servers[name] = _spec(name, raw, f"{where}.{written}", str(path), env)
        except RegistryError as err:
            skipped.append(Skipped(written, str(err)))
            continue
        if name != written:
            log.info("MCP server %r from %s is named %s for its tools", written, path, name)
    skipped.sort(key=lambda entry: list(entries).index(entry.name))
    for entry in skipped:
        log.warning("MCP server %r skipped: %s", entry.name, entry.reason)
    return ConfigFile(servers, tuple(skipped))


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
