"""The command line every Angie MCP server shares: `angie-mcp-<name> [serve] [--transport …]`.

Servers add their own subcommands (`pair`, `auth`) through ``commands``.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastmcp import FastMCP
from pydantic import ValidationError
from pydantic_settings import SettingsError
from starlette.middleware import Middleware

from angie_mcp_core.credentials import with_stored_credentials
from angie_mcp_core.crypto import DecryptError
from angie_mcp_core.edge import HttpEdge
from angie_mcp_core.settings import ServerSettings

__all__ = ("Command", "ConfigError", "edge", "load_settings", "main")

log = logging.getLogger("angie_mcp")

#: A subcommand: gets the settings and its parsed arguments, returns an exit code.
Command = tuple[
    str, Callable[[argparse.ArgumentParser], None], Callable[[Any, argparse.Namespace], int]
]


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line naming the variable."""


_UNPARSABLE = re.compile(r'error parsing value for field "(\w+)"')


def load_settings[S: ServerSettings](settings_type: type[S], **overrides: Any) -> S:
    """The server's settings from its environment and ``overrides`` (the command line).

    Raises :class:`ConfigError`, one line naming the variable, for any bad or missing value.
    """
    prefix = str(settings_type.model_config.get("env_prefix", ""))
    try:
        settings = settings_type(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as err:
        first = err.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else ""
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{prefix}{field.upper()}: {message}" if field else message) from None
    except SettingsError as err:
        # A value pydantic-settings could not decode (a list that is not JSON) names its field.
        found = _UNPARSABLE.search(str(err))
        where = f"{prefix}{found.group(1).upper()}" if found else prefix.rstrip("_")
        raise ConfigError(f"{where}: cannot be parsed ({err.__cause__ or err})") from None
    if settings.typed_credentials:
        try:
            settings = with_stored_credentials(settings)
        except DecryptError as err:
            raise ConfigError(f"{settings.env_name('token_file')}: {err}") from None
    if settings.transport == "http" and settings.token is None:
        raise ConfigError(
            f"{settings.env_name('token')} must be set to serve over HTTP: clients send it as "
            '"Authorization: Bearer <token>" (generate one with '
            'python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    return settings


def _parser(prog: str, commands: Sequence[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=f"{prog}: an MCP server of Angie's.")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve MCP (the default)")
    for target in (parser, serve):
        target.add_argument("--transport", choices=["stdio", "http"], help="default: stdio")
        target.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
        target.add_argument("--port", type=int, help="HTTP port")
        target.add_argument("--path", help="HTTP path of the MCP endpoint (default /mcp)")
    for name, configure, _ in commands:
        configure(sub.add_parser(name))
    return parser


def main[S: ServerSettings](
    build: Callable[[S], FastMCP],
    settings_type: type[S],
    argv: Sequence[str] | None = None,
    *,
    prog: str,
    commands: Sequence[Command] = (),
) -> int:
    """Parse arguments, load settings, then serve or run a subcommand; returns the exit code."""
    args = _parser(prog, commands).parse_args(argv)
    try:
        settings = load_settings(
            settings_type, transport=args.transport, host=args.host, port=args.port, path=args.path
        )
    except ConfigError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    # stdout carries the MCP protocol on stdio: every log line goes to stderr.
    logging.basicConfig(
        stream=sys.stderr, level=settings.log_level, format="%(levelname)s %(name)s: %(message)s"
    )
    _plain_fastmcp_logs(settings.log_level)
    handlers: Mapping[str, Callable[[Any, argparse.Namespace], int]] = {
        n: run for n, _, run in commands
    }
    try:
        if args.command in handlers:
            return handlers[args.command](settings, args)
        server = build(settings)
        middleware = [edge(settings, realm=prog)] if settings.transport == "http" else []
    except ConfigError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    if settings.transport == "http":
        log.info("serving %s on http://%s:%s%s", prog, settings.host, settings.port, settings.path)
        server.run(
            transport="http",
            host=settings.host,
            port=settings.port,
            path=settings.path,
            show_banner=False,
            log_level=settings.log_level.lower(),
            middleware=middleware,
            # The kit's edge checks Host and Origin with messages naming its settings; FastMCP's
            # own guard (FASTMCP_HTTP_HOST_ORIGIN_PROTECTION) would be a second, different list.
            host_origin_protection=False,
        )
    else:
        server.run(transport="stdio", show_banner=False)
    return 0


def _plain_fastmcp_logs(level: str) -> None:
    """fastmcp's own lines in the kit's format, one line each, at the server's level.

    At import fastmcp gives its logger a rich handler: a box-drawn, column-wrapped line that
    reads badly in Angie's log of the server's stderr, and costs a server ~5 ms to render at
    each start.
    """
    fastmcp_log = logging.getLogger("fastmcp")
    for handler in fastmcp_log.handlers[:]:
        fastmcp_log.removeHandler(handler)
    fastmcp_log.propagate = True
    fastmcp_log.setLevel(level)


def edge(settings: ServerSettings, *, realm: str) -> Middleware:
    """The HTTP edge of a server: its Host names, Origins and bearer token (see HttpEdge)."""
    if settings.token is None:
        raise ConfigError(f"{settings.env_name('token')} must be set to serve over HTTP")
    return Middleware(
        HttpEdge,
        realm=realm,
        token=settings.token.get_secret_value(),
        token_setting=settings.env_name("token"),
        hosts_setting=settings.env_name("allowed_hosts"),
        origins_setting=settings.env_name("allowed_origins"),
        path=settings.path,
        bind_host=settings.host,
        hosts=settings.allowed_hosts,
        origins=settings.allowed_origins,
    )
