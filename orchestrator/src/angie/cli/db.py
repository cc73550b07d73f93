"""``angie db``: apply, roll back and inspect the database migrations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.console import Console

from angie.cli.context import CliContext, fail, pass_cli, run_async

if TYPE_CHECKING:
    from angie.settings import AngieSettings

__all__ = ("db", "prepare_database", "safe_url")

console = Console(highlight=False)


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def _with_engine(settings: AngieSettings, action: str, revision: str | None) -> str | None:
    # SQLAlchemy and Alembic load here, not at import: `angie --help` stays quick.
    from sqlalchemy.exc import DBAPIError, OperationalError

    from angie.db import migrate
    from angie.db.engine import create_engine

    engine = create_engine(settings.database_url)
    try:
        if action == "upgrade":
            await migrate.upgrade(engine, revision or "head")
        elif action == "downgrade":
            await migrate.downgrade(engine, revision or "-1")
        return await migrate.current(engine)
    except (OperationalError, DBAPIError, OSError) as err:
        reason = getattr(err, "orig", None) or err
        fail(f"cannot use the database at {safe_url(settings.database_url)}: {reason}")
    except migrate.MigrationError as err:
        fail(str(err))
    finally:
        await engine.dispose()


async def prepare_database(settings: AngieSettings) -> str:
    """Bring the database to the newest revision; what `angie serve` does first."""
    return await _with_engine(settings, "upgrade", "head") or "base"


@click.group()
def db() -> None:
    """Apply, roll back and inspect Angie's database migrations (local maintenance: straight on
    the database this machine's settings name, not through a running Angie)."""


@db.command()
@click.argument("revision", default="head")
@pass_cli
def upgrade(app: CliContext, revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    now = run_async(_with_engine(app.settings, "upgrade", revision))
    console.print(
        f"[green]✓[/] database at revision {now or 'base'} ({safe_url(app.settings.database_url)})"
    )


@db.command()
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_cli
def downgrade(app: CliContext, revision: str, yes: bool) -> None:
    """Migrate the database down to REVISION ("base" removes every table and its data)."""
    if not yes:
        click.confirm(
            f"Downgrading to {revision} can delete data in "
            f"{safe_url(app.settings.database_url)}. Go on?",
            abort=True,
        )
    now = run_async(_with_engine(app.settings, "downgrade", revision))
    console.print(f"[green]✓[/] database at revision {now or 'base'}")


@db.command()
@pass_cli
def current(app: CliContext) -> None:
    """Show the revision the database is at and the newest one available."""
    from angie.db import migrate

    now = run_async(_with_engine(app.settings, "current", None))
    newest = migrate.head()
    state = "up to date" if now == newest else f"behind: run `angie db upgrade` to reach {newest}"
    console.print(f"database at revision {now or 'base'} ({state})")
