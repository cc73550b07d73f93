"""``angie mcp``: list Angie's MCP servers, see their tools, call one directly, serve one alone,
and say whether their outputs can be trusted."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from angie.cli.client import connect, url_option
from angie.cli.context import CliContext, fail, pass_cli, run_async

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from fastmcp import Client
    from sqlalchemy.ext.asyncio import AsyncSession

    from angie.mcp.catalog import Catalog
    from angie.mcp.registry import ServerSpec

__all__ = ("mcp",)

console = Console(highlight=False)


async def _choices(app: CliContext) -> dict[str, bool]:
    from angie.mcp.store import enabled_choices

    return await _read(app, enabled_choices)


async def _read[T](app: CliContext, read: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from angie.cli.db import prepare_database
    from angie.db.engine import Database

    await prepare_database(app.settings)
    database = Database(app.settings.database_url)
    try:
        async with database.session() as session:
            return await read(session)
    finally:
        await database.dispose()


def _catalog(app: CliContext) -> Catalog:
    from angie.mcp.catalog import catalog
    from angie.mcp.registry import RegistryError

    try:
        return catalog(app.settings, run_async(_choices(app)))
    except RegistryError as err:
        fail(str(err), code=2)


def _spec(app: CliContext, name: str) -> ServerSpec:
    from angie.mcp.registry import tool_prefix

    catalog = _catalog(app).servers
    name = tool_prefix(name) or name  # as written in mcp.json, e.g. brave-search
    if name not in catalog:
        known = ", ".join(sorted(catalog)) or "none"
        fail(f"no MCP server named {name!r} (known: {known})")
    return catalog[name]


def _client(app: CliContext, spec: ServerSpec) -> Client[Any]:
    """A direct MCP client: stdio servers are started for the call, URLs are reached."""
    from fastmcp import Client
    from fastmcp.client.transports import StreamableHttpTransport

    from angie.mcp.catalog import server_environ
    from angie.mcp.toolsets import stdio_transport

    timeout = app.settings.mcp_timeout
    if spec.transport == "http":
        transport = StreamableHttpTransport(str(spec.url), headers=dict(spec.headers))
        return Client(transport, timeout=timeout)
    # The server's own log lines go to its log file, not over the command's output.
    logs = app.settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    # Started for this command only (stdio_transport keeps no process alive after it).
    stdio = stdio_transport(
        spec, server_environ(app.env_file), log_file=logs / f"mcp-{spec.name}.log"
    )
    return Client(stdio, timeout=timeout)


async def _tools(app: CliContext, spec: ServerSpec) -> list[Any]:
    async with _client(app, spec) as client:
        return list(await client.list_tools())


@click.group()
def mcp() -> None:
    """Angie's MCP servers: list them, see their tools, call one, serve one."""
    if getattr(sys, "frozen", False):
        # The binary carries the CLI only; the servers are Python packages it cannot start.
        fail("the standalone binary does not include the MCP servers; use `uv run angie mcp …`")


@mcp.command("list")
@pass_cli
def list_servers(app: CliContext) -> None:
    """List the servers with their state, tool counts (each is started to ask) and whether
    their outputs are trusted."""
    from angie.mcp.store import content_trust_choices

    found = _catalog(app)
    specs = list(found.servers.values())
    chosen = run_async(_read(app, content_trust_choices))

    async def probe(spec: ServerSpec) -> tuple[str, str]:
        if not spec.enabled:
            return "disabled", "-"
        try:
            tools = await asyncio.wait_for(_tools(app, spec), app.settings.mcp_timeout)
        except Exception as err:  # any failure is this server's state, shown
            return f"[red]unavailable[/]: {type(err).__name__}", "-"
        return "[green]ok[/]", str(len(tools))

    async def probe_all() -> list[tuple[str, str]]:
        return list(await asyncio.gather(*(probe(s) for s in specs)))

    results = run_async(probe_all())
    table = Table("server", "state", "tools", "content", "reached by", "from")
    for spec, (state, count) in zip(specs, results, strict=True):
        trust = chosen.get(spec.name) or spec.content_trust or "untrusted"
        table.add_row(spec.name, state, count, str(trust), spec.describe(), spec.source)
    console.print(table)
    for entry in found.skipped:
        console.print(f"[yellow]skipped[/] {escape(entry.name)}: {escape(entry.reason)}")


