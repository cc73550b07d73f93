"""Build an Angie MCP server: FastMCP with masked errors, bearer auth on HTTP, a `status` tool."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from typing import Any

from fastmcp import FastMCP
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from angie_mcp_core.auth import BearerTokenVerifier
from angie_mcp_core.configuration import CONFIGURATION_URI, Configuration
from angie_mcp_core.errors import ServerToolError
from angie_mcp_core.settings import ServerSettings

__all__ = (
    "ALWAYS_ASK",
    "DESTRUCTIVE",
    "IDEMPOTENT_WRITE",
    "NEVER_WHEN_TAINTED",
    "READ_ONLY",
    "WRITE",
    "Probed",
    "ServerStatus",
    "SignIn",
    "create_server",
)

#: Annotations for tools that only read: no approval needed.
READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True)
#: Annotations for tools that change something in the world but destroy nothing.
WRITE = ToolAnnotations(readOnlyHint=False, destructiveHint=False)
#: Writes that set an absolute state: made twice, the second changes nothing. Angie makes such
#: a call again when she cannot tell whether it happened before a restart; others she asks about.
IDEMPOTENT_WRITE = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=True)
#: Annotations for tools whose call can do harm that is not undone by calling again (open a
#: door, disarm an alarm, delete): Angie's approval policy asks before each call.
DESTRUCTIVE = ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=False)
#: Tool ``meta`` of a tool whose every call the user must approve, whatever the server's
#: approval mode; clients that do not know the key still see ``destructiveHint``.
ALWAYS_ASK: dict[str, str] = {"angie/approval": "always"}
#: Tool ``meta`` of a tool Angie never calls in a run that read untrusted content (a webhook,
#: an inbound mail), not even with approval: tools that create or change crons, workflows or
#: webhooks, which would let outside text plant work that outlives the run.
NEVER_WHEN_TAINTED: dict[str, str] = {"angie/tainted": "never"}


class SignIn(BaseModel):
    """The account a server is signed in to, what it may do and how long the sign-in lasts."""

    service: str = Field(description="The service signed in to (Gmail, Google Calendar).")
    account: str = Field(description="Who is signed in (an address or user name).")
    scopes: list[str] = Field(description="What the sign-in allows (the OAuth scopes granted).")
    expires_at: datetime | None = Field(
        description="When the sign-in stops working unless renewed; null when it does not expire."
    )
    renew_with: str = Field(description="The command that renews the sign-in.")


@dataclass(frozen=True, slots=True)
class Probed:
    """What a probe found: the service's one line, and the sign-in when there is one."""

    upstream: str
    sign_in: SignIn | None = None


Probe = Callable[[], Awaitable[str | Probed]]


class ServerStatus(BaseModel):
    server: str = Field(description="The server's name.")
    version: str = Field(description="The server package's version.")
    configured: bool = Field(description="Whether every setting the service needs is set.")
    missing_settings: list[str] = Field(description="Environment variables still to set.")
    upstream_reachable: bool | None = Field(
        description="Whether the service answered; null when not configured, so not tried."
    )
    upstream: str | None = Field(description="What the service said it is (name, version).")
    error: str | None = Field(description="Why the service could not be reached.")
    sign_in: SignIn | None = Field(
        default=None,
        description="The signed-in account, its scopes and when the sign-in expires, for a "
        "server that signs in; null otherwise or when the service could not be reached.",
    )


def _package_version(name: str) -> str:
    try:
        return dist_version(f"angie-mcp-{name.replace('_', '-')}")
    except PackageNotFoundError:
        return "unknown"


def create_server(
    name: str,
    settings: ServerSettings,
    *,
    instructions: str,
    probe: Probe | None = None,
    lifespan: Callable[[FastMCP], AbstractAsyncContextManager[Any]] | None = None,
) -> FastMCP:
    """A FastMCP server named ``name`` with Angie's defaults, a ``status`` tool and its
    configuration resource (:data:`~angie_mcp_core.configuration.CONFIGURATION_URI`).

    Only :class:`~angie_mcp_core.errors.ServerToolError` messages reach the model; other
    exceptions are masked. On HTTP the server requires ``settings.token`` as a bearer token.
    ``lifespan`` opens and closes what the server holds (a vendor client's connections).
    """
    version = _package_version(name)
    auth = None
    if settings.transport == "http":
        if settings.token is None:
            raise ValueError(f"{settings.env_name('token')} must be set to serve over HTTP")
        auth = BearerTokenVerifier(settings.token.get_secret_value())
    mcp = FastMCP(
        name=name,
        instructions=instructions,
        version=version,
        auth=auth,
        mask_error_details=True,
        on_duplicate="error",
        lifespan=lifespan,
    )

    @mcp.tool(name="status", annotations=READ_ONLY)
    async def status() -> ServerStatus:
        """Report whether this server is configured and its service reachable.

        Use it when another tool fails or before a first use. Never returns a secret.
        """
        missing = settings.missing()
        reachable: bool | None = None
        upstream: str | None = None
        error: str | None = None
        sign_in: SignIn | None = None
        if not missing and probe is not None:
            try:
                found = await probe()
                reachable = True
                if isinstance(found, Probed):
                    upstream, sign_in = found.upstream, found.sign_in
                else:
                    upstream = found
            except ServerToolError as err:
                reachable, error = False, str(err)
        return ServerStatus(
            server=name,
            version=version,
            configured=not missing,
            missing_settings=missing,
            upstream_reachable=reachable,
            upstream=upstream,
            error=error,
            sign_in=sign_in,
        )

    @mcp.resource(
        CONFIGURATION_URI,
        name="configuration",
        description="Whether the server has every setting its service needs, and the names of "
        "those missing. Never a value; the service is not contacted.",
        mime_type="application/json",
    )
    def configuration() -> str:
        missing = settings.missing()
        return Configuration(configured=not missing, missing_settings=missing).model_dump_json()

    return mcp
