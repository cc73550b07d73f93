"""``angie serve --demo``: a real Angie process with simulated devices behind her real MCP
servers, in a data dir of its own, whatever the environment says about the real home."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import PASSWORD
from click.testing import CliRunner
from fakes.openai_server import FakeOpenAI, Reply, last_user_text, tool_results

from angie.cli import cli
from angie.demo import DEMO_DIR, demo_environ, demo_settings
from angie.prompts import PromptComposer, PromptContext, PromptLibrary, PromptUser, prompts_dir
from angie_mcp_core.testing import free_port

EMAIL = "sam@demo.test"


@dataclass
class Demo:
    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    real_bridge: FakeHueBridge
    llm: FakeOpenAI
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def chat(self, text: str) -> dict[str, Any]:
        answer = httpx.post(
            f"{self.url}/api/chat",
            json={"text": text},
            headers=self.headers,
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def tool(self, call: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """A /tool call's result, as the reply shows it (its JSON)."""
        reply = self.chat(f"/tool {call} {json.dumps(arguments)}")
        assert reply["status"] == "succeeded", reply
        text: str = reply["reply"]
        found: dict[str, Any] = json.loads(text)
        return found


def dim_the_living_room(request: dict[str, Any]) -> Reply:
    """The model: Angie hands lights to the hue agent, who dims the room with set_room."""
    tools = [t["function"]["name"] for t in request.get("tools", [])]
    results = tool_results(request)
    if "ask_hue" in tools:
        if results:
            return Reply.say(f"Done: {results[-1]}")
        return Reply.call("ask_hue", {"request": last_user_text(request)})
    if "hue_set_room" in tools:
        if results:
            return Reply.say("The living room is at 30%.")
        return Reply.call("hue_set_room", {"name": "Living room", "brightness_percent": 30})
    return Reply.say("I cannot do that here.")


ANSWERS = """
account: {{email: {email}, password: "{password}", display_name: Sam}}
profile: {{name: Sam Taylor, address_as: Sam}}
style: {{tone: warm and brief, language: English}}
schedule: {{timezone: Europe/Paris, working_hours: "9 to 5", quiet_hours: "22:00 to 07:00"}}
priorities: {{items: [family]}}
people: {{people: [], places: home}}
autonomy: {{without_asking: [], always_ask: [spending money]}}
contact: {{channels: [web], details: "here", urgent: "the same way"}}
"""


