"""The fake-service base: a free port, the request log, injected failures, delays, stopping."""

from __future__ import annotations

import threading

import httpx
import pytest

from angie_mcp_core.fakes import FakeService, Reply, Request


class Echo(FakeService):
    """Answers every request with its method, path and JSON body."""

    def answer(self, request: Request) -> Reply:
        return Reply.json(
            200, {"method": request.method, "path": request.path, "body": request.json()}
        )


def test_a_fake_answers_on_loopback_and_logs_each_request() -> None:
    with Echo() as fake:
        answer = httpx.post(f"{fake.url}/things?x=1", json={"a": 1}, headers={"X-Key": "k"})
    assert answer.json() == {"method": "POST", "path": "/things", "body": {"a": 1}}
    assert fake.url == f"http://127.0.0.1:{fake.port}"
    [seen] = fake.log
    assert (seen.method, seen.target, seen.query) == ("POST", "/things?x=1", {"x": ["1"]})
    assert seen.headers["x-key"] == "k"


def test_an_injected_failure_answers_the_next_requests_then_the_fake_recovers() -> None:
    with Echo() as fake:
        fake.inject(Reply.json(429, {"error": "slow down"}, {"Retry-After": "7"}), times=2)
        first, second, third = (httpx.get(f"{fake.url}/a") for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["retry-after"] == "7"
    assert first.json() == {"error": "slow down"}


def test_an_injected_failure_waits_for_a_request_to_its_path() -> None:
    with Echo() as fake:
        fake.inject(Reply(503), path="/token")
        other = httpx.get(f"{fake.url}/api")
        token = httpx.get(f"{fake.url}/token")
    assert (other.status_code, token.status_code) == (200, 503)


def test_a_delay_holds_answers_until_released() -> None:
    with Echo() as fake:
        fake.delay = 30
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{fake.url}/slow", timeout=0.2)
        assert fake.answered == 0
        threading.Timer(0.2, fake.release).start()
        assert httpx.get(f"{fake.url}/slow", timeout=10).status_code == 200
        # Released, the held first request was answered too.
        assert fake.answered >= 1


def test_stopping_twice_or_without_starting_is_harmless() -> None:
    fake = Echo()
    fake.stop()
    fake.stop()
