"""The root ``angie`` group and the small commands that need no module of their own."""

from __future__ import annotations

from importlib.metadata import version as dist_version
from pathlib import Path

import click
from rich.console import Console

from angie.cli.approvals import approvals
from angie.cli.ask import ask
from angie.cli.channels import channels
from angie.cli.config import config
from angie.cli.context import CliContext
from angie.cli.crons import crons
from angie.cli.daemon import api, daemon, serve, worker
from angie.cli.db import db
from angie.cli.mcp import mcp
from angie.cli.prompts import prompts
from angie.cli.session import login, logout
from angie.cli.setup import setup
from angie.cli.status import status_command
from angie.cli.tasks import tasks
from angie.cli.tokens import tokens

__all__ = ("cli", "main")

console = Console(highlight=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".env"),
    show_default=True,
    help="Read ANGIE_* settings from this file as well as the environment.",
)
@click.version_option(dist_version("angie"), "-V", "--version", prog_name="angie")
@click.pass_context
def cli(ctx: click.Context, env_file: Path) -> None:
    """Angie, your 24/7 personal assistant.

    Run `angie serve` to start her; settings come from ANGIE_* environment variables and .env.
    """
    ctx.obj = CliContext(env_file=env_file)


@cli.command()
def version() -> None:
    """Print Angie's version."""
    console.print(f"angie {dist_version('angie')}")


cli.add_command(db)
cli.add_command(serve)
cli.add_command(daemon)
cli.add_command(worker)
cli.add_command(api)
cli.add_command(mcp)
cli.add_command(setup)
cli.add_command(login)
cli.add_command(logout)
cli.add_command(ask)
cli.add_command(status_command)
cli.add_command(tasks)
cli.add_command(crons)
cli.add_command(tokens)
cli.add_command(approvals)
cli.add_command(prompts)
cli.add_command(config)
cli.add_command(channels)


def main() -> None:
    cli(prog_name="angie")
