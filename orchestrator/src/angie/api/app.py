"""The API app factory: health and readiness now; the resources mount here as they land."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

if TYPE_CHECKING:
    from angie.daemon import Angie

__all__ = ("create_app",)


def create_app(angie: Angie) -> FastAPI:
    app = FastAPI(
        title="Angie", version=angie.version, docs_url="/api/docs", openapi_url="/api/openapi.json"
    )

    @app.get("/api/health", operation_id="health", tags=["health"])
    async def health() -> dict[str, str]:
        """Angie is up (no authentication)."""
        return {"status": "ok", "version": angie.version}

    @app.get("/api/ready", operation_id="ready", tags=["health"], response_model=None)
    async def ready() -> Any:
        """Ready to work: the database answers and the MCP servers have started."""
        try:
            async with angie.database.session() as session:
                await session.execute(text("SELECT 1"))
        except Exception as err:  # any database failure means not ready
            return JSONResponse({"status": "unavailable", "reason": type(err).__name__}, 503)
        servers = {s.name: s.health.value for s in angie.server_states()}
        return {"status": "ready", "servers": servers}

    return app
