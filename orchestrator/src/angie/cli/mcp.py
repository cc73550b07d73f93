"""``angie mcp``: Angie's MCP servers through the running Angie — list them, see their tools,
call one (audited, under the household's policy, like ``/tool`` in chat), switch them on or off
and say whether their outputs can be trusted, each with the signed-in person's rights. Two
commands stay on this machine and say so: ``check`` reads an mcpServers file, ``serve`` runs one
of Angie's servers alone for another MCP client."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from angie.cli.client import AngieClient, connect, url_option
from angie.cli.context import CliContext, fail, pass_cli
from angie.cli.render import items

if TYPE_CHECKING:
    from angie.mcp.registry import ServerSpec

__all__ = ("mcp",)

console = Console(highlight=False)

# The chat route's limit on what one message may say.
_MAX_COMMAND = 20_000


def _name(server: str) -> str:
    """The server's name as Angie knows it: as written in an mcpServers file too (brave-search)."""
    from angie.mcp.registry import tool_prefix

    return tool_prefix(server) or server


def _servers(api: AngieClient) -> list[dict[str, Any]]:
    return items(api.get("/api/mcp/servers", params={"limit": 200}))


def _known(api: AngieClient, name: str) -> dict[str, Any]:
    """The server named ``name``, or one line listing the servers there are."""
    servers = {row["name"]: row for row in _servers(api)}
    if name not in servers:
        known = ", ".join(sorted(servers)) or "none"
        fail(f"no MCP server named {name!r} (known: {known})")
    return servers[name]


def _state(row: dict[str, Any]) -> str:
    if row.get("installed") is False:
        return "[dim]not installed here[/]"
    if not row.get("enabled"):
        return "disabled"
    if not row.get("active"):
        return "[yellow]not running here[/] (installed or enabled after start? restart Angie)"
    if row.get("configured") is False:
        missing = ", ".join(row.get("missing_settings") or []) or "its settings"
        return f"[yellow]not configured[/] ({escape(missing)} missing)"
    health = str(row.get("health") or "unknown")
    colour = {"healthy": "green", "down": "red", "degraded": "yellow"}.get(health)
    word = f"[{colour}]{health}[/]" if colour else health
    error = row.get("last_error")
    return f"{word}: {escape(str(error))}" if error and health != "healthy" else word


@click.group()
def mcp() -> None:
    """Angie's MCP servers: list them, see their tools, call one, switch them on or off."""


@mcp.command("list")
@url_option
def list_servers(url: str | None) -> None:
    """List the household's servers: state, whether Angie runs them and whether their outputs
    are trusted (asks the running Angie)."""
    with connect(url) as api:
        rows = _servers(api)
    table = Table("server", "state", "content", "kind")
    for row in rows:
        kind = "Angie's" if row.get("builtin") else f"added ({row.get('transport')})"
        table.add_row(row["name"], _state(row), str(row.get("content_trust")), kind)
    console.print(table)


@mcp.command()
@click.argument("server")
@url_option
def tools(server: str, url: str | None) -> None:
    """Show SERVER's tools, what each does, whether it changes anything and what the policy
    does with a call (asks the running Angie, which reaches the server)."""
    name = _name(server)
    with connect(url) as api:
        _known(api, name)
        found = api.get(f"/api/mcp/servers/{name}/tools")
    table = Table("tool", "kind", "policy", "what it does")
    for tool in sorted(items(found), key=lambda t: str(t["name"])):
        kind = (
            "read-only"
            if tool.get("read_only")
            else "destructive"
            if tool.get("destructive")
            else "changes things"
        )
        summary = str(tool.get("description") or "").strip().splitlines()
        table.add_row(
            str(tool["prefixed_name"]),
            kind,
            str(tool.get("decision")),
            summary[0] if summary else "",
        )
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
@click.option(
    "--wait",
    type=click.FloatRange(1, 300),
    default=60,
    show_default=True,
    help="Seconds to wait for the result.",
)
@url_option
def call(server: str, tool: str, raw_args: str, wait: float, url: str | None) -> None:
    """Call TOOL on SERVER through the running Angie (no model involved) and print its result as
    JSON. Like ``/tool`` in chat: the household's policy holds ("never" refuses) and the call is
    audited in a task of your own."""
    try:
        arguments = json.loads(raw_args)
    except json.JSONDecodeError as err:
        fail(f"--args is not valid JSON: {err.msg} at column {err.colno}", code=2)
    if not isinstance(arguments, dict):
        fail("--args must be a JSON object", code=2)
    name = _name(server)
    tool = tool.removeprefix(f"{name}_").removeprefix(f"{server}_")
    command = f"/tool {name}.{tool} {json.dumps(arguments, ensure_ascii=False)}"
    if len(command) > _MAX_COMMAND:
        fail(f"--args is too long for one call (at most about {_MAX_COMMAND} characters)", code=2)
    with connect(url) as api:
        _known(api, name)
        answer = api.request(
            "POST",
            "/api/chat",
            body={"text": command, "thread": "cli"},
            params={"wait": wait},
            timeout=wait + 10,
        )
        status, reply = answer.get("status"), answer.get("reply")
        task = answer.get("task_id")
        if status == "failed":
            # The task's own error: the reply is worded for a chat (it @-mentions you).
            error = api.get(f"/api/tasks/{task}").get("error")
            why = str(error or f"the call failed (see `angie tasks show {task}`)")
            fail(f"{name}.{tool}: {why.removeprefix('/tool: ')}")
    if status == "succeeded" and isinstance(reply, str):
        click.echo(reply)
        return
    if status == "awaiting_approval":
        console.print(escape(str(reply or "Angie waits for an approval.")))
        console.print(f"task {task} waits for your approval: see `angie approvals`")
        return
    console.print(f"still working after {wait:g} s: see `angie tasks show {task}`")


