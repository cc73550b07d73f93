"""Schemathesis against Angie's own OpenAPI schema: every operation, valid and invalid input, as
an admin and as a member, over real HTTP. No request may be a 5xx; responses match the schema.

Angie serves the API with uvicorn on a free loopback port inside the test's event loop; the
generated requests (sync, from Hypothesis) run in a worker thread so the loop keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from api_support import Account, ApiHarness, make_api_angie
from fakes.brain import Brain
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import update

from angie.api.app import create_app
from angie.db.models import User

# Examples per operation and generation mode: bounded so the run fits in about three minutes.
EXAMPLES = 15
# Logging out would end the session whose token every later request carries; the live stream
# never ends by itself (tests/test_api_live_updates.py reads it over a socket).
EXCLUDED = {"logout", "live_updates"}
# Chat waits for Angie's reply: keep the wait short, so a busy queue cannot stall the run.
FIXED_QUERY = {"chat": {"wait": 3}}
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            # Unknown query parameters are ignored, as by most HTTP APIs: not a failure.
            "allow-extra-parameters": False,
            # The bearer token is ours (an admin or a member); requests without one are covered
            # by test_api_auth and test_api_isolation.
            "with-security-parameters": False,
        },
        "checks": {
            # A body over the 1 MiB cap is refused with a 413 before it is read.
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 409, 413, 415, 422, 429, "5xx"]
            }
        },
    }
)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Run:
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _send(client: httpx.Client, case: Any, who: Account, base_url: str) -> httpx.Response | None:
    """Send a generated case with httpx (None: a header no HTTP client can send)."""
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=who.headers)
    params = {k: v for k, v in (kwargs.get("params") or {}).items() if v is not None}
    try:
        return client.request(
            kwargs["method"],
            kwargs["url"],
            headers=kwargs.get("headers"),
            params=params,
            json=kwargs.get("json"),
            content=kwargs.get("data"),
            cookies=kwargs.get("cookies") or None,
        )
    except (UnicodeEncodeError, httpx.LocalProtocolError):
        return None


def _fuzz(schema: Any, base_url: str, people: list[Account], restore: Callable[[], None]) -> Run:
    run = Run()
    with httpx.Client(timeout=60) as client:
        for result in schema.get_all_operations():
            operation = result.ok()
            name = operation.definition.raw.get("operationId", operation.label)
            if name in EXCLUDED:
                continue
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(generation_mode=mode, query=FIXED_QUERY.get(name))

                @settings(
                    max_examples=EXAMPLES,
                    derandomize=True,
                    database=None,
                    deadline=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=strategy, who=st.sampled_from(people))
                def call(case: Any, who: Account) -> None:
                    response = _send(client, case, who, base_url)
                    if response is None:
                        return
                    run.cases += 1
                    run.statuses[response.status_code] = (
                        run.statuses.get(response.status_code, 0) + 1
                    )
                    case.validate_response(response, checks=CHECKS, headers=who.headers)

                try:
                    call()
                except Unsatisfiable:
                    pass  # no invalid request exists for an operation without input
                except (Exception, BaseExceptionGroup) as err:  # one run reports every failure
                    run.failures.append(f"{operation.label} ({mode.value}): {err}"[:3000])
                restore()
    return run


def _token_case(sqlite_url: str, data_dir: Path) -> Any:
    raw = create_app(make_api_angie(sqlite_url, data_dir, Brain()).services).openapi()
    operations = schemathesis.openapi.from_dict(raw, config=CONFIG)["/api/me/tokens/{token_id}"]
    return operations["DELETE"].Case(path_parameters={"token_id": 5})


def _response(status: int, body: Any, content_type: str = "application/json") -> httpx.Response:
    request = httpx.Request("DELETE", "http://127.0.0.1/api/me/tokens/5")
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    response = httpx.Response(
        status, content=content, headers={"content-type": content_type}, request=request
    )
    response.elapsed = timedelta(milliseconds=5)
    return response


ERROR = {"error": {"code": "not_found", "message": "there is no API token 5"}, "request_id": "r"}


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(_response(500, ERROR), id="server-error"),
        pytest.param(_response(418, ERROR), id="undocumented-status"),
        pytest.param(_response(404, {"detail": "Not Found"}), id="other-error-shape"),
        pytest.param(_response(404, "no", "text/plain"), id="wrong-content-type"),
    ],
)
def test_the_checks_catch_what_they_should(
    sqlite_url: str, data_dir: Path, response: httpx.Response
) -> None:
    """The control for the run below: each of these fails the checks it uses."""
    with pytest.raises(BaseExceptionGroup):
        _token_case(sqlite_url, data_dir).validate_response(response, checks=CHECKS)


def test_the_checks_pass_a_documented_error(sqlite_url: str, data_dir: Path) -> None:
    _token_case(sqlite_url, data_dir).validate_response(_response(404, ERROR), checks=CHECKS)


@pytest.mark.slow
@pytest.mark.timeout(420)
async def test_every_operation_survives_generated_requests(
    sqlite_url: str, data_dir: Path, record_property: Callable[[str, object], None]
) -> None:
    port = _free_port()
    angie = make_api_angie(sqlite_url, data_dir, Brain(), api=True, port=port)
    await angie.start()
    base_url = f"http://127.0.0.1:{port}"
    loop = asyncio.get_running_loop()
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            harness = ApiHarness(angie, client)
            admin = await harness.signup("admin")
            member = await harness.signup("member")
            raw = (await client.get("/api/openapi.json")).json()

        async def restore_people() -> None:
            # Generated PATCH /api/users calls may deactivate or demote the member.
            async with angie.services.database.session() as session:
                await session.execute(update(User).values(is_active=True))
                await session.execute(
                    update(User).where(User.id == member.id).values(is_admin=False)
                )

        def restore() -> None:
            asyncio.run_coroutine_threadsafe(restore_people(), loop).result(30)

        schema = schemathesis.openapi.from_dict(raw, config=CONFIG)
        run = await asyncio.to_thread(_fuzz, schema, base_url, [admin, member], restore)
    finally:
        await angie.stop(grace=5)
    operations = sum(len(methods) for methods in raw["paths"].values())
    statuses = dict(sorted(run.statuses.items()))
    print(
        f"\nSCHEMATHESIS: {run.cases} cases over {operations - len(EXCLUDED)} operations "
        f"({EXAMPLES} examples per operation and mode); statuses {statuses}"
    )
    record_property("schemathesis_cases", run.cases)
    assert run.cases > operations
    assert not run.failures, "\n\n".join(run.failures)
