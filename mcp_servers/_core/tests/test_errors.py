"""The errors the model sees say what went wrong and how to recover."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    NotFoundError,
    RateLimitedError,
    UnauthorizedError,
    UpstreamError,
    from_status,
    parse_retry_after,
)


def test_not_found_suggests_close_names() -> None:
    error = NotFoundError("light", "kitchn", ["Kitchen", "Kitchen strip", "Hallway"])
    assert str(error) == "No light named 'kitchn'. Did you mean 'Kitchen', 'Kitchen strip'?"


def test_not_found_lists_known_names_when_nothing_is_close() -> None:
    error = NotFoundError("scene", "zzz", ["Relax", "Concentrate"])
    assert str(error) == "No scene named 'zzz'. Known scenes: 'Concentrate', 'Relax'."


def test_not_configured_names_the_variables() -> None:
    error = NotConfiguredError("the Hue bridge", ["ANGIE_HUE_BRIDGE_HOST", "ANGIE_HUE_USERNAME"])
    assert "set ANGIE_HUE_BRIDGE_HOST, ANGIE_HUE_USERNAME" in str(error)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, UnauthorizedError),
        (403, UnauthorizedError),
        (404, UpstreamError),
        (400, InvalidArgumentError),
        (422, InvalidArgumentError),
        (429, RateLimitedError),
        (500, UpstreamError),
        (503, UpstreamError),
    ],
)
def test_status_maps_to_the_right_error(status: int, kind: type[Exception]) -> None:
    assert type(from_status("GitHub", status, "detail")) is kind


def test_rate_limit_says_when_to_retry() -> None:
    error = from_status("Spotify", 429, retry_after=7)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 7
    assert "Try again in 7 seconds" in str(error)


def test_unauthorized_carries_the_hint() -> None:
    error = from_status("GitHub", 401, auth_hint="Check ANGIE_GITHUB_TOKEN.")
    assert (
        str(error)
        == "GitHub failed (HTTP 401): it rejected Angie's credentials. Check ANGIE_GITHUB_TOKEN."
    )


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("Sat, 21 Nov 2026 12:00:30 GMT", 30.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    now = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(header, now) == seconds
