"""Angie serves her web UI at /: built files, client routes falling back to index.html, hashed
assets cached for good, the entry page revalidated, the API's 404s and 405s untouched, and a
page saying how to build the UI when it is not built."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from api_support import TEST_HOST, ApiHarness, error_message

import angie
from angie.api.app import create_app
from angie.api.web import CLIENT_ROUTES, WEB_DIST

INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-3f9a.js"></script>'


def _built(folder: Path) -> Path:
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX)
    (folder / "assets" / "app-3f9a.js").write_text("console.log('angie')")
    (folder / "favicon.svg").write_text("<svg/>")
    (folder.parent / "secret.txt").write_text("not for the web")
    return folder


@pytest.fixture
async def web(api: ApiHarness, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api.angie.services, web_dist=_built(tmp_path / "web" / "dist"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{TEST_HOST}") as client:
        yield client


@pytest.fixture
async def unbuilt(api: ApiHarness, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api.angie.services, web_dist=tmp_path / "never-built")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{TEST_HOST}") as client:
        yield client


async def test_the_entry_page_is_served_at_the_root_and_revalidated(
    web: httpx.AsyncClient,
) -> None:
    answer = await web.get("/")
    assert answer.status_code == 200
    assert answer.text == INDEX
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-cache"
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert answer.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    "route",
    ["/chat", "/tasks/12", "/approvals/", "/agents/new", "/workflows/3", "/settings/channels"],
)
async def test_client_routes_fall_back_to_the_entry_page(
    web: httpx.AsyncClient, route: str
) -> None:
    answer = await web.get(route)
    assert answer.status_code == 200
    assert answer.text == INDEX
    assert answer.headers["cache-control"] == "no-cache"


async def test_hashed_assets_are_cached_for_good(web: httpx.AsyncClient) -> None:
    answer = await web.get("/assets/app-3f9a.js")
    assert answer.status_code == 200
    assert answer.text == "console.log('angie')"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    head = await web.head("/assets/app-3f9a.js")
    assert head.status_code == 200
    other = await web.get("/favicon.svg")
    assert other.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/assets/app-0000.js", "/nope", "/docs", "/redoc"])
async def test_what_is_not_a_page_of_the_app_stays_a_404(web: httpx.AsyncClient, path: str) -> None:
    assert error_message(await web.get(path), 404) == f"there is no route GET {path}"


def test_the_server_knows_every_page_of_the_app() -> None:
    routes = Path(__file__).resolve().parents[1] / "frontend" / "src" / "app" / "routes.tsx"
    paths = re.findall(r'<Route path="([^"]+)"', routes.read_text(encoding="utf-8"))
    pages = {p.strip("/").split("/", 1)[0] for p in paths if p != "*"}
    assert pages | {""} == CLIENT_ROUTES


async def test_no_file_outside_the_built_folder_is_served(web: httpx.AsyncClient) -> None:
    answer = await web.get("/assets/..%2f..%2fsecret.txt")
    assert answer.status_code == 404
    assert "not for the web" not in answer.text


async def test_the_api_keeps_its_json_404s_and_405s(web: httpx.AsyncClient) -> None:
    error_message(await web.get("/api/no-such-thing"), 404)
    error_message(await web.get("/api"), 404)
    error_message(await web.post("/api/no-such-thing", json={}), 404)
    error_message(await web.delete("/api/health"), 405)


async def test_a_state_changing_request_to_a_page_is_not_the_app(web: httpx.AsyncClient) -> None:
    answer = await web.post("/chat", json={})
    assert answer.status_code in (404, 405)
    assert INDEX not in answer.text


async def test_before_the_ui_is_built_the_root_says_how_to_build_it(
    unbuilt: httpx.AsyncClient,
) -> None:
    for route in ("/", "/tasks"):
        answer = await unbuilt.get(route)
        assert answer.status_code == 200
        assert "make install" in answer.text
        assert answer.headers["content-type"].startswith("text/html")
    error_message(await unbuilt.get("/api/no-such-thing"), 404)


def test_the_binary_bundles_the_ui_where_angie_serves_it_from() -> None:
    root = Path(__file__).resolve().parents[1]
    spec = (root / "packaging" / "angie.spec").read_text(encoding="utf-8")
    inside = WEB_DIST.relative_to(Path(angie.__file__).parent.parent)
    assert f'BUNDLED_WEB = "{inside.as_posix()}"' in spec
    assert "*_data_files(WEB_DIST, BUNDLED_WEB)," in spec
