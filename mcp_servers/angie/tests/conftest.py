"""Fixtures for Angie's own server: the fake API of ``angie_mcp_angie.testing``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from angie_mcp_angie.testing import FakeAngie


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ANGIE_ANGIE_* from the developer's shell and no .env."""
    for name in ("URL", "API_TOKEN", "TIMEOUT"):
        monkeypatch.delenv(f"ANGIE_ANGIE_{name}", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fake_angie() -> Iterator[FakeAngie]:
    with FakeAngie() as fake:
        yield fake
