"""The `angie` command line: help, version, the db commands and `serve` on a fresh machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from angie.cli import cli
from angie.db import migrate


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


def test_serve_migrates_a_new_sqlite_file(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANGIE_DATA_DIR", str(data_dir))
    code, out, _ = run("serve")
    assert code == 0
    assert f"database ready at revision {migrate.head()}" in out
    assert (data_dir / "angie.db").is_file()
    assert (data_dir / "secret_key").is_file()


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


@pytest.mark.slow
def test_console_script_runs_as_a_program(data_dir: Path) -> None:
    angie = Path(sys.executable).with_name("angie")
    done = subprocess.run(
        [str(angie), "serve"],
        env={"ANGIE_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "database ready" in done.stdout
