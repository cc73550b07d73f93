"""Angie's log lines: request ids, JSON when asked, and secrets masked whatever the logger."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from angie.logs import JsonFormatter, RedactingFilter, configure_logging, redact, request_id_var


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.handlers, root.level = before, level


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.def-123", "abc.def-123"),
        ("token angie_pat_Zk3-q9_abc", "angie_pat_Zk3-q9_abc"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJzdWIiOiIxIn0"),
        ("login with password=hunter22 failed", "hunter22"),
        ('{"api_key": "sk-live-123"}', "sk-live-123"),
    ],
)
def test_redact_masks_credentials(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_redact_leaves_ordinary_text_alone() -> None:
    assert redact("turned on the floor lamp in 12 ms") == "turned on the floor lamp in 12 ms"


def test_json_lines_carry_the_request_id_and_extras(captured: io.StringIO) -> None:
    token = request_id_var.set("req-42")
    try:
        logging.getLogger("angie.api.access").info(
            "GET /api/tasks 200", extra={"status": 200, "path": "/api/tasks"}
        )
    finally:
        request_id_var.reset(token)
    entry = json.loads(captured.getvalue())
    assert entry["request_id"] == "req-42"
    assert entry["status"] == 200
    assert entry["path"] == "/api/tasks"
    assert entry["logger"] == "angie.api.access"


def test_a_secret_in_a_log_message_never_reaches_the_log(captured: io.StringIO) -> None:
    logging.getLogger("angie.anything").warning("refused %s", "Bearer eyJhbGciOi.eyJzdWIi.sig")
    line = captured.getvalue()
    assert "eyJhbGciOi" not in line
    assert "Bearer [redacted]" in line


def test_configure_logging_installs_one_handler_at_the_level() -> None:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        configure_logging("WARNING", "json")
        assert len(root.handlers) == 1
        assert root.level == logging.WARNING
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        assert logging.getLogger("httpx2").level == logging.WARNING
    finally:
        root.handlers, root.level = before, level
