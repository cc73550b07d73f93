"""Shared fixtures: the real MariaDB and Redis servers on loopback, and a fresh database per test.

Outside CI a missing server skips the tests that need it; with ``CI=true`` it fails them, so a
green CI run always means the MySQL and Redis paths really ran.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import ApiHarness, api_harness, make_api_angie, seeded_database
from fakes.brain import Brain
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from angie.db import migrate
from angie.db.engine import Database

MYSQL_URL = os.environ.get("ANGIE_TEST_MYSQL_URL", "mysql+asyncmy://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("ANGIE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def _require(url: str, default_port: int, what: str) -> None:
    if _answers(url, default_port):
        return
    message = f"{what} does not answer at {urlsplit(url).netloc}"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message} (CI=true: services are required)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "angie-data"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own ANGIE_* variables, .env or data directory."""
    for name in list(os.environ):
        if name.startswith("ANGIE_") and not name.startswith("ANGIE_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ANGIE_DATA_DIR", str(tmp_path / "default-data"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def bridge() -> Iterator[FakeHueBridge]:
    """A fake Hue bridge on 127.0.0.1 that Angie's Hue MCP server talks to with phue."""
    fake = FakeHueBridge()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def _worker_redis_url(url: str, worker: str) -> str:
    """Each pytest-xdist worker its own Redis database, counting down from the one configured
    (gw0 keeps it, gw1 the one below, …): queues, caches and flushes never cross workers."""
    if not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    index = base - int(worker.removeprefix("gw"))
    if index < 0:
        raise pytest.UsageError(f"too many test workers for Redis databases 0..{base} of {url}")
    return parts._replace(path=f"/{index}").geturl()


@pytest.fixture
def redis_url() -> str:
    _require(REDIS_URL, 6379, "Redis")
    return _worker_redis_url(REDIS_URL, os.environ.get("PYTEST_XDIST_WORKER", ""))


@pytest.fixture
async def mysql_url() -> AsyncIterator[str]:
    """A fresh, empty MySQL database for one test, dropped afterwards."""
    _require(MYSQL_URL, 3306, "MariaDB/MySQL")
    server = make_url(MYSQL_URL)
    name = f"angie_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server)
    try:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        await admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'angie-test.db'}"


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs on SQLite and on the real MariaDB."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("mysql_url"))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database (SQLite and MariaDB) behind Angie's own engine factory."""
    database = Database(database_url)
    try:
        await migrate.upgrade(database.engine)
        yield database
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated and seeded once; API tests start from a copy of it."""
    path = tmp_path_factory.mktemp("template") / "angie.db"
    asyncio.run(seeded_database(f"sqlite+aiosqlite:///{path}"))
    return path


def _from_template(url: str, template: Path) -> str:
    if url.startswith("sqlite"):
        shutil.copyfile(template, make_url(url).database or "")
    return url


@pytest.fixture
async def api(sqlite_url: str, data_dir: Path, sqlite_template: Path) -> AsyncIterator[ApiHarness]:
    """Angie's API in memory over SQLite, no MCP servers, the scripted brain as her model."""
    url = _from_template(sqlite_url, sqlite_template)
    async with api_harness(make_api_angie(url, data_dir, Brain())) as harness:
        yield harness


@pytest.fixture
async def api_db(
    database_url: str, data_dir: Path, sqlite_template: Path
) -> AsyncIterator[ApiHarness]:
    """The same, once on SQLite and once on MariaDB."""
    url = _from_template(database_url, sqlite_template)
    async with api_harness(make_api_angie(url, data_dir, Brain())) as harness:
        yield harness
