"""The browser tests' fixtures: one ``angie serve`` per module (its ``model`` fixture says how
the fake model answers), one Chromium per module, and a fresh page per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser.web_support import CHROMIUM, Served, opened, require_browser, serving
from fakes.openai_server import Reply, Respond
from playwright.sync_api import Browser, Page, sync_playwright


@pytest.fixture(scope="module")
def model() -> Respond:
    """The fake model: says it is done (a module overrides this to script a conversation)."""
    return lambda request: Reply.say("Done.")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, model: Respond) -> Iterator[Served]:
    require_browser()  # before starting Angie for nothing
    with serving(model, tmp_path_factory.mktemp("web-home")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    """A desktop-sized page in the light theme."""
    with opened(browser, tmp_path / "screenshot.png") as desktop:
        yield desktop


@pytest.fixture
def phone(browser: Browser, tmp_path: Path) -> Iterator[Page]:
    """A phone-sized page in the dark theme."""
    size = {"width": 390, "height": 844}
    with opened(browser, tmp_path / "screenshot.png", viewport=size, color_scheme="dark") as p:
        yield p
