"""``angie mcp connect|accounts|disconnect``: the signed-in person's own accounts on personal MCP
servers. Signing in runs the server's own ``auth`` on this machine, with the token file in the
account's directory under Angie's data dir, so this must run where Angie keeps her data."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from angie.cli.client import AngieClient, connect, url_option
from angie.cli.context import CliContext, fail, pass_cli

__all__ = ("accounts", "connect_account", "disconnect")

console = Console(highlight=False)


def _own(api: AngieClient, server: str, label: str | None) -> dict[str, Any]:
    """The person's one account of ``server`` (by ``label`` when they have several)."""
    rows = api.get("/api/mcp/accounts")["accounts"]
    mine = [r for r in rows if r["mine"] and r["server"] == server]
    if label is not None:
        mine = [r for r in mine if r["label"] == label]
    if not mine:
        which = f" labelled {label!r}" if label is not None else ""
        fail(f"you have no {server} account{which}; `angie mcp accounts` lists yours")
    if len(mine) > 1:
        labels = ", ".join(repr(r["label"]) for r in mine)
        fail(f"you have several {server} accounts ({labels}); say which with --label")
    return dict(mine[0])


def _personal_spec(app: CliContext, server: str) -> Any:
    from angie.cli.mcp import _spec
    from angie.mcp.accounts import is_personal

    spec = _spec(app, server)
    if not is_personal(spec):
        fail(f"the {spec.name} server is the household's: set its account in its settings")
    return spec


def _env(app: CliContext, spec: Any, account_id: int) -> dict[str, str]:
    from angie.mcp.accounts import account_dir, account_spec
    from angie.mcp.catalog import server_environ
    from angie.mcp.supervisor import child_environ

    where = account_dir(app.settings.data_dir / "mcp", spec.name, account_id)
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    return child_environ(account_spec(spec, where), server_environ(app.env_file))


@click.command("connect")
@click.argument("server")
@click.option("--label", help="What you call the account: the address, work (default: SERVER).")
@url_option
@pass_cli
def connect_account(app: CliContext, server: str, label: str | None, url: str | None) -> None:
    """Connect your own account to a personal server (gmail, gcal, spotify, …): its sign-in runs
    here, and only the server instance Angie starts for this account reads its tokens."""
    spec = _personal_spec(app, server)
    with connect(url) as api:
        made = api.post("/api/mcp/accounts", {"server": spec.name, "label": label or spec.name})
        env = _env(app, spec, made["id"])
        sys.stdout.flush()
        done = subprocess.run([*spec.command, "auth"], env=env, check=False)  # noqa: S603
        if done.returncode != 0:
            api.delete(f"/api/mcp/accounts/{made['id']}")
            fail(
                f"the {spec.name} sign-in failed (exit code {done.returncode}); "
                "no account was recorded"
            )
    console.print(f"[green]✓[/] {escape(spec.name)} account {escape(made['label'])} connected")


@click.command("accounts")
@url_option
def accounts(url: str | None) -> None:
    """Your accounts on personal servers, and those shared with you."""
    with connect(url) as api:
        rows = api.get("/api/mcp/accounts")["accounts"]
    if not rows:
        console.print("no accounts yet: `angie mcp connect gmail` connects one")
        return
    table = Table("id", "server", "account", "status", "server instance", "whose")
    for row in rows:
        shared = ", ".join(f"user {u}" for u in row["shared_with"])
        whose = (
            ("yours" + (f", shared with {shared}" if shared else ""))
            if row["mine"]
            else (f"shared by user {row['owner_id']}")
        )
        table.add_row(
            str(row["id"]),
            row["server"],
            escape(row["label"]),
            row["status"],
            "running" if row["running"] else "starts when needed",
            whose,
        )
    console.print(table)


def _revoke(spec: Any, env: dict[str, str]) -> None:
    """Ask the server to revoke the sign-in where its ``auth`` can (``--revoke``)."""
    helped = subprocess.run(  # noqa: S603
        [*spec.command, "auth", "--help"], env=env, capture_output=True, text=True, check=False
    )
    if "--revoke" not in helped.stdout:
        console.print(
            f"[yellow]the {escape(spec.name)} server cannot revoke a sign-in itself;[/] its "
            "tokens are deleted here, and the provider's security page removes its access"
        )
        return
    revoked = subprocess.run([*spec.command, "auth", "--revoke"], env=env, check=False)  # noqa: S603
    if revoked.returncode != 0:
        console.print(f"[yellow]the {escape(spec.name)} server could not revoke the sign-in[/]")


@click.command("disconnect")
@click.argument("server")
@click.option("--label", help="Which of your accounts of SERVER, when you have several.")
@url_option
@pass_cli
def disconnect(app: CliContext, server: str, label: str | None, url: str | None) -> None:
    """Disconnect one of your accounts: the server revokes it where it can, its tokens are
    deleted and its server instance stopped."""
    spec = _personal_spec(app, server)
    with connect(url) as api:
        row = _own(api, spec.name, label)
        env = _env(app, spec, row["id"])
        _revoke(spec, env)
        # Angie deletes the account's folder (its tokens) and stops its instance.
        api.delete(f"/api/mcp/accounts/{row['id']}")
    console.print(f"{escape(spec.name)} account {escape(row['label'])} disconnected")
