"""A newcomer's first hour with the real `angie` program against a real Angie on 127.0.0.1:
setup again after logging out, a partial answers file, a provider key for the model, and the
prompt documents shown as Angie reads them."""

from __future__ import annotations

import asyncio
import copy
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pexpect
import pydantic_ai.providers
import pytest
from cli_support import PASSWORD, CliHarness, cli_harness, documents, write
from fakes.brain import Brain
from fakes.openai_server import FakeOpenAI
from pydantic_ai import Agent
from pydantic_ai.providers import infer_provider_class
from sqlalchemy import func, select

from angie.agents.llm import build_model
from angie.agents.provider_keys import PROVIDER_KEYS
from angie.db.models import ApiToken, User
from angie.settings import load_settings

ANSWERS: dict[str, Any] = {
    "account": {"email": "sam@home.test", "password": PASSWORD, "display_name": "Sam Taylor"},
    "profile": {"name": "Sam Taylor", "address_as": "Sam", "about": "Grows tomatoes"},
    "style": {"tone": "dry and brief", "language": "English"},
    "schedule": {
        "timezone": "Europe/Paris",
        "working_hours": "Monday to Thursday, 8:00 to 16:00",
        "quiet_hours": "21:00 to 07:00",
    },
    "priorities": {"items": ["finish the garden"]},
    "people": {"people": ["Alex (partner)"], "places": "home in Lyon"},
    "autonomy": {"without_asking": ["turn lights on and off"], "always_ask": ["spending money"]},
    "contact": {"channels": ["slack", "email"], "details": "", "urgent": "call me"},
}


@pytest.fixture
async def cli(sqlite_url: str, data_dir: Path, tmp_path: Path) -> AsyncIterator[CliHarness]:
    async with cli_harness(sqlite_url, data_dir, tmp_path / "home", Brain()) as harness:
        yield harness


async def set_up_and_log_out(cli: CliHarness) -> None:
    """Sam sets Angie up from a file, then logs out of this machine."""
    done = await cli.run("setup", "--answers", write(cli.home / "first.yaml", ANSWERS))
    assert done.code == 0, done.err
    assert (await cli.run("logout")).code == 0
    assert not cli.saved().get("token")


# -- setup after logging out ---------------------------------------------------------------------


async def test_setup_after_logout_signs_in_to_the_existing_account(cli: CliHarness) -> None:
    await set_up_and_log_out(cli)
    again = copy.deepcopy(ANSWERS)
    again["style"]["tone"] = "warm"

    done = await cli.run("setup", "--answers", write(cli.home / "again.yaml", again))

    assert done.code == 0, done.err
    assert "created" not in done.out
    assert "All set, Sam." in done.out
    async with cli.angie.services.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
    assert "Tone: warm." in (await documents(cli, "sam@home.test"))["style"][1]
    # The login is saved, as `angie login` saves it.
    assert cli.saved()["token"].startswith("angie_pat_")
    assert stat.S_IMODE(cli.config.stat().st_mode) == 0o600
    assert (await cli.run("tasks", "list")).code == 0


async def test_setup_with_a_wrong_password_says_so_in_one_line(cli: CliHarness) -> None:
    await set_up_and_log_out(cli)
    before = await documents(cli, "sam@home.test")
    wrong = copy.deepcopy(ANSWERS)
    wrong["account"]["password"] = "not the password"

    done = await cli.run("setup", "--answers", write(cli.home / "wrong.yaml", wrong))

    assert done.code == 1
    lines = done.err.strip().splitlines()
    assert len(lines) == 1, done.err
    assert lines[0].startswith("error: the password for sam@home.test is wrong")
    assert "not the password" not in done.out + done.err
    assert await documents(cli, "sam@home.test") == before
    assert not cli.saved().get("token")


# -- a partial answers file ----------------------------------------------------------------------


async def test_a_partial_answers_file_keeps_the_earlier_answers(cli: CliHarness) -> None:
    await set_up_and_log_out(cli)
    before = await documents(cli, "sam@home.test")
    partial = {"account": ANSWERS["account"], "style": {"tone": "playful"}}

    done = await cli.run("setup", "--answers", write(cli.home / "partial.yaml", partial))

    assert done.code == 0, done.err
    after = await documents(cli, "sam@home.test")
    assert {n: d for n, d in after.items() if n != "style"} == {
        n: d for n, d in before.items() if n != "style"
    }
    assert "Tone: playful." in after["style"][1]
    assert "Language: English." in after["style"][1]


async def test_a_key_missing_from_the_file_and_the_earlier_answers_is_named(
    cli: CliHarness,
) -> None:
    # Lee's account exists, but Lee never answered the setup questions.
    lee = await cli.signup("lee", save=False)
    partial = {"account": {"email": lee.email, "password": PASSWORD}, "style": {"tone": "playful"}}

    done = await cli.run("setup", "--answers", write(cli.home / "partial.yaml", partial))

    assert done.code == 2
    assert done.err.strip() == "error: partial.yaml: profile.address_as is missing"
    # Nothing is left behind: no login saved, and the token made to look was revoked.
    assert not cli.saved().get("token")
    async with cli.angie.services.database.session() as session:
        live = select(func.count()).where(ApiToken.user_id == lee.id, ApiToken.revoked_at.is_(None))
        assert await session.scalar(live) == 1  # the one the test made


# -- prompts show ---------------------------------------------------------------------------------