def _set_enabled(server: str, enabled: bool, url: str | None) -> None:
    name = _name(server)
    with connect(url) as api:
        _known(api, name)
        api.patch(f"/api/mcp/servers/{name}", {"enabled": enabled})
    state = "enabled" if enabled else "disabled"
    console.print(f"[green]✓[/] {name} is {state} (from Angie's next start)")


@mcp.command()
@click.argument("server")
@click.argument("level", type=click.Choice(["trusted", "untrusted"]))
@url_option
def trust(server: str, level: str, url: str | None) -> None:
    """Say whether SERVER's outputs can be trusted (admins): "trusted" only when nobody outside
    the household can write what its tools return. After reading an untrusted output, Angie
    asks before every side effect of that piece of work. Goes through the running Angie."""
    with connect(url) as api:
        api.patch(f"/api/mcp/servers/{_name(server)}", {"content_trust": level})
    console.print(f"[green]✓[/] {server}'s outputs are {level} (applies to new work)")


@mcp.command()
@click.argument("server")
@url_option
def enable(server: str, url: str | None) -> None:
    """Let Angie use SERVER again (admins; from her next start)."""
    _set_enabled(server, True, url)


@mcp.command()
@click.argument("server")
@url_option
def disable(server: str, url: str | None) -> None:
    """Stop Angie from starting or using SERVER (admins; its settings are kept)."""
    _set_enabled(server, False, url)


@mcp.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@pass_cli
def check(app: CliContext, file: Path | None) -> None:
    """Check an mcpServers file (default: the one Angie reads, ``<data dir>/mcp.json``) on this
    machine, without starting anything: which servers it adds and which entries are skipped."""
    from angie.mcp.registry import RegistryError, load_config_file

    path = file or app.settings.mcp_config or app.settings.data_dir / "mcp.json"
    if not path.exists():
        fail(f"there is no mcpServers file at {path}", code=2)
    try:
        found = load_config_file(path)
    except RegistryError as err:
        fail(str(err), code=2)
    console.print(f"[dim]{escape(str(path))} (read here, not by the running Angie)[/]")
    for spec in found.servers.values():
        console.print(f"[green]✓[/] {escape(spec.name)}: {escape(spec.describe())}")
    for entry in found.skipped:
        console.print(f"[yellow]skipped[/] {escape(entry.name)}: {escape(entry.reason)}")
    if found.skipped:
        sys.exit(1)


def _spec(app: CliContext, server: str) -> ServerSpec:
    from angie.mcp.catalog import catalog
    from angie.mcp.registry import RegistryError

    try:
        found = catalog(app.settings, {}).servers
    except RegistryError as err:
        fail(str(err), code=2)
    name = _name(server)
    if name not in found:
        fail(f"no MCP server named {name!r} (known: {', '.join(sorted(found)) or 'none'})")
    return found[name]


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


def _add_account_commands() -> None:
    from angie.cli.mcp_accounts import accounts, connect_account, disconnect

    for command in (connect_account, accounts, disconnect):
        mcp.add_command(command)


_add_account_commands()
