"""One error body for every failure: ``{"error": {"code", "message", "details"}, "request_id"}``.

Services and routes raise Angie's domain errors (:mod:`angie.errors`), mapped to a status code
here in one place; :class:`ApiError` is left for what only HTTP has (a body too large, the wrong
content type). FastAPI's own validation and HTTP errors and anything unexpected are translated
here too, so no client ever sees a traceback.
"""

from __future__ import annotations

import email.message
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from angie.errors import (
    AngieError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
    Unavailable,
)

__all__ = (
    "ApiError",
    "Conflict",
    "ErrorOut",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Unauthorized",
    "Unavailable",
    "document_errors",
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


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorOut(BaseModel):
    """The body of every error response."""

    error: ErrorInfo
    request_id: str | None


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


#: The one place a kind of failure becomes a status code.
_STATUS: tuple[tuple[type[AngieError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (Invalid, 422),
    (Forbidden, 403),
    (Unauthenticated, 401),
    (RateLimited, 429),
    (Unavailable, 503),
)

#: The API's name for a failed sign-in (it answers 401 with ``WWW-Authenticate: Bearer``).
Unauthorized = Unauthenticated


def status_of(err: AngieError) -> int:
    return next((status for kind, status in _STATUS if isinstance(err, kind)), 400)


def _headers_of(err: AngieError) -> dict[str, str] | None:
    if isinstance(err, Unauthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(err, RateLimited):
        return {"Retry-After": str(err.retry_after)}
    return None


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


# FastAPI's words for a body it could not decode (bad UTF-8, nesting too deep, a huge number).
_UNPARSABLE = "There was an error parsing the body"
# What pydantic says when the body is not an object because it was not read as JSON at all.
_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}


def _sent_json(request: Request) -> bool:
    header = request.headers.get("content-type")
    if not header:
        return False
    parsed = email.message.Message()
    parsed["content-type"] = header
    subtype = parsed.get_content_subtype()
    return parsed.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _allowed_methods(request: Request) -> str:
    """The methods the path does answer, for the ``Allow`` header of a 405."""
    # Routers nest (included routers are matched lazily), so ask each method in turn.
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(r.matches(scope)[0] is Match.FULL for r in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AngieError)
    async def _angie_error(request: Request, err: AngieError) -> JSONResponse:
        return _respond(
            request, status_of(err), err.code, err.message, err.details, _headers_of(err)
        )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        return _respond(request, err.status, err.code, err.message, err.details, err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        errors = err.errors()
        if (
            len(errors) == 1
            and tuple(errors[0].get("loc", ())) == ("body",)
            and errors[0].get("type") in _NOT_AN_OBJECT
            and not _sent_json(request)
        ):
            return _respond(
                request,
                415,
                "unsupported_media_type",
                "send the body as JSON, with Content-Type: application/json",
            )
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
        status = err.status_code
        message = err.detail if isinstance(err.detail, str) else ""
        headers = dict(err.headers) if err.headers else None
        if status == 400 and message == _UNPARSABLE:
            status, message = 422, "the body is not valid JSON"
        if status == 404 and message == "Not Found":
            message = f"there is no route {request.method} {request.url.path}"
        if status == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
            # Starlette names only the first route that matched the path; list them all.
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        code = _CODES.get(status, "error")
        return _respond(request, status, code, message or code.replace("_", " "), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception(
            "unhandled error on %s %s (request %s)",
            request.method,
            request.url.path,
            _request_id(request),
        )
        return _respond(request, 500, "internal", "Angie hit an unexpected error; see her log")


# -- the OpenAPI side: every operation names the errors it can answer, in the one shape ----------

_DESCRIPTIONS = {
    "400": "The request is malformed (a bad Content-Length)",
    "401": "Not signed in, or the token is not valid",
    "403": "Not allowed",
    "404": "There is no such object (or it is someone else's)",
    "409": "Conflicts with the current state",
    "413": "The body is larger than 1 MiB",
    "415": "The body is not JSON",
    "422": "The request is not valid",
    "429": "Too many attempts",
}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


def _errors_of(operation: dict[str, Any]) -> set[str]:
    params = operation.get("parameters", [])
    codes = {c for c in operation.get("responses", {}) if c.startswith("4")}
    if operation.get("security"):
        codes |= {"401", "403"}
    if params or "requestBody" in operation:
        codes.add("422")
    if any(p.get("in") == "path" for p in params):
        codes.add("404")
    if "requestBody" in operation:
        codes |= {"400", "413", "415"}
    return codes


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Describe the error responses each operation can give with :class:`ErrorOut` (in place,
    idempotent): signed-in routes 401/403, routes with input 422, ids 404, bodies 400/413/415."""
    used_fastapi_422 = False
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code in sorted(_errors_of(operation)):
                entry = responses.setdefault(code, {})
                if not entry.get("description"):
                    entry["description"] = _DESCRIPTIONS.get(code, "An error")
                content = entry.get("content", {}).get("application/json", {}).get("schema", {})
                if not content or content.get("$ref") == _FASTAPI_422:
                    entry["content"] = {"application/json": {"schema": _ERROR_REF}}
            operation["responses"] = dict(sorted(responses.items()))
            used_fastapi_422 |= _FASTAPI_422 in str(responses)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    found = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(found.pop("$defs", {}))
    components["ErrorOut"] = found
    if not used_fastapi_422:  # FastAPI's own 422 shape is never sent: do not advertise it
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
    return schema