async def test_prompts_show_renders_the_document_for_the_signed_in_person(
    cli: CliHarness,
) -> None:
    assert (await cli.run("setup", "--answers", write(cli.home / "a.yaml", ANSWERS))).code == 0

    shown = await cli.run("prompts", "show", "profile")

    assert shown.code == 0, shown.err
    assert "Name: Sam Taylor. Address them as Sam." in shown.out
    assert "{{" not in shown.out
    assert "angie-setup" not in shown.out


async def test_prompts_show_source_prints_the_template(cli: CliHarness) -> None:
    assert (await cli.run("setup", "--answers", write(cli.home / "a.yaml", ANSWERS))).code == 0

    shown = await cli.run("prompts", "show", "profile", "--source")

    assert shown.code == 0, shown.err
    assert "Name: {{ user.name }}. Address them as {{ user.address_as }}." in shown.out
    assert "{# angie-setup " in shown.out


async def test_prompts_show_names_a_document_that_does_not_render(cli: CliHarness) -> None:
    sam = await cli.signup("sam")
    # Saved behind the API's back: the API itself refuses a document that does not render.
    await cli.angie.services.user_prompts.save(sam.id, "style", "Hi {{ user.nickname }}", by=None)

    shown = await cli.run("prompts", "show", "style")

    assert shown.code == 1
    lines = shown.err.strip().splitlines()
    assert len(lines) == 1, shown.err
    assert lines[0].startswith("error: style does not render:")
    assert "user.nickname" in lines[0]
    source = await cli.run("prompts", "show", "style", "--source")
    assert source.code == 0
    assert "Hi {{ user.nickname }}" in source.out


# -- a provider's key for the model ---------------------------------------------------------------

KEY = "sk-first-hour-0123456789"


def env_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


async def test_config_model_writes_the_provider_key_0600_and_never_prints_it(
    cli: CliHarness,
) -> None:
    env_file = cli.home / ".env"
    env_file.write_text("ANGIE_PORT=8123\n")
    with FakeOpenAI(api_key=KEY) as server:
        # OpenAI's client reads OPENAI_BASE_URL: the check reaches the fake, not OpenAI.
        done = await cli.run(
            "config", "model", "openai-chat:fake", "--api-key-stdin",
            input=KEY + "\n", env={"OPENAI_BASE_URL": server.url},
        )  # fmt: skip
        assert [r.headers["authorization"] for r in server.requests] == [f"Bearer {KEY}"]
    assert done.code == 0, done.err
    assert "answered" in done.out
    assert "OPENAI_API_KEY saved" in done.out
    assert KEY not in done.out + done.err
    assert env_lines(env_file) == [
        "ANGIE_PORT=8123",
        "ANGIE_MODEL=openai-chat:fake",
        f"OPENAI_API_KEY={KEY}",
    ]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def _key_dialogue(child: pexpect.spawn[str]) -> str:
    child.expect_exact("API key")
    child.sendline(KEY)
    child.expect(pexpect.EOF)
    child.close()
    return str(child.before)


async def test_config_model_asks_for_the_key_hidden_when_api_key_has_no_value(
    cli: CliHarness,
) -> None:
    child = cli.spawn("config", "model", "openai:gpt-4o", "--api-key", "--no-check")
    try:
        shown = await asyncio.to_thread(_key_dialogue, child)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, shown
    assert KEY not in shown
    assert "OPENAI_API_KEY saved" in shown
    env_file = cli.home / ".env"
    assert env_lines(env_file) == ["ANGIE_MODEL=openai:gpt-4o", f"OPENAI_API_KEY={KEY}"]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


async def test_angie_reads_the_provider_key_from_her_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"ANGIE_DATA_DIR={tmp_path / 'data'}\nANGIE_MODEL=openai-chat:fake\nOPENAI_API_KEY={KEY}\n"
    )
    with FakeOpenAI(api_key=KEY) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        model = build_model(None, load_settings(env_file))
        result = await Agent(model).run("hello")
        assert [r.headers["authorization"] for r in server.requests] == [f"Bearer {KEY}"]
    assert "hello" in result.output


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            "copilot:gpt-5",
            "--api-key: copilot: models take a GitHub token",
        ),
        ("ollama:llama3.1", "--api-key: ollama: models read no API key Angie knows of"),
    ],
)
async def test_config_model_refuses_a_key_for_a_provider_without_one(
    cli: CliHarness, model: str, message: str
) -> None:
    done = await cli.run("config", "model", model, "--api-key-stdin", input=KEY + "\n")
    assert done.code == 2
    lines = done.err.strip().splitlines()
    assert len(lines) == 1, done.err
    assert lines[0].startswith(f"error: {message}")
    assert KEY not in done.out + done.err
    assert not (cli.home / ".env").exists()


def test_each_provider_key_variable_is_one_its_pydantic_ai_provider_reads() -> None:
    folder = Path(pydantic_ai.providers.__file__).parent
    for provider, names in PROVIDER_KEYS.items():
        try:
            provider_class = infer_provider_class(provider)
        except ImportError:  # the provider's SDK is not installed: its module cannot load
            module = provider.split("-")[0]
        else:
            module = provider_class.__module__.rsplit(".", 1)[1]
        source = (folder / f"{module}.py").read_text()
        for name in names:
            assert f"os.getenv('{name}')" in source or f"'{name}' not in os.environ" in source, (
                provider,
                name,
            )
