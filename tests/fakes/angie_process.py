"""Angie as a separate process for durability tests: the scripted brain, the Hue server against
a fake bridge in the test process, and optionally a hang after the first side effect (so the
test can kill the process at the worst moment), the light show of the kill loop
(``ANGIE_TEST_SHOW=1``) and a person who answers approvals at once (``ANGIE_TEST_DECIDE=1``:
yes, except to a Nightlight scene). ``ANGIE_TEST_SAY`` holds one message a line; the servers of
the mcpServers file join Hue; SIGTERM stops Angie as ``angie serve`` does, within
``ANGIE_TEST_GRACE`` seconds."""

from __future__ import annotations

import asyncio
import faulthandler
import json
import logging
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel
from sqlalchemy import update

from angie.daemon import Angie
from angie.db.models import ApprovalMode, ChannelKind, EventType, McpServer
from angie.events.router import NewEvent
from angie.mcp.registry import builtin_specs, load_config_file
from angie.settings import AngieSettings
from fakes.brain import Brain
from fakes.light_show import show_step


def floor_lamp_on(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    return (
        ("hue_set_light", {"name": "Floor lamp", "on": True}) if "hue_set_light" in tools else None
    )


def switch_on(request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    """``switch on <light>``: look at that light first (then :func:`then_switch_on`)."""
    match = re.search(r"switch on (.+)$", request)
    if match is None or "hue_get_light" not in tools:
        return None
    return "hue_get_light", {"name": match[1].strip()}


def then_switch_on(messages: list[ModelMessage]) -> ModelResponse | None:
    """The second step of ``switch on <light>``: once the light was looked at, switch it on."""
    last = messages[-1]
    if not isinstance(last, ModelRequest):
        return None
    for part in last.parts:
        if isinstance(part, ToolReturnPart) and part.tool_name == "hue_get_light":
            content: Any = part.content
            if isinstance(content, str):
                try:
                    content = json.loads(content)
                except json.JSONDecodeError:
                    return None
            if isinstance(content, dict) and "name" in content:
                call = ToolCallPart("hue_set_light", {"name": content["name"], "on": True})
                return ModelResponse(parts=[call])
    return None


class HangingBrain(Brain):
    """Hangs once a tool has answered an agent, when asked to (``ANGIE_TEST_HANG=1``)."""

    def model(self, _name: str | None = None) -> Model:
        async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            agent = not any(t.name.startswith("ask_") for t in info.function_tools)
            second = then_switch_on(messages) if agent else None
            if second is not None:
                return second
            response = self._respond(messages, info)
            if agent and os.environ.get("ANGIE_TEST_SHOW") == "1":
                return show_step(messages)
            if agent and os.environ.get("ANGIE_TEST_HANG") == "1" and len(messages) > 1:
                await asyncio.to_thread(Path(os.environ["ANGIE_TEST_MARK"]).write_text, "hanging")
                await asyncio.Event().wait()
            return response

        return FunctionModel(respond, model_name="brain")


async def answer_approvals(angie: Angie) -> None:
    """The person, answering every approval as soon as it is asked."""
    services = angie.services
    while True:
        for approval in await services.approvals.pending():
            deny = "Nightlight" in json.dumps(approval.arguments)
            await services.executor.decide(
                approval.id,
                approve=not deny,
                user_id=approval.user_id,
                reason="not the nightlight again" if deny else None,
            )
        await asyncio.sleep(0.05)


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    faulthandler.register(signal.SIGUSR1)  # a stack dump of a process that does not stop
    role = os.environ.get("ANGIE_TEST_ROLE", "serve")
    settings = AngieSettings(_env_file=None)
    brain = HangingBrain(plans={"switch": switch_on, "lamp": floor_lamp_on})
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "ANGIE_HUE_BRIDGE_HOST": os.environ["FAKE_HUE_HOST"],
        "ANGIE_HUE_USERNAME": os.environ["FAKE_HUE_USERNAME"],
    }
    angie = Angie(
        settings,
        role=role,  # type: ignore[arg-type]
        api=False,
        specs={**builtin_specs(["hue"]), **load_config_file(settings.mcp_config, environ).servers}
        if settings.mcp_config
        else builtin_specs(["hue"]),
        environ=environ,
        model_for=brain.model,
    )

    async def started() -> None:
        async with angie.services.database.session() as session:
            # The person allows the lights: the test is about crashes, not approvals.
            await session.execute(
                update(McpServer)
                .where(McpServer.name == "hue")
                .values(approval_mode=ApprovalMode.ALLOW)
            )
        said = list(filter(None, os.environ.get("ANGIE_TEST_SAY", "").splitlines()))
        for number, text in enumerate(said):
            route = await angie.submit(
                NewEvent(
                    EventType.MESSAGE,
                    source="web",
                    user_id=int(os.environ["ANGIE_TEST_USER"]),
                    channel=ChannelKind.WEB,
                    # Several messages are several conversations, each with its own history.
                    thread=f"thread-{number}" if len(said) > 1 else None,
                    payload={"text": text},
                )
            )
            print(f"task {route.task.id if route.task else None}", flush=True)
        if os.environ.get("ANGIE_TEST_DECIDE") == "1":
            deciding.append(asyncio.create_task(answer_approvals(angie)))
        print("ready", flush=True)

    deciding: list[asyncio.Task[None]] = []
    # As ``angie serve`` runs: SIGTERM or SIGINT stops her.
    await angie.run(grace=float(os.environ.get("ANGIE_TEST_GRACE", "1")), started=started)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
