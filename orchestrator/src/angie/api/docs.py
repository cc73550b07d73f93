"""The API's browsable docs at ``/api/docs``: Swagger UI served by Angie herself, never a CDN.

Angie often runs at home without internet, so the page's script, style and icon come from the
Swagger UI build that the ``fastapi-offline`` package ships (its ``static`` folder).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ("DOCS_ASSETS", "DOCS_URL", "assets_dir", "install_docs")

DOCS_URL = "/api/docs"
DOCS_ASSETS = f"{DOCS_URL}/assets"
# The package whose data folder holds the Swagger UI build (the binary bundles it too).
_ASSETS_PACKAGE = "fastapi_offline"


def assets_dir() -> Path:
    """The folder of ``swagger-ui-bundle.js``, ``swagger-ui.css`` and ``favicon.png``."""
    return Path(str(files(_ASSETS_PACKAGE) / "static"))


def install_docs(app: FastAPI, *, openapi_url: str) -> None:
    """Serve Swagger UI at ``/api/docs`` and its files under ``/api/docs/assets``.

    The app is made with ``docs_url=None`` so FastAPI's own page (which loads from jsDelivr)
    is not there; ReDoc stays off.
    """
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets_dir()), name="docs-assets")
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{app.title} API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        # Swagger UI would otherwise send the schema to validator.swagger.io for a badge.
        swagger_ui_parameters={"validatorUrl": None},
    )

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return page
