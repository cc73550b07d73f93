"""A whole Angie request through the real OpenAI client: a fake OpenAI-compatible server on
127.0.0.1 plays the model, Angie delegates to the hue agent, the hue agent calls the real Hue
MCP server, and the fake bridge sees the light go on. Nothing reaches the internet."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from fakes.openai_server import FakeOpenAI, Reply, last_user_text, tool_results
from pydantic import SecretStr
from sqlalchemy import update

from angie.daemon import Angie
from angie.db.models import ApprovalMode, ChannelKind, EventType, McpServer, TaskStatus, User
from angie.events.router import NewEvent
from angie.mcp.registry import builtin_specs
from angie.settings import AngieSettings

pytestmark = [pytest.mark.slow]


def script(request: dict[str, Any]) -> Reply:
    tools = [t["function"]["name"] for t in request.get("tools", [])]
    results = tool_results(request)
    if "ask_hue" in tools:
        if results:
            return Reply.say(f"All set: {results[-1]}")
        return Reply.call("ask_hue", {"request": "Turn on the Floor lamp."})
    if "hue_set_light" in tools:
        if results:
            light = json.loads(results[-1])
            return Reply.say(f"The {light['name']} is {'on' if light['on'] else 'off'}.")
        return Reply.call("hue_set_light", {"name": "Floor lamp", "on": True})
    return Reply.say(f"no tools for: {last_user_text(request)}")


async def test_a_request_walks_through_the_real_openai_client(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> None:
    with FakeOpenAI(script, api_key="sk-local") as llm:
        settings = AngieSettings(
            _env_file=None,
            database_url=sqlite_url,
            data_dir=data_dir,
            model="openai:local-model",
            model_base_url=llm.url,
            model_api_key=SecretStr("sk-local"),
        )
        angie = Angie(
            settings,
            api=False,
            specs=builtin_specs(["hue"]),
            environ={
                "PATH": os.environ["PATH"],
                "HOME": str(data_dir),
                "ANGIE_HUE_BRIDGE_HOST": bridge.host,
                "ANGIE_HUE_USERNAME": bridge.username,
            },
        )
        await angie.start()
        try:
            async with angie.services.database.session() as session:
                user = User(email="sam@home.test", display_name="Sam")
                session.add(user)
                await session.execute(
                    update(McpServer)
                    .where(McpServer.name == "hue")
                    .values(approval_mode=ApprovalMode.ALLOW)
                )
                await session.flush()
                user_id = user.id
            route = await angie.submit(
                NewEvent(
                    EventType.MESSAGE,
                    source="web",
                    user_id=user_id,
                    channel=ChannelKind.WEB,
                    payload={"text": "Could you turn on the floor lamp?"},
                )
            )
            assert route.task is not None
            deadline = time.monotonic() + 30
            while (task := await angie.services.tasks.require(route.task.id)).status not in (
                TaskStatus.SUCCEEDED,
                TaskStatus.FAILED,
            ):
                assert time.monotonic() < deadline, task.status
                await asyncio.sleep(0.05)
        finally:
            await angie.stop(grace=5)

    assert task.status is TaskStatus.SUCCEEDED, task.error
    assert task.result == {"text": "All set: The Floor lamp is on.", "data": None}
    assert bridge.lights["2"]["state"]["on"] is True
    angie_first, agent_first, agent_second, angie_second = llm.requests
    assert "ask_hue" in angie_first.tool_names
    assert not any(name.startswith("hue_") for name in angie_first.tool_names)
    assert "hue_set_light" in agent_first.tool_names
    assert "Floor lamp" in agent_first.system_text or "hue" in agent_first.system_text
    assert tool_results(angie_second.body) == ["The Floor lamp is on."]
    assert all(r.headers["authorization"] == "Bearer sk-local" for r in llm.requests)
    assert agent_second.body["model"] == "local-model"
