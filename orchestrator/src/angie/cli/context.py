"""What every command shares: settings built once, on first use, and one-line failures."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console

from angie.settings import AngieSettings, SettingsError, load_settings

__all__ = ("CliContext", "fail", "pass_cli", "run_async")

stderr = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """Tell the user what went wrong in one line and exit non-zero (no traceback)."""
    stderr.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    raise SystemExit(code)


def run_async[T](coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@dataclass
class CliContext:
    env_file: Path | None
    _settings: AngieSettings | None = field(default=None, repr=False)

    @property
    def settings(self) -> AngieSettings:
        if self._settings is None:
            try:
                self._settings = load_settings(env_file=self.env_file)
            except SettingsError as err:
                fail(str(err), code=2)
        return self._settings


pass_cli = click.make_pass_decorator(CliContext)
