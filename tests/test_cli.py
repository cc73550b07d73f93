"""The `angie` command line: help, version, the db commands and `serve` on a fresh machine."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from angie.cli import cli
from angie.db import migrate
from angie_mcp_core.testing import free_port


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_the_commands() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for command in ("serve", "db", "version"):
        assert command in out


def test_version_prints_the_package_version() -> None:
    code, out, _ = run("version")
    assert code == 0
    assert out.strip() == "angie 0.1.0"


def test_db_upgrade_then_current_says_up_to_date(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANGIE_DATA_DIR", str(data_dir))
    code, out, _ = run("db", "upgrade")
    assert code == 0
    assert f"revision {migrate.head()}" in out
    code, out, _ = run("db", "current")
    assert code == 0
    assert "up to date" in out
    assert (data_dir / "angie.db").is_file()


def test_db_current_on_an_empty_database_says_how_to_upgrade(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANGIE_DATA_DIR", str(data_dir))
    code, out, _ = run("db", "current")
    assert code == 0
    assert "base" in out
    assert "angie db upgrade" in out


def test_db_downgrade_asks_first_and_keeps_data_when_refused(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANGIE_DATA_DIR", str(data_dir))
    run("db", "upgrade")
    code, _, _ = run("db", "downgrade", "base", input="n\n")
    assert code == 1
    assert "up to date" in run("db", "current")[1]
    code, out, _ = run("db", "downgrade", "base", "--yes")
    assert code == 0
    assert "revision base" in out


def test_worker_without_redis_is_refused_in_one_line() -> None:
    code, _, err = run("worker")
    assert code == 2
    assert "ANGIE_REDIS_URL" in err
    assert len(err.strip().splitlines()) == 1


def test_bad_setting_is_one_line_and_exit_code_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANGIE_PORT", "not-a-port")
    code, out, err = run("db", "current")
    assert code == 2
    assert out == ""
    assert err.strip().startswith("error: ANGIE_PORT: Input should be a valid integer")
    assert len(err.strip().splitlines()) == 1


def test_unreachable_database_is_one_line_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANGIE_DATABASE_URL", "mysql+asyncmy://angie:hunter2@127.0.0.1:1/angie")
    code, _, err = run("db", "current")
    assert code == 1
    assert err.startswith("error: cannot use the database at mysql+asyncmy://angie:***@127.0.0.1:1")
    assert "hunter2" not in err
    assert "Traceback" not in err


def test_unknown_revision_is_a_clear_error(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANGIE_DATA_DIR", str(data_dir))
    code, _, err = run("db", "upgrade", "nope")
    assert code == 1
    assert "nope" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("model", "said"),
    [
        ("foo:bar", "ANGIE_MODEL 'foo:bar' has an unknown provider 'foo'"),
        ("gpt-4o", "ANGIE_MODEL 'gpt-4o' names no provider"),
        ("ollama:llama3.1", "ANGIE_MODEL 'ollama:llama3.1' needs ANGIE_MODEL_BASE_URL"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_bad_model_stops_angie_at_start_in_one_line(
    data_dir: Path, command: str, model: str, said: str
) -> None:
    angie = Path(sys.executable).with_name("angie")
    env = {
        "ANGIE_DATA_DIR": str(data_dir),
        "PATH": "/usr/bin:/bin",
        "HOME": str(data_dir),
        "ANGIE_MODEL": model,
        "ANGIE_REDIS_URL": "redis://127.0.0.1:6379/15",
    }
    done = subprocess.run(
        [str(angie), command, "--port", str(free_port())] if command == "serve" else
        [str(angie), command],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    [line] = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert said in line
    assert "Traceback" not in done.stderr
    assert not (data_dir / "angie.db").exists()  # nothing was started


@pytest.mark.slow
def test_serve_starts_answers_and_stops_cleanly_on_sigterm(data_dir: Path) -> None:
    """`angie serve` on a fresh machine: migrates SQLite, serves the API, exits 0 on SIGTERM."""
    port = free_port()
    angie = Path(sys.executable).with_name("angie")
    process = subprocess.Popen(
        [str(angie), "serve", "--port", str(port)],
        env={"ANGIE_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", "HOME": str(data_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 45
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json()
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, "angie serve did not answer on /api/health"
        assert health["status"] == "ok"
        ready = httpx.get(f"http://127.0.0.1:{port}/api/ready", timeout=5).json()
        assert ready["status"] == "ready"
        assert set(ready["servers"]) >= {"hue", "github"}
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Angie stopped" in err
    assert "Traceback" not in err
    assert (data_dir / "angie.db").is_file()
    assert (data_dir / "secret_key").is_file()
