"""The browsable API docs at /api/docs work offline: Swagger UI comes from Angie, not a CDN."""

from __future__ import annotations

import asyncio
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
from api_support import ApiHarness, make_api_angie
from fakes.brain import Brain

from angie_mcp_core.testing import free_port

ROOT = Path(__file__).resolve().parents[1]

DOCS = "/api/docs"
# Every URL an HTML attribute or the start-up script names: src=, href= and `url: '...'`.
_REFERENCES = re.compile(r"""(?:src|href)=["']([^"']+)["']|url:\s*["']([^"']+)["']""")


def _references(page: str) -> list[str]:
    return [a or b for a, b in _REFERENCES.findall(page)]


async def test_the_docs_page_names_only_angies_own_urls(api: ApiHarness) -> None:
    page = await api.client.get(DOCS)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    references = _references(page.text)
    assert "/api/docs/assets/swagger-ui-bundle.js" in references
    assert "/api/docs/assets/swagger-ui.css" in references
    assert "/api/openapi.json" in references
    assert [ref for ref in references if not ref.startswith("/api/")] == []
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "fastapi.tiangolo.com", "validator.swagger.io"):
        assert cdn not in page.text


async def test_every_url_the_docs_page_names_answers(api: ApiHarness) -> None:
    page = await api.client.get(DOCS)

    statuses = {ref: (await api.client.get(ref)).status_code for ref in _references(page.text)}
    assert set(statuses.values()) == {200}, statuses


@pytest.mark.parametrize(
    ("asset", "content_type", "marker"),
    [
        ("swagger-ui-bundle.js", "text/javascript", b"SwaggerUIBundle"),
        ("swagger-ui.css", "text/css", b".swagger-ui"),
        ("favicon.png", "image/png", b"\x89PNG"),
    ],
)
async def test_docs_assets_are_served_with_their_content_type(
    api: ApiHarness, asset: str, content_type: str, marker: bytes
) -> None:
    answer = await api.client.get(f"/api/docs/assets/{asset}")

    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == content_type
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert marker in answer.content[:200_000]


async def test_an_unknown_docs_asset_is_not_found(api: ApiHarness) -> None:
    answer = await api.client.get("/api/docs/assets/nothing-here.js")

    assert answer.status_code == 404


async def test_the_docs_page_policy_allows_angie_and_no_other_origin(api: ApiHarness) -> None:
    page = await api.client.get(DOCS)

    policy = page.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline';" in policy
    assert "style-src 'self' 'unsafe-inline';" in policy
    assert "img-src 'self' data:;" in policy
    assert "http:" not in policy
    assert "https:" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"


async def test_redoc_and_the_oauth2_redirect_page_are_not_served(api: ApiHarness) -> None:
    for path in ("/api/redoc", "/redoc", "/docs", "/docs/oauth2-redirect"):
        assert (await api.client.get(path)).status_code == 404, path


def _smoke_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("angie_smoke", ROOT / "packaging" / "smoke.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_binary_smoke_check_accepts_the_docs_angie_serves(
    sqlite_url: str, data_dir: Path
) -> None:
    port = free_port()
    angie = make_api_angie(sqlite_url, data_dir, Brain(), api=True, port=port)
    check_docs = _smoke_module().check_docs
    await angie.start()
    try:
        # The smoke check is blocking urllib, as it runs against the built binary.
        shown = await asyncio.to_thread(check_docs, f"http://127.0.0.1:{port}")
    finally:
        await angie.stop(grace=5)

    assert shown.split(", ") == ["swagger-ui.css", "favicon.png", "swagger-ui-bundle.js"]
