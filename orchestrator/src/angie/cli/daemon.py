"""``angie serve``, ``angie daemon`` and ``angie worker``: the long-running processes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import click
from rich.console import Console

from angie.cli.context import CliContext, fail, pass_cli, run_async
from angie.logs import configure_logging

if TYPE_CHECKING:
    import socket

    from angie.daemon import Angie, Role
    from angie.demo import DemoHome

__all__ = ("api", "daemon", "serve", "worker")

console = Console(highlight=False, stderr=True)


def _run(
    app: CliContext,
    role: Role,
    host: str | None = None,
    port: int | None = None,
    demo: DemoHome | None = None,
) -> None:
    from angie.daemon import Angie
    from angie.errors import AngieError
    from angie.instance import InstanceLock, bind_api_socket, locks_data_dir
    from angie.mcp.registry import RegistryError
    from angie.prompts import PromptError

    settings = app.settings
    configure_logging(settings.log_level, settings.log_format)
    if role == "worker" and not settings.redis_url:
        fail(
            "`angie worker` needs ANGIE_REDIS_URL (without Redis, `angie serve` runs tasks itself)",
            2,
        )
    # Before anything starts (servers, worker, database): the data dir is this process's
    # alone, then the API's port is hers; either taken by another stops her here.
    lock: InstanceLock | None = None
    api_socket: socket.socket | None = None
    host, port = host or settings.host, port or settings.port
    try:
        if locks_data_dir(role, settings):
            lock = InstanceLock.acquire(settings.data_dir)
        if role in ("serve", "api"):
            api_socket = bind_api_socket(host, port)
    except AngieError as err:
        fail(err.message, code=2)
    except OSError as err:
        fail(f"Angie could not start: {err.strerror or err}")
    if role in ("serve", "worker"):
        _check_model(app)
    angie = Angie(
        settings,
        role=role,
        host=host,
        port=port,
        api_socket=api_socket,
        env_file=app.env_file,
        specs=demo.specs if demo else None,
        environ=demo.environ if demo else None,
        demo=demo is not None,
    )
    if role in ("serve", "api"):
        queue = "Redis" if settings.redis_url else "embedded"
        where = f"http://{host}:{port}"
        what = "Angie is starting" + (" a demo home (simulated devices)" if demo else "")
        console.print(f"{what}: API {where}, {queue} queue, data in {settings.data_dir}")
    try:
        run_async(angie.run(started=_demo_started(angie, demo) if demo else None))
    except (RegistryError, PromptError) as err:
        fail(str(err), code=2)
    except OSError as err:
        fail(f"Angie could not start: {err.strerror or err}")
    finally:
        if lock is not None:
            lock.release()


def _demo_started(angie: Angie, demo: DemoHome) -> Callable[[], Awaitable[None]]:
    async def started() -> None:
        from angie.demo import demo_lines

        setup_code = angie.services.setup.code
        for line in demo_lines(demo, angie.settings, setup_code):
            console.print(line, markup=False, soft_wrap=True)

    return started


def _check_model(app: CliContext) -> None:
    """A model that cannot be built stops a process that runs tasks at start, in one line
    naming the setting, rather than at the first message; none set is fine (Angie then says
    how to configure one)."""
    from angie.agents.llm import ModelConfigError, ModelNotConfigured, build_model

    try:
        build_model(None, app.settings)
    except ModelNotConfigured:
        return
    except ModelConfigError as err:
        fail(str(err), code=2)


@click.command()
@click.option("--host", help="Address to listen on (default ANGIE_HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default ANGIE_PORT, 8000).")
@click.option(
    "--demo",
    is_flag=True,
    help="A demo home: simulated Hue lights, Home Assistant, Spotify and GitHub on this "
    "machine, with data of its own in <data dir>/demo; your real settings are left alone.",
)
@pass_cli
def serve(app: CliContext, host: str | None, port: int | None, demo: bool) -> None:
    """Start Angie on this machine: database, MCP servers, worker, scheduler and API."""
    if not demo:
        _run(app, "serve", host, port)
        return
    from angie.demo import demo_home, demo_settings
    from angie.settings import SettingsError

    try:
        app = CliContext(app.env_file, demo_settings(app.env_file))
    except SettingsError as err:
        fail(str(err), code=2)
    with demo_home(app.settings.data_dir) as home:
        _run(app, "serve", host, port, demo=home)


@click.command()
@pass_cli
def daemon(app: CliContext) -> None:
    """Run the scheduler, feedback and approvals (production: exactly one of these)."""
    _run(app, "daemon")


@click.command()
@pass_cli
def worker(app: CliContext) -> None:
    """Run tasks from the Redis queue, with the MCP servers they need (production: N of these)."""
    _run(app, "worker")


@click.command()
@click.option("--host", help="Address to listen on (default ANGIE_HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default ANGIE_PORT, 8000).")
@pass_cli
def api(app: CliContext, host: str | None, port: int | None) -> None:
    """Serve the REST API only (production: next to a daemon and workers)."""
    _run(app, "api", host, port)
