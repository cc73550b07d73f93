"""One error body for every failure: ``{"error": {"code", "message", "details"}, "request_id"}``.

Routes raise :class:`ApiError` (or its named subclasses); FastAPI's own validation and HTTP
errors and anything unexpected are translated here, so no client ever sees a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = (
    "ApiError",
    "Conflict",
    "Forbidden",
    "NotFound",
    "Unauthorized",
    "error_body",
    "install_error_handlers",
)

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


class ApiError(Exception):
    """A failure the client caused or should know about, with a one-sentence reason."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
            self.code = _CODES.get(status, "error")
        if code is not None:
            self.code = code
        self.details = details or []
        self.headers = headers


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str = "sign in first: send Authorization: Bearer <token>") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


def _request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_body(
    request: Request, status: int, code: str, message: str, details: list[dict[str, Any]]
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error, "request_id": _request_id(request)}


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(request, status, code, message, details or []), status, headers=headers
    )


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        return f"{parts[0]}: {'.'.join(parts[1:])}" if len(parts) > 1 else parts[0]
    return ".".join(parts)


def _validation_details(err: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for item in err.errors():
        detail = {"field": _where(item.get("loc", ())), "message": str(item.get("msg", ""))}
        if item.get("type") == "json_invalid":
            detail["message"] = "the body is not valid JSON"
        details.append(detail)
    return details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        return _respond(request, err.status, err.code, err.message, err.details, err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        details = _validation_details(err)
        first = details[0] if details else {"field": "", "message": "invalid request"}
        if first["message"] == "the body is not valid JSON":
            message = "the body is not valid JSON"
        else:
            message = (
                f"{first['field']}: {first['message']}" if first["field"] else first["message"]
            )
        return _respond(request, 422, "invalid", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(err.status_code, "error")
        message = err.detail if isinstance(err.detail, str) else code.replace("_", " ")
        if err.status_code == 404 and message == "Not Found":
            message = f"there is no route {request.method} {request.url.path}"
        if err.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        headers = dict(err.headers) if err.headers else None
        return _respond(request, err.status_code, code, message, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception(
            "unhandled error on %s %s (request %s)",
            request.method,
            request.url.path,
            _request_id(request),
        )
        return _respond(request, 500, "internal", "Angie hit an unexpected error; see her log")