@mcp.command()
@click.argument("server")
@pass_cli
def tools(app: CliContext, server: str) -> None:
    """Show SERVER's tools, what each does and whether it changes anything."""
    spec = _spec(app, server)
    try:
        found = run_async(_tools(app, spec))
    except Exception as err:  # reported in one line
        fail(f"cannot reach the {server} server: {err}")
    table = Table("tool", "kind", "what it does")
    for tool in sorted(found, key=lambda t: t.name):
        hints = tool.annotations
        kind = (
            "read-only"
            if hints and hints.read_only_hint
            else "destructive"
            if hints and hints.destructive_hint
            else "changes things"
        )
        summary = (tool.description or "").strip().splitlines()[0] if tool.description else ""
        table.add_row(f"{spec.name}_{tool.name}", kind, summary)
    console.print(table)


@mcp.command()
@click.argument("server")
@click.argument("tool")
@click.option(
    "--args",
    "raw_args",
    default="{}",
    help='Arguments as a JSON object, e.g. \'{"name": "Kitchen"}\'.',
)
@pass_cli
def call(app: CliContext, server: str, tool: str, raw_args: str) -> None:
    """Call TOOL on SERVER directly (no model involved) and print its result as JSON."""
    from fastmcp.exceptions import ToolError

    try:
        arguments = json.loads(raw_args)
    except json.JSONDecodeError as err:
        fail(f"--args is not valid JSON: {err.msg} at column {err.colno}", code=2)
    if not isinstance(arguments, dict):
        fail("--args must be a JSON object", code=2)
    spec = _spec(app, server)
    name = tool.removeprefix(f"{server}_")

    async def invoke() -> Any:
        async with _client(app, spec) as client:
            result = await client.call_tool(name, arguments)
            if result.structured_content is not None:
                return result.structured_content
            return [getattr(block, "text", str(block)) for block in result.content]

    try:
        output = run_async(invoke())
    except ToolError as err:
        fail(f"{server}_{name}: {err}")
    except Exception as err:  # reported in one line
        fail(f"cannot call {server}_{name}: {err}")
    click.echo(json.dumps(output, indent=2, ensure_ascii=False, default=str))


def _set_enabled(app: CliContext, server: str, enabled: bool) -> None:
    from angie.db.engine import Database
    from angie.mcp.store import set_enabled

    spec = _spec(app, server)

    async def store() -> None:
        database = Database(app.settings.database_url)
        try:
            async with database.session() as session:
                await set_enabled(session, spec, enabled)
        finally:
            await database.dispose()

    run_async(store())
    console.print(f"[green]✓[/] {server} is {'enabled' if enabled else 'disabled'}")


@mcp.command()
@click.argument("server")
@click.argument("level", type=click.Choice(["trusted", "untrusted"]))
@url_option
def trust(server: str, level: str, url: str | None) -> None:
    """Say whether SERVER's outputs can be trusted (admins): "trusted" only when nobody outside
    the household can write what its tools return. After reading an untrusted output, Angie
    asks before every side effect of that piece of work. Goes through the running Angie."""
    with connect(url) as api:
        api.patch(f"/api/mcp/servers/{server}", {"content_trust": level})
    console.print(f"[green]✓[/] {server}'s outputs are {level} (applies to new work)")


@mcp.command()
@click.argument("server")
@pass_cli
def enable(app: CliContext, server: str) -> None:
    """Let Angie use SERVER again."""
    _set_enabled(app, server, True)


@mcp.command()
@click.argument("server")
@pass_cli
def disable(app: CliContext, server: str) -> None:
    """Stop Angie from starting or using SERVER (its settings are kept)."""
    _set_enabled(app, server, False)


@mcp.command()
@click.argument("server")
@click.option(
    "--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True
)
@click.option("--host", help="HTTP bind address (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="HTTP port.")
@pass_cli
def serve(app: CliContext, server: str, transport: str, host: str | None, port: int | None) -> None:
    """Run one of Angie's servers in the foreground (over HTTP it needs ANGIE_<NAME>_TOKEN)."""
    from angie.mcp.catalog import server_environ
    from angie.mcp.supervisor import child_environ

    spec = _spec(app, server)
    if not spec.builtin:
        fail(f"{server} is not one of Angie's servers; run it as its own documentation says")
    argv = [*spec.command, "--transport", transport]
    argv += ["--host", host] if host else []
    argv += ["--port", str(port)] if port else []
    env = child_environ(spec, server_environ(app.env_file))
    sys.stdout.flush()
    os.execvpe(argv[0], argv, env)  # noqa: S606 - replaces this process with the server
