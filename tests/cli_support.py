"""The ``angie`` CLI under test: the real console script in a subprocess (or a pseudo-terminal)
against a started Angie whose API listens on a free port of 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pexpect
import yaml
from api_support import PASSWORD, Account, make_api_angie, register, settled
from fakes.brain import Brain
from sqlalchemy import select

from angie.channels.hub import ChannelFactory
from angie.daemon import Angie
from angie.db.models import Task, User
from angie.mcp.registry import ServerSpec
from angie_mcp_core.testing import free_port

__all__ = ("ANGIE", "PASSWORD", "CliHarness", "Run", "cli_harness", "documents", "write")

ANGIE = Path(sys.executable).with_name("angie")


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@dataclass
class CliHarness:
    angie: Angie
    url: str
    home: Path
    people: list[Account] = field(default_factory=list)

    @property
    def config(self) -> Path:
        """Where the CLI keeps its URL and token (ANGIE_CLI_CONFIG)."""
        return self.home / "cli.json"

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(self.home),
            "LC_ALL": "C.UTF-8",
            "ANGIE_URL": self.url,
            "ANGIE_CLI_CONFIG": str(self.config),
            # The same machine as Angie: `angie setup` finds her setup code in her data dir.
            "ANGIE_DATA_DIR": str(self.angie.settings.data_dir),
            # Wide and plain: rich wraps to COLUMNS and colours nothing under NO_COLOR.
            "COLUMNS": "200",
            "NO_COLOR": "1",
            "TERM": "dumb",
            **(extra or {}),
        }

    async def run(
        self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
    ) -> Run:
        """``angie ARGS`` in a subprocess (in a thread: this loop serves the API meanwhile)."""
        return await asyncio.to_thread(self._run, args, input, env)

    def _run(self, args: tuple[str, ...], input: str | None, env: Mapping[str, str] | None) -> Run:
        done = subprocess.run(
            [str(ANGIE), *args],
            input=input or "",
            capture_output=True,
            text=True,
            env=self.environ(env),
            cwd=self.home,
            timeout=50,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def spawn(self, *args: str, env: Mapping[str, str] | None = None) -> pexpect.spawn[str]:
        """``angie ARGS`` on a pseudo-terminal, to answer its prompts (drive it in a thread)."""
        # A real terminal type: rich treats a dumb one as 80 columns wide, whatever its size.
        return pexpect.spawn(
            str(ANGIE),
            list(args),
            env=self.environ({"TERM": "xterm", **(env or {})}),
            cwd=str(self.home),
            encoding="utf-8",
            timeout=30,
            dimensions=(50, 200),
        )

    def client(self, person: Account | None = None) -> httpx.AsyncClient:
        headers = person.headers if person else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)

    async def signup(self, name: str = "sam", *, save: bool = True) -> Account:
        """An account made over HTTP (the first is the admin, later ones by invite) holding a
        personal API token, saved for the CLI unless ``save`` is false."""
        inviter = self.people[0] if self.people else None
        async with self.client() as http:
            account = await register(
                http, name, inviter=inviter, setup_code=self.angie.services.setup.code
            )
            made = await http.post("/api/me/tokens", json={"name": "test"}, headers=account.headers)
            assert made.status_code == 201, made.text
        person = replace(account, token=made.json()["token"])
        self.people.append(person)
        if save:
            self.config.write_text(json.dumps({"url": self.url, "token": person.token}))
        return person

    def saved(self) -> dict[str, Any]:
        data = json.loads(self.config.read_text()) if self.config.exists() else {}
        assert isinstance(data, dict)
        return data

    async def settled(self, task_id: int, seconds: float = 30) -> Task:
        """Wait until a task has finished or waits for an approval."""
        return await settled(self.angie, task_id, seconds)


@asynccontextmanager
async def cli_harness(
    database_url: str,
    data_dir: Path,
    home: Path,
    brain: Brain,
    *,
    specs: Mapping[str, ServerSpec] | None = None,
    environ: Mapping[str, str] | None = None,
    channel_factory: ChannelFactory | None = None,
) -> AsyncIterator[CliHarness]:
    """Start an Angie serving her API on a free port; stop her afterwards."""
    port = free_port()
    angie = make_api_angie(
        database_url,
        data_dir,
        brain,
        specs=specs,
        environ=environ,
        api=True,
        port=port,
        log_level="WARNING",
        channel_factory=channel_factory,
    )
    await asyncio.to_thread(home.mkdir, parents=True, exist_ok=True)
    await angie.start()
    try:
        yield CliHarness(angie, f"http://127.0.0.1:{port}", home)
    finally:
        await angie.stop(grace=5)


def write(path: Path, data: dict[str, Any], *, as_json: bool = False) -> str:
    """An answers file (YAML, or JSON) for ``angie setup --answers``; its path."""
    path.write_text(json.dumps(data) if as_json else yaml.safe_dump(data))
    return str(path)


async def documents(cli: CliHarness, email: str) -> dict[str, tuple[int, str]]:
    """Each current document of one person: (version, body)."""
    async with cli.angie.services.database.session() as session:
        user_id = (await session.scalars(select(User.id).where(User.email == email))).one()
    found: dict[str, tuple[int, str]] = {}
    for doc in await cli.angie.services.user_prompts.current(user_id):
        found[doc.name] = (doc.version, doc.body)
    return found
