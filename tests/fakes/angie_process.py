"""Angie as a separate process for durability tests: the scripted brain, the Hue server against
a fake bridge in the test process, and optionally a hang after the first side effect (so the
test can kill the process at the worst moment), the light show of the kill loop
(``ANGIE_TEST_SHOW=1``) and a person who answers approvals at once (``ANGIE_TEST_DECIDE=1``:
yes, except to a Nightlight scene)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models import Model
from pydantic_ai.models.function import AgentInfo, FunctionModel
from sqlalchemy import update

from angie.daemon import Angie
from angie.db.models import ApprovalMode, ChannelKind, EventType, McpServer
from angie.events.router import NewEvent
from angie.mcp.registry import builtin_specs
from angie.settings import AngieSettings
from fakes.brain import Brain
from fakes.light_show import show_step


def floor_lamp_on(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    return (
        ("hue_set_light", {"name": "Floor lamp", "on": True}) if "hue_set_light" in tools else None
    )


class HangingBrain(Brain):
    """Hangs once a tool has answered an agent, when asked to (``ANGIE_TEST_HANG=1``)."""

    def model(self, _name: str | None = None) -> Model:
        async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            response = self._respond(messages, info)
            agent = not any(t.name.startswith("ask_") for t in info.function_tools)
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
    role = os.environ.get("ANGIE_TEST_ROLE", "serve")
    settings = AngieSettings(_env_file=None)
    brain = HangingBrain(plans={"lamp": floor_lamp_on})
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
        specs=builtin_specs(["hue"]),
        environ=environ,
        model_for=brain.model,
    )
    await angie.start()
    async with angie.services.database.session() as session:
        # The person allows the lights: the test is about crashes, not approvals.
        await session.execute(
            update(McpServer)
            .where(McpServer.name == "hue")
            .values(approval_mode=ApprovalMode.ALLOW)
        )
    text = os.environ.get("ANGIE_TEST_SAY")
    if text:
        route = await angie.submit(
            NewEvent(
                EventType.MESSAGE,
                source="web",
                user_id=int(os.environ["ANGIE_TEST_USER"]),
                channel=ChannelKind.WEB,
                payload={"text": text},
            )
        )
        print(f"task {route.task.id if route.task else None}", flush=True)
    print("ready", flush=True)
    deciding = (
        asyncio.create_task(answer_approvals(angie))
        if os.environ.get("ANGIE_TEST_DECIDE") == "1"
        else None
    )
    try:
        await asyncio.Event().wait()
    finally:
        if deciding is not None:
            deciding.cancel()
        await angie.stop(grace=1)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
