"""The API app factory: every resource router under ``/api``, one error shape, request ids."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from angie.api.docs import install_docs
from angie.api.edge import EdgeGuard, SecurityHeaders
from angie.api.errors import document_errors, install_error_handlers
from angie.api.middleware import RequestContext
from angie.api.routes import (
    agents,
    approval_rules,
    approvals,
    auth,
    browser_auth,
    channels,
    chat,
    conversations,
    events,
    live,
    mcp,
    mcp_accounts,
    onboarding,
    prompts,
    schedules,
    status,
    tasks,
    teams,
    users,
    webhook_deliveries,
    webhooks,
    workflows,
)
from angie.api.web import WEB_DIST, install_web

if TYPE_CHECKING:
    from angie.services import Services

__all__ = ("create_app",)


def create_app(
    services: Services, *, bind_host: str | None = None, web_dist: Path = WEB_DIST
) -> FastAPI:
    """The API, and the web UI built in ``web_dist`` at ``/``; it answers to loopback,
    ``bind_host`` (default ANGIE_HOST) and ANGIE_ALLOWED_HOSTS only."""
    settings = services.settings
    app = FastAPI(
        title="Angie",
        version=services.version,
        # Swagger UI is served from Angie's own files (install_docs), ReDoc not at all.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        openapi_url="/api/openapi.json",
        description="Angie's REST API. Authenticate with `Authorization: Bearer <token>`: "
        "an access token from `POST /api/auth/login` or a personal API token.",
    )
    app.state.services = services
    install_error_handlers(app)
    # The last added runs first: headers on every answer, then the request id, then the edge.
    hosts = [bind_host or settings.host, *settings.allowed_hosts]
    app.add_middleware(EdgeGuard, hosts=hosts)
    app.add_middleware(RequestContext)
    app.add_middleware(SecurityHeaders)
    generate = app.openapi
    app.openapi = lambda: document_errors(generate())  # type: ignore[method-assign]
    install_docs(app, openapi_url="/api/openapi.json")

    api = APIRouter()

    @api.get("/health", operation_id="health", tags=["health"])
    async def health() -> dict[str, str | bool]:
        """Angie is up (no authentication); ``demo`` when she runs a demo home."""
        return {"status": "ok", "version": services.version, "demo": services.demo}

    @api.get(
        "/ready",
        operation_id="ready",
        tags=["health"],
        response_model=None,
        responses={503: {"description": "Not ready"}},
    )
    async def ready() -> Any:
        """Ready to work: the database answers and the MCP servers have started."""
        try:
            async with services.database.session() as session:
                await session.execute(text("SELECT 1"))
        except Exception as err:  # any database failure means not ready
            return JSONResponse({"status": "unavailable", "reason": type(err).__name__}, 503)
        servers = {s.name: s.health.value for s in services.servers.states()}
        return {"status": "ready", "servers": servers}

    # Each router straight on the app under ``/api``: FastAPI matches included routers lazily,
    # walking a nested router's routes again at each level on every request. The order is
    # the matching order (and the schema's).
    for router in (
        api,
        auth.router,
        browser_auth.router,
        users.me_router,
        approval_rules.router,
        users.users_router,
        webhooks.router,
        webhook_deliveries.router,
        prompts.prompts_router,
        prompts.system_prompts_router,
        onboarding.router,
        *(work.router for work in (tasks, events, schedules, approvals, status, live)),
        mcp_accounts.router,
        *(household.router for household in (agents, teams, workflows, mcp, channels)),
        chat.router,
        conversations.router,
    ):
        app.include_router(router, prefix="/api")
    install_web(app, web_dist)
    return app
