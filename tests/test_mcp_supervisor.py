"""The supervisor runs MCP servers on loopback HTTP with fresh tokens and restarts crashed ones;
agents reach them through guarded toolsets that fail clearly and in time."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastmcp import Client
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from angie.db.models import ServerHealth
from angie.mcp.registry import ServerSpec
from angie.mcp.supervisor import LauncherMode, ServerGone, Supervisor, SupervisorError
from angie.mcp.toolsets import ServerToolset

SAMPLE = (
    Path(__file__).resolve().parents[1] / "mcp_servers" / "_core" / "tests" / "sample_server.py"
)
ENVIRON = Path(__file__).parent / "fakes" / "environ_server.py"
LAUNCHERS = ["fork", "exec"]

# One supervisor (two servers) per launcher for the module: starting Python servers is the
# slow part. Every test of the shared supervisor runs with a forked and with an exec'd server.
pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


def spec(name: str = "sample") -> ServerSpec:
    prefix = f"ANGIE_{name.upper()}_"
    return ServerSpec(
        name=name,
        transport="stdio",
        command=(sys.executable, str(SAMPLE)),
        env={"SAMPLE_PREFIX": prefix},
        builtin=True,
    )


async def wait_for(condition: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=LAUNCHERS)
async def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Supervisor]:
    tmp_path = tmp_path_factory.mktemp("supervisor")
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "ANGIE_SAMPLE_API_KEY": "sample-key",
        "ANGIE_OTHER_API_KEY": "other-key",
        "ANGIE_GITHUB_TOKEN": "ghp_not_for_sample",
        "OPENAI_API_KEY": "sk-not-for-servers",
    }
    restarted: list[str] = []
    sup = Supervisor(
        [spec("sample"), spec("other")],
        environ=environ,
        state_dir=tmp_path / "mcp",
        min_backoff=0.1,
        on_restart=restarted.append,
        launcher=request.param,
    )
    assert sup.launcher == request.param
    sup.restarted = restarted  # type: ignore[attr-defined]
    await sup.start()
    try:
        yield sup
    finally:
        await sup.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def supervisor(running: Supervisor) -> Supervisor:
    """The shared supervisor, once every server is up again after an earlier test's crash."""
    await wait_for(lambda: all(s.health is ServerHealth.HEALTHY for s in running.states()))
    return running


async def test_servers_start_in_parallel_and_answer_with_their_token(
    supervisor: Supervisor,
) -> None:
    assert [s.health for s in supervisor.states()] == [ServerHealth.HEALTHY] * 2
    endpoint = supervisor.endpoint("sample")
    async with Client(endpoint.url, auth=endpoint.token) as client:
        result = await client.call_tool("brightness", {"room": "kitchen"})
    assert result.data == 40


async def test_server_refuses_requests_without_its_token(supervisor: Supervisor) -> None:
    url = supervisor.endpoint("sample").url
    async with httpx.AsyncClient() as http:
        response = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == 401


def environ_spec(name: str) -> ServerSpec:
    prefix = f"ANGIE_{name.upper()}_"
    command = (sys.executable, str(ENVIRON), prefix)
    return ServerSpec(name=name, transport="stdio", command=command, builtin=True)


async def environ_of(supervisor: Supervisor, name: str) -> dict[str, str]:
    """The environment the server's process runs with, as the server itself reads it."""
    endpoint = supervisor.endpoint(name)
    async with Client(endpoint.url, auth=endpoint.token) as client:
        seen = (await client.call_tool("environ", {})).structured_content
    assert isinstance(seen, dict)
    return dict(seen)


