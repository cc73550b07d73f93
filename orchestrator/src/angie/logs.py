"""Angie's log setup: one line per record, text or JSON, with the request id and no secrets.

Every record passes a filter that adds the current API request id and masks anything that looks
like a credential (bearer tokens, personal API tokens, JWTs, ``password=…``), so a secret that
reaches a log message by accident still never reaches the log.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = (
    "JsonFormatter",
    "LogFormat",
    "RedactingFilter",
    "configure_logging",
    "redact",
    "request_id_var",
)

#: The API request being served, set by the API's request middleware.
request_id_var: ContextVar[str | None] = ContextVar("angie_request_id", default=None)

LogFormat = Literal["text", "json"]

_SECRETS = re.compile(
    r"(?P<bearer>(?i:bearer)\s+)[A-Za-z0-9._~+/=-]+"
    r"|angie_pat_[A-Za-z0-9_-]+"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
    r"|(?P<key>(?i:password|passwd|secret|token|api_key|apikey)[\"']?\s*[=:]\s*[\"']?)[^\s\"',&]+"
)
# Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept in JSON.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}
_NOISY = ("httpx", "httpx2", "httpcore", "httpcore2", "mcp", "fastmcp", "dramatiq")


def redact(text: str) -> str:
    def mask(match: re.Match[str]) -> str:
        prefix = match.group("bearer") or match.group("key") or ""
        return f"{prefix}[redacted]"

    return _SECRETS.sub(mask, text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or getattr(record, "request_id", None)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        line = f"{line} [request {request_id}]" if request_id else line
        return redact(line) if record.exc_info else line


def configure_logging(level: str, fmt: LogFormat = "text") -> None:
    """Log to stderr at ``level``; the MCP client and queue libraries only from WARNING."""
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else _TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