def _wait_ready(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 50
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"angie serve --demo exited with {process.returncode}: {err}")
        try:
            if httpx.get(f"{url}/api/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("angie serve --demo did not get ready")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``angie serve --demo`` on a fresh machine whose environment names a real Hue bridge and a
    real GitHub token; the first account signed up with the setup code she printed."""
    home = tmp_path_factory.mktemp("demo-home")
    data_dir = home / "angie-data"
    port = free_port()
    angie = Path(sys.executable).with_name("angie")
    with FakeHueBridge() as real_bridge, FakeOpenAI(dim_the_living_room, api_key="sk-demo") as llm:
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "ANGIE_DATA_DIR": str(data_dir),
            "ANGIE_HUE_BRIDGE_HOST": real_bridge.host,
            "ANGIE_HUE_USERNAME": real_bridge.username,
            "ANGIE_GITHUB_API_TOKEN": "ghp_the-real-one-never-to-be-used",
            "ANGIE_DATABASE_URL": f"sqlite+aiosqlite:///{home / 'real.db'}",
            "ANGIE_MODEL": "openai:local-model",
            "ANGIE_MODEL_BASE_URL": llm.url,
            "ANGIE_MODEL_API_KEY": "sk-demo",
        }
        process = subprocess.Popen(
            [str(angie), "serve", "--demo", "--port", str(port)],
            env=env,
            cwd=home,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url, process)
            found = Demo(url, data_dir, process, real_bridge, llm)
            # As the README says: `angie setup` finds the demo's setup code by itself.
            answers = home / "answers.yaml"
            answers.write_text(ANSWERS.format(email=EMAIL, password=PASSWORD))
            cli_config = home / "cli.json"
            setup = subprocess.run(
                [str(angie), "setup", "--answers", str(answers)],
                env={**env, "ANGIE_URL": url, "ANGIE_CLI_CONFIG": str(cli_config)},
                cwd=home, capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert setup.returncode == 0, setup.stderr
            assert not (data_dir / DEMO_DIR / "setup-code").exists()  # used: the admin exists
            found.token = json.loads(cli_config.read_text())["token"]
            yield found
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()


@pytest.mark.slow
def test_tool_calls_reach_the_demo_bridge_not_the_real_one(demo: Demo) -> None:
    asked_the_model = len(demo.llm.requests)
    lights = demo.tool("hue.list_lights", {})["result"]
    assert {light["name"] for light in lights} >= {"Sofa lamp", "Bedside lamp", "Bedroom ceiling"}
    changed = demo.tool("hue.set_light", {"name": "Bedside lamp", "brightness_percent": 30})
    assert changed["brightness"] == 30
    assert demo.tool("hue.get_light", {"name": "Bedside lamp"})["brightness"] == 30
    assert demo.real_bridge.log == []  # ANGIE_HUE_BRIDGE_HOST was not used
    assert len(demo.llm.requests) == asked_the_model  # /tool needs no model


@pytest.mark.slow
def test_a_model_dims_the_living_room_once_the_person_says_yes(demo: Demo) -> None:
    asked = demo.chat("dim the living room to 30%")
    assert asked["status"] == "awaiting_approval", asked
    assert "This is a demo home" in demo.llm.requests[-1].system_text
    [approval] = httpx.get(f"{demo.url}/api/approvals", headers=demo.headers).json()["items"]
    assert (approval["server"], approval["tool"]) == ("hue", "set_room")
    decided = httpx.post(
        f"{demo.url}/api/approvals/{approval['id']}/approve", json={}, headers=demo.headers
    )
    assert decided.status_code == 200, decided.text
    deadline = time.monotonic() + 30
    while (
        task := httpx.get(f"{demo.url}/api/tasks/{asked['task_id']}", headers=demo.headers).json()
    )["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, task["status"]
        time.sleep(0.1)
    assert task["status"] == "succeeded", task
    room = demo.tool("hue.get_room", {"name": "Living room"})
    assert room["brightness"] == 30


@pytest.mark.slow
def test_each_simulated_service_answers_through_its_real_server(demo: Demo) -> None:
    thermostat = demo.tool("home_assistant.get_state", {"entity": "climate.thermostat"})
    assert thermostat["state"] == "heat"
    devices = demo.tool("spotify.list_devices", {})["result"]
    assert "Kitchen speaker" in {device["name"] for device in devices}
    issues = demo.tool("github.list_issues", {})["result"]  # the demo's default repository
    assert "Found a bug" in {issue["title"] for issue in issues}


@pytest.mark.slow
def test_status_says_it_is_a_demo_home(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    status = httpx.get(
        f"{demo.url}/api/status", headers={"Authorization": f"Bearer {demo.token}"}
    ).json()
    assert status["demo"] is True
    assert {s["name"] for s in status["servers"]} >= {"hue", "home_assistant", "spotify", "github"}
    monkeypatch.setenv("ANGIE_CLI_CONFIG", str(demo.data_dir.parent / "cli.json"))
    runner = CliRunner()
    login = runner.invoke(
        cli, ["login", "--url", demo.url, "--email", EMAIL, "--password-stdin"], input=PASSWORD
    )
    assert login.exit_code == 0, login.output
    shown = runner.invoke(cli, ["status", "--url", demo.url])
    assert shown.exit_code == 0, shown.output
    assert "demo home: simulated devices" in shown.stdout


@pytest.mark.slow
def test_sigterm_stops_the_demo_cleanly_leaving_the_real_data_dir_alone(demo: Demo) -> None:
    demo.process.send_signal(signal.SIGTERM)
    out, err = demo.process.communicate(timeout=30)
    assert demo.process.returncode == 0, err
    assert "Angie is starting a demo home (simulated devices)" in err
    assert "Angie stopped" in err
    assert "Traceback" not in err
    assert "ghp_the-real-one" not in out + err
    assert (demo.data_dir / DEMO_DIR / "angie.db").is_file()
    assert sorted(p.name for p in demo.data_dir.iterdir()) == [DEMO_DIR]
    assert not (demo.data_dir.parent / "real.db").exists()


def test_the_demo_settings_keep_nothing_of_the_real_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANGIE_DATA_DIR", str(tmp_path / "real"))
    monkeypatch.setenv("ANGIE_DATABASE_URL", "mysql+asyncmy://angie:pw@db.lan/angie")
    monkeypatch.setenv("ANGIE_REDIS_URL", "redis://db.lan:6379/0")
    monkeypatch.setenv("ANGIE_SECRET_KEY", "the-real-secret-key-0123456789abcdef")
    monkeypatch.setenv("ANGIE_MCP_CONFIG", str(tmp_path / "real" / "mcp.json"))
    monkeypatch.setenv("ANGIE_MODEL", "openai:gpt-4o")
    settings = demo_settings(None)
    assert settings.data_dir == tmp_path / "real" / DEMO_DIR
    assert settings.database_url == f"sqlite+aiosqlite:///{settings.data_dir / 'angie.db'}"
    assert settings.redis_url is None
    assert settings.mcp_config == settings.data_dir / "mcp.json"
    assert settings.secret != "the-real-secret-key-0123456789abcdef"
    assert settings.model == "openai:gpt-4o"  # the person's model works in the demo
    assert not (tmp_path / "real" / "secret_key").exists()


def test_the_demo_servers_get_only_their_demo_settings() -> None:
    environ = {
        "PATH": "/usr/bin",
        "ANGIE_HUE_BRIDGE_HOST": "192.168.1.20",
        "ANGIE_HUE_TIMEOUT": "30",
        "ANGIE_GITHUB_API_TOKEN": "ghp_real",
        "ANGIE_MODEL_API_KEY": "sk-real",
    }
    configured = {
        "hue": {"ANGIE_HUE_BRIDGE_HOST": "127.0.0.1:5000", "ANGIE_HUE_USERNAME": "demo"},
        # A demo may set only its own server's settings.
        "github": {"ANGIE_GITHUB_API_URL": "http://127.0.0.1:5001", "ANGIE_HUE_USERNAME": "x"},
    }
    assert demo_environ(environ, configured) == {
        "PATH": "/usr/bin",
        "ANGIE_HUE_BRIDGE_HOST": "127.0.0.1:5000",
        "ANGIE_HUE_USERNAME": "demo",
        "ANGIE_GITHUB_API_URL": "http://127.0.0.1:5001",
    }


@pytest.mark.parametrize("demo_home", [True, False])
async def test_the_prompt_says_when_the_home_is_a_demo(demo_home: bool) -> None:
    composer = PromptComposer(PromptLibrary(prompts_dir()), demo=demo_home)
    ctx = PromptContext(
        user=PromptUser(name="Sam", address_as="Sam"),
        now=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        timezone="UTC",
        channel="web",
    )
    prompt = await composer.compose_conversation(ctx, [])
    assert ("This is a demo home" in prompt) is demo_home