def proc_environ(pid: int) -> set[str]:
    """The names in /proc/<pid>/environ: what any process of the same user can read."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return {entry.split(b"=", 1)[0].decode() for entry in raw.split(b"\0") if entry}


@pytest.mark.parametrize("launcher", LAUNCHERS)
async def test_each_server_gets_only_its_own_credentials(
    launcher: LauncherMode, tmp_path: Path
) -> None:
    secrets = {
        "ANGIE_SECRET_KEY": "the-orchestrators-own-key",
        "ANGIE_DATABASE_URL": "mysql+asyncmy://angie:hunter2@db/angie",
        "OPENAI_API_KEY": "sk-not-for-servers",
    }
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "TZ": "Europe/Paris",
        "ANGIE_ALPHA_API_KEY": "alpha-key",
        "ANGIE_BETA_API_KEY": "beta-key",
        **secrets,
    }
    sup = Supervisor(
        [environ_spec("alpha"), environ_spec("beta")],
        environ=environ,
        state_dir=tmp_path / "mcp",
        launcher=launcher,
    )
    await sup.start()
    try:
        assert sup.launcher == launcher
        alpha, beta = await environ_of(sup, "alpha"), await environ_of(sup, "beta")
        pids = {s.name: s.pid for s in sup.states()}
        readable = {name: proc_environ(pid) for name, pid in pids.items() if pid}
    finally:
        await sup.stop()
    assert alpha["ANGIE_ALPHA_API_KEY"] == "alpha-key"
    assert beta["ANGIE_BETA_API_KEY"] == "beta-key"
    assert alpha["TZ"] == "Europe/Paris"
    assert alpha["ANGIE_ALPHA_TRANSPORT"] == "http"
    assert not set(alpha) & {"ANGIE_BETA_API_KEY", "ANGIE_BETA_TOKEN", *secrets}
    assert not set(beta) & {"ANGIE_ALPHA_API_KEY", "ANGIE_ALPHA_TOKEN", *secrets}
    # Nor can another process read them from outside (a fork shows its launcher's).
    assert set(readable) == {"alpha", "beta"}
    assert not readable["alpha"] & {"ANGIE_BETA_API_KEY", *secrets}
    assert not readable["beta"] & {"ANGIE_ALPHA_API_KEY", *secrets}


async def test_crashed_server_is_restarted_with_a_new_token(supervisor: Supervisor) -> None:
    before = supervisor.endpoint("sample")
    restarts = len(supervisor.restarted)  # type: ignore[attr-defined]
    pid = next(s.pid for s in supervisor.states() if s.name == "sample")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await wait_for(lambda: supervisor.restarted[restarts:] == ["sample"])  # type: ignore[attr-defined]
    await wait_for(lambda: supervisor.endpoint("sample").generation > before.generation)
    after = supervisor.endpoint("sample")
    assert after.generation == before.generation + 1
    assert after.token != before.token
    async with Client(after.url, auth=after.token) as client:
        assert (await client.call_tool("brightness", {"room": "living room"})).data == 80


@pytest.mark.parametrize("launcher", LAUNCHERS)
async def test_server_that_cannot_start_is_reported(launcher: LauncherMode, tmp_path: Path) -> None:
    broken = ServerSpec(
        "broken", "stdio", command=(sys.executable, "-c", "raise SystemExit(3)"), builtin=True
    )
    sup = Supervisor(
        [broken],
        environ={"PATH": os.environ["PATH"]},
        state_dir=tmp_path,
        max_backoff=60,
        launcher=launcher,
    )
    await sup.start()
    try:
        assert sup.launcher == launcher
        (state,) = sup.states()
        assert state.health is ServerHealth.UNHEALTHY
        assert state.last_error is not None
        assert "exited with code 3" in state.last_error
        with pytest.raises(SupervisorError, match="the broken server exited with code 3"):
            sup.endpoint("broken")
    finally:
        await sup.stop()


def _script(*calls: ToolCallPart) -> FunctionModel:
    """A model that makes the given tool calls one after another, then reports what it saw."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        step = sum(isinstance(m, ModelResponse) for m in messages)
        if step < len(calls):
            return ModelResponse(parts=[calls[step]])
        seen = [
            part.content if isinstance(part, ToolReturnPart) else f"RETRY: {part.content}"
            for message in messages
            for part in getattr(message, "parts", [])
            if isinstance(part, ToolReturnPart | RetryPromptPart)
        ]
        return ModelResponse(parts=[TextPart(" | ".join(map(str, seen)))])

    return FunctionModel(respond)


async def test_agent_calls_a_prefixed_tool_through_the_toolset(supervisor: Supervisor) -> None:
    toolset = ServerToolset(spec("sample"), supervisor, timeout=10)
    agent = Agent(
        _script(ToolCallPart("sample_brightness", {"room": "Kitchen"})), toolsets=[toolset]
    )
    result = await agent.run("how bright is the kitchen?")
    assert result.output == "40"


async def test_hung_server_is_a_clear_error_within_the_timeout(supervisor: Supervisor) -> None:
    toolset = ServerToolset(spec("sample"), supervisor, timeout=0.5)
    agent = Agent(_script(ToolCallPart("sample_slow", {"seconds": 60})), toolsets=[toolset])
    result = await agent.run("wait")
    assert "did not answer within 0.5 seconds" in result.output


async def test_a_server_dying_mid_run_ends_the_run_naming_it_and_the_other_keeps_working(
    supervisor: Supervisor,
) -> None:
    sample = ServerToolset(spec("sample"), supervisor, timeout=5)
    other = ServerToolset(spec("other"), supervisor, timeout=5)
    victim = next(s.pid for s in supervisor.states() if s.name == "sample")
    assert victim is not None

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        step = sum(isinstance(m, ModelResponse) for m in messages)
        if step == 0 and any(t.name == "sample_brightness" for t in info.function_tools):
            os.kill(victim, signal.SIGKILL)  # the server dies after the run resolved its tools
            time.sleep(0.3)
            return ModelResponse(parts=[ToolCallPart("sample_brightness", {"room": "kitchen"})])
        if step == 0:
            return ModelResponse(parts=[ToolCallPart("other_brightness", {"room": "kitchen"})])
        returns = [p.content for m in messages for p in m.parts if isinstance(p, ToolReturnPart)]
        return ModelResponse(parts=[TextPart(f"{returns}")])

    # No answer the model could settle the task on: the run ends, and its task runs again.
    with pytest.raises(ServerGone, match=r"^the sample server exited with code -9 during a call"):
        await Agent(FunctionModel(respond), toolsets=[sample, other]).run("kitchen, sample")
    result = await Agent(FunctionModel(respond), toolsets=[other]).run("kitchen, other")
    assert result.output == "[40]"
