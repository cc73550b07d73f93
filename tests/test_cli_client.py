"""The CLI's client commands (login, ask, status, tasks, crons, approvals, prompts, config) run
as the real `angie` program against a real Angie on 127.0.0.1, and their one-line failures."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pexpect
import pytest
from angie_mcp_hue.testing import FakeHueBridge
from channel_support import Endpoints
from cli_support import ANGIE, PASSWORD, CliHarness, cli_harness
from fakes.brain import Brain
from fakes.openai_server import FakeOpenAI
from fakes.slack_platform import FakeSlack
from sqlalchemy import select

from angie.db.models import ApiToken, Task, TaskStatus
from angie.mcp.registry import builtin_specs
from angie_mcp_core.testing import free_port


@pytest.fixture
async def endpoints() -> Endpoints:
    return Endpoints()


@pytest.fixture
async def cli(
    sqlite_url: str, data_dir: Path, tmp_path: Path, endpoints: Endpoints
) -> AsyncIterator[CliHarness]:
    async with cli_harness(
        sqlite_url,
        data_dir,
        tmp_path / "home",
        Brain(fail_on={"boom"}),
        channel_factory=endpoints.factory(),
    ) as h:
        yield h


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def first_number(text: str, after: str) -> int:
    found = re.search(rf"{after}\s+(\d+)", text)
    assert found, text
    return int(found.group(1))


# -- the one-line failures -----------------------------------------------------------------------


def test_a_closed_port_says_angie_is_not_running(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [str(ANGIE), "status"],
        capture_output=True,
        text=True,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "ANGIE_URL": url,
            "ANGIE_CLI_CONFIG": str(tmp_path / "cli.json"),
        },
        timeout=50,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    line = one_error_line(done.stderr)
    assert line == f"error: Angie is not running at {url} (start her with `angie serve`)"


@pytest.mark.parametrize("where", ["environment", ".env"])
def test_without_a_saved_address_the_cli_calls_where_angie_serves(
    tmp_path: Path, where: str
) -> None:
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "ANGIE_CLI_CONFIG": str(tmp_path / "cli.json"),
    }
    if where == "environment":
        env["ANGIE_PORT"] = str(port)
    else:
        (tmp_path / ".env").write_text(f"ANGIE_PORT={port}\n")
    done = subprocess.run(
        [str(ANGIE), "status"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=50,
        check=False,
    )
    assert done.returncode == 1
    assert f"Angie is not running at http://127.0.0.1:{port} " in one_error_line(done.stderr)


async def test_a_refused_token_is_one_line_saying_to_log_in(cli: CliHarness) -> None:
    await cli.signup()
    done = await cli.run("tasks", "list", env={"ANGIE_TOKEN": "angie_pat_not-a-real-token"})
    assert done.code == 1
    assert one_error_line(done.err) == "error: your token was refused; run `angie login`"


async def test_without_a_token_the_cli_says_to_log_in(cli: CliHarness) -> None:
    done = await cli.run("tasks", "list")
    assert done.code == 1
    assert "you are not logged in; run `angie login`" in one_error_line(done.err)


async def test_a_saved_token_is_not_sent_to_another_address(cli: CliHarness) -> None:
    await cli.signup()
    other = cli.url.replace("127.0.0.1", "localhost")
    done = await cli.run("tasks", "list", "--url", other)
    assert done.code == 1
    assert "you are not logged in" in one_error_line(done.err)


# -- login and logout ----------------------------------------------------------------------------


async def test_login_with_a_password_saves_a_personal_token_readable_only_by_you(
    cli: CliHarness,
) -> None:
    person = await cli.signup(save=False)
    done = await cli.run("login", "--email", person.email, "--password-stdin", input=PASSWORD)
    assert done.code == 0, done.err
    assert f"logged in to {cli.url} as {person.email}" in done.out
    saved = cli.saved()
    assert saved["url"] == cli.url
    assert saved["token"].startswith("angie_pat_")
    assert stat.S_IMODE(cli.config.stat().st_mode) == 0o600
    async with cli.angie.services.database.session() as session:
        names = list(await session.scalars(select(ApiToken.name)))
    assert any(name.startswith("angie-cli@") for name in names)
    assert (await cli.run("tasks", "list")).code == 0


async def test_login_saves_in_the_users_config_folder_by_default(cli: CliHarness) -> None:
    person = await cli.signup(save=False)
    done = await cli.run("login", "--token", person.token, env={"ANGIE_CLI_CONFIG": ""})
    assert done.code == 0, done.err
    saved = cli.home / ".config" / "angie" / "cli.json"
    assert json.loads(saved.read_text()) == {"url": cli.url, "token": person.token}
    assert not cli.config.exists()


async def test_login_with_a_wrong_password_is_refused_in_one_line(cli: CliHarness) -> None:
    person = await cli.signup(save=False)
    done = await cli.run("login", "--email", person.email, "--password-stdin", input="nope-nope")
    assert done.code == 1
    assert one_error_line(done.err) == "error: the email or the password is wrong"
    assert not cli.config.exists()


async def test_login_with_a_token_checks_it_first(cli: CliHarness) -> None:
    person = await cli.signup(save=False)
    bad = await cli.run("login", "--token", "angie_pat_wrong")
    assert bad.code == 1
    assert one_error_line(bad.err).startswith("error: Angie refused that token")
    assert not cli.config.exists()
    good = await cli.run("login", "--token", person.token)
    assert good.code == 0, good.err
    assert cli.saved() == {"url": cli.url, "token": person.token}


async def test_logout_revokes_the_token_and_forgets_it(cli: CliHarness) -> None:
    person = await cli.signup()
    done = await cli.run("logout")
    assert done.code == 0, done.err
    assert f"logged out of {cli.url}" in done.out
    assert cli.saved() == {"url": cli.url}
    async with cli.client(person) as http:
        assert (await http.get("/api/me")).status_code == 401


# -- ask, status, tasks --------------------------------------------------------------------------


async def test_ask_prints_angies_answer_and_exits_0(cli: CliHarness) -> None:
    await cli.signup()
    done = await cli.run("ask", "what's on today?")
    assert done.code == 0, done.err
    assert "what's on today?" in done.out
    async with cli.angie.services.database.session() as session:
        tasks = list(await session.scalars(select(Task)))
    assert [t.status for t in tasks] == [TaskStatus.SUCCEEDED]
    assert tasks[0].thread == "api"


async def test_ask_exits_1_when_the_task_fails(cli: CliHarness) -> None:
    await cli.signup()
    done = await cli.run("ask", "boom", "--thread", "kitchen")
    assert done.code == 1
    assert "angie tasks show" in done.out
    async with cli.angie.services.database.session() as session:
        task = (await session.scalars(select(Task))).one()
    assert task.status is TaskStatus.FAILED
    assert task.thread == "kitchen"


async def test_status_shows_recent_events_and_next_crons(cli: CliHarness) -> None:
    person = await cli.signup()
    assert (await cli.run("ask", "hello")).code == 0
    async with cli.client(person) as http:
        made = await http.post(
            "/api/schedules", json={"name": "plants", "cron": "0 8 * * *", "instruction": "water"}
        )
        assert made.status_code == 201, made.text
    done = await cli.run("status")
    assert done.code == 0, done.err
    assert re.search(r"Today: [1-9][\d,]* tokens, \$0\.0000", done.out), done.out
    assert "Nothing running." in done.out
    assert "Nothing waits for you." in done.out
    assert "Recent events" in done.out
    assert re.search(r"│ \d+ +│ message +│ api +│ routed", done.out), done.out
    assert "Next scheduled runs" in done.out
    assert re.search(r"│ \d+ +│ plants +│ .+ │ 0 8 \* \* \*", done.out), done.out
    holder = cli.angie.services.scheduler_leader.holder
    assert f"Scheduler: run by {holder}, renewed" in done.out, done.out


async def test_tasks_list_show_cancel_and_retry_a_failed_task(cli: CliHarness) -> None:
    await cli.signup()
    assert (await cli.run("ask", "boom")).code == 1
    listed = await cli.run("tasks", "list", "--status", "failed")
    assert listed.code == 0, listed.err
    task_id = first_number(listed.out, "│")
    assert "boom" in listed.out
    assert "something went wrong" in listed.out
    assert "No tasks." in (await cli.run("tasks", "list", "--status", "running")).out

    shown = await cli.run("tasks", "show", str(task_id))
    assert shown.code == 0, shown.err
    assert f"task {task_id}" in shown.out
    assert "boom" in shown.out
    assert "Error" in shown.out
    assert "No tool calls." in shown.out

    cancelled = await cli.run("tasks", "cancel", str(task_id))
    assert cancelled.code == 1
    assert one_error_line(cancelled.err) == f"error: task {task_id} has already failed"

    retried = await cli.run("tasks", "retry", str(task_id))
    assert retried.code == 0, retried.err
    assert f"task {task_id} is" in retried.out
    task = await cli.settled(task_id)
    assert task.status is TaskStatus.FAILED
    assert task.attempts == 2


async def test_tasks_of_someone_else_are_not_found(cli: CliHarness) -> None:
    await cli.signup("owner")
    assert (await cli.run("ask", "boom")).code == 1
    await cli.signup("other")
    done = await cli.run("tasks", "show", "1")
    assert done.code == 1
    assert one_error_line(done.err) == "error: there is no task 1"


# -- crons ---------------------------------------------------------------------------------------


async def test_crons_add_list_pause_resume_and_rm(cli: CliHarness) -> None:
    await cli.signup()
    added = await cli.run(
        "crons", "add", "morning", "0 7 * * 1-5", "--tz", "Europe/Paris",
        "--instruction", "tell me the weather", "--agent", "hue",
    )  # fmt: skip
    assert added.code == 0, added.err
    schedule_id = first_number(added.out, "schedule")
    listed = await cli.run("crons", "list")
    assert listed.code == 0, listed.err
    row = next(line for line in listed.out.splitlines() if "morning" in line)
    for part in ("0 7 * * 1-5", "Europe/Paris", "on", "hue", "tell me the weather"):
        assert part in row
    assert "paused" in (await cli.run("crons", "pause", str(schedule_id))).out
    assert "paused" in (await cli.run("crons", "list")).out
    assert "resumed" in (await cli.run("crons", "resume", "morning")).out  # by name too
    unknown = await cli.run("crons", "pause", "evening")
    assert unknown.code == 1
    assert one_error_line(unknown.err) == "error: you have no schedule named 'evening'"
    removed = await cli.run("crons", "rm", "morning")
    assert removed.code == 0, removed.err
    assert "No schedules" in (await cli.run("crons", "list")).out


async def test_crons_add_takes_the_persons_timezone_by_default(cli: CliHarness) -> None:
    sam = await cli.signup()
    async with cli.client() as http:
        moved = await http.patch("/api/me", json={"timezone": "Europe/Paris"}, headers=sam.headers)
        assert moved.status_code == 200, moved.text
    added = await cli.run("crons", "add", "morning", "0 7 * * *", "--instruction", "wake me")
    assert added.code == 0, added.err
    row = next(
        line for line in (await cli.run("crons", "list")).out.splitlines() if "morning" in line
    )
    assert "Europe/Paris" in row


async def test_crons_add_refuses_a_bad_timezone_an_unknown_agent_and_a_bad_cron(
    cli: CliHarness,
) -> None:
    await cli.signup()
    zone = await cli.run("crons", "add", "x", "0 7 * * *", "--tz", "Mars/Olympus")
    assert zone.code == 2
    assert "'Mars/Olympus' is not a known timezone" in one_error_line(zone.err)
    agent = await cli.run("crons", "add", "x", "0 7 * * *", "--agent", "nobody-at-all")
    assert agent.code == 1
    assert one_error_line(agent.err) == "error: there is no agent named 'nobody-at-all'"
    cron = await cli.run("crons", "add", "x", "not a cron")
    assert cron.code == 1
    assert "cron" in one_error_line(cron.err)
    assert "No schedules" in (await cli.run("crons", "list")).out


# -- approvals -----------------------------------------------------------------------------------


async def test_approvals_list_says_when_nothing_waits(cli: CliHarness) -> None:
    await cli.signup()
    done = await cli.run("approvals", "list")
    assert done.code == 0, done.err
    assert "Nothing waits for your approval." in done.out
    missing = await cli.run("approvals", "approve", "7", "--reason", "fine")
    assert missing.code == 1
    assert "there is no approval 7" in one_error_line(missing.err)


# -- prompts -------------------------------------------------------------------------------------

EDITOR = """\
import pathlib, sys
path = pathlib.Path(sys.argv[-1])
path.write_text(path.read_text().replace("not set yet: run `angie setup`", "{new}"))
"""


async def test_prompts_edit_saves_what_the_editor_wrote(cli: CliHarness) -> None:
    await cli.signup()
    editor = cli.home / "editor.py"
    editor.write_text(EDITOR.format(new="tea, never coffee"))
    env = {"EDITOR": f"{sys.executable} {editor}", "VISUAL": ""}
    done = await cli.run("prompts", "edit", "style", env=env)
    assert done.code == 0, done.err
    assert "saved style version 2" in done.out
    shown = await cli.run("prompts", "show", "style")
    assert "Tone and language: tea, never coffee." in shown.out
    again = await cli.run("prompts", "edit", "style", env=env)
    assert again.code == 0, again.err
    assert "no change to style" in again.out


def _take(path: Path) -> str:
    """A file's text; the file is removed."""
    text = path.read_text()
    path.unlink()
    return text


async def test_prompts_edit_keeps_a_refused_text_in_a_file(cli: CliHarness) -> None:
    await cli.signup()
    editor = cli.home / "editor.py"
    editor.write_text(EDITOR.format(new="{{ user.nickname }}"))
    done = await cli.run("prompts", "edit", "style", env={"EDITOR": f"{sys.executable} {editor}"})
    assert done.code == 1
    line = one_error_line(done.err)
    assert "nickname" in line
    assert "{{ user.nickname }}" in _take(Path(line.rsplit("your text is in ", 1)[1].rstrip(")")))
    assert "not set yet" in (await cli.run("prompts", "show", "style")).out


async def test_prompts_export_then_import_round_trip(cli: CliHarness) -> None:
    await cli.signup()
    exported = await cli.run("prompts", "export")
    assert exported.code == 0, exported.err
    documents = json.loads(exported.out)["documents"]
    assert set(documents) >= {"profile", "style", "contact"}
    documents["style"] = "# Style\n\nShort answers, in Italian.\n"
    documents["hobbies"] = "# Hobbies\n\nSailing.\n"
    (cli.home / "docs.json").write_text(json.dumps({"documents": documents}))
    imported = await cli.run("prompts", "import", "docs.json")
    assert imported.code == 0, imported.err
    assert "hobbies v1" in imported.out
    assert "Short answers, in Italian." in (await cli.run("prompts", "show", "style")).out
    assert (await cli.run("prompts", "export", "out.json")).code == 0
    assert json.loads((cli.home / "out.json").read_text())["documents"]["hobbies"] == (
        "# Hobbies\n\nSailing.\n"
    )
    listed = await cli.run("prompts", "list")
    assert "hobbies" in listed.out


async def test_prompts_import_of_a_bad_document_saves_nothing(cli: CliHarness) -> None:
    await cli.signup()
    docs = {"documents": {"style": "fine\n", "broken": "{% if %}"}}
    (cli.home / "docs.json").write_text(json.dumps(docs))
    done = await cli.run("prompts", "import", "docs.json")
    assert done.code == 1
    assert "broken" in one_error_line(done.err)
    assert "not set yet" in (await cli.run("prompts", "show", "style")).out
    (cli.home / "bad.json").write_text('{"documents": []}')
    shape = await cli.run("prompts", "import", "bad.json")
    assert shape.code == 2
    assert "should hold" in one_error_line(shape.err)


async def test_prompts_reset_puts_a_setup_document_back(cli: CliHarness) -> None:
    person = await cli.signup()
    async with cli.client(person) as http:
        saved = await http.put("/api/prompts/style", json={"body": "Be terse."})
        assert saved.status_code == 200, saved.text
    done = await cli.run("prompts", "reset", "style")
    assert done.code == 0, done.err
    assert "style is back to its default" in done.out
    assert "not set yet" in (await cli.run("prompts", "show", "style")).out


# -- config --------------------------------------------------------------------------------------


async def test_mcp_trust_goes_through_angie_with_the_persons_rights(cli: CliHarness) -> None:
    await cli.signup("sam")  # the admin
    done = await cli.run("mcp", "trust", "hue", "untrusted")
    assert done.code == 0, done.err
    assert "hue's outputs are untrusted" in done.out

    await cli.signup("lee")  # a member, now the saved login
    refused = await cli.run("mcp", "trust", "hue", "trusted")
    assert refused.code == 1
    assert "admin" in one_error_line(refused.err)
    async with cli.angie.services.database.session() as session:
        from angie.db.models import McpServer

        trust = await session.scalar(select(McpServer.content_trust).where(McpServer.name == "hue"))
    assert trust == "untrusted"


async def test_config_slack_with_options_saves_and_never_prints_secrets(
    cli: CliHarness, endpoints: Endpoints
) -> None:
    person = await cli.signup()
    # The fake stays up until the channel is disabled: Angie's running Slack channel keeps
    # talking to it, and a workspace does not vanish under her.
    async with FakeSlack() as slack:
        endpoints.slack_api = slack.api_url
        bot, app = slack.bot_token, slack.app_token
        done = await cli.run(
            "config", "slack", "--bot-token", bot, "--app-token", app, "--default-channel", "#angie"
        )
        assert done.code == 0, done.err
        assert "Slack saved; connecting" in done.out
        # Checked live: Slack's auth.test says who Angie is there.
        assert "Slack accepts the credentials: @angie in Home" in done.out
        assert "secrets set: app_token, bot_token" in done.out
        assert bot not in done.out + done.err
        assert app not in done.out + done.err
        async with cli.client(person) as http:
            saved = (await http.get("/api/channels/slack")).json()
        assert saved["config"] == {"default_channel": "#angie"}
        assert saved["configured"] is True
        # A later change keeps what it does not mention.
        again = await cli.run("config", "slack", "--disable")
        assert again.code == 0, again.err
        async with cli.client(person) as http:
            saved = (await http.get("/api/channels/slack")).json()
        assert saved["enabled"] is False
        assert saved["config"] == {"default_channel": "#angie"}
        assert saved["secrets_set"] == ["app_token", "bot_token"]


async def test_config_slack_says_what_slack_refused(cli: CliHarness, endpoints: Endpoints) -> None:
    await cli.signup()
    async with FakeSlack() as slack:
        endpoints.slack_api = slack.api_url
        done = await cli.run(
            "config",
            "slack",
            "--bot-token",
            "xoxb-1234567890-revoked",
            "--app-token",
            slack.app_token,
        )
    assert done.code == 1
    line = one_error_line(done.err)
    assert line.startswith("error: Slack refused the bot token (invalid_auth): copy the Bot User")
    assert "Slack saved" in done.out  # kept, to fix with the next `angie config slack`


async def test_channels_link_list_prefer_and_unlink(cli: CliHarness, endpoints: Endpoints) -> None:
    person = await cli.signup()
    async with FakeSlack() as slack:
        endpoints.slack_api = slack.api_url
        saved = await cli.run(
            "config", "slack", "--bot-token", slack.bot_token, "--app-token", slack.app_token
        )
        assert saved.code == 0, saved.err
        await slack.wait(lambda s: s.connections)
        await slack.dm("U0SAM", "hello")
        await slack.wait(lambda s: s.posts)
        code = (slack.posts[0].text or "").split("angie channels link ")[1][:6]

        bad = await cli.run("channels", "link", "12ab")
        assert bad.code == 2
        assert "six digits" in one_error_line(bad.err)
        linked = await cli.run("channels", "link", code)
        assert linked.code == 0, linked.err
        assert "linked slack" in linked.out
        again = await cli.run("channels", "link", code)
        assert again.code == 1
        assert "unknown or expired" in one_error_line(again.err)

        listed = await cli.run("channels", "list")
        assert "T0HOME:U0SAM" in listed.out
        status = await cli.run("channels", "status")
        assert status.code == 0, status.err
        assert "connected" in status.out
        overall = await cli.run("status")
        assert overall.code == 0, overall.err
        assert "Chat channels" in overall.out
        assert "slack: connected, you wrote" in overall.out
        async with cli.client(person) as http:
            [identity] = (await http.get("/api/channels/identities")).json()["items"]
        assert identity["preferred"] is True
        gone = await cli.run("channels", "unlink", str(identity["id"]))
        assert gone.code == 0, gone.err
        missing = await cli.run("channels", "unlink", str(identity["id"]))
        assert missing.code == 1


async def test_config_channels_check_formats_before_sending(cli: CliHarness) -> None:
    person = await cli.signup()
    token = await cli.run("config", "slack", "--bot-token", "xoxp-user-token-1234")
    assert token.code == 2
    assert one_error_line(token.err) == "error: --bot-token: should start with xoxb-"
    url = await cli.run("config", "imessage", "--server-url", "ftp://mac.local", "--password", "x")
    assert url.code == 2
    assert "--server-url: should be an http:// or https:// address" in one_error_line(url.err)
    missing = await cli.run("config", "email", "--address", "sam@home.test")
    assert missing.code == 2
    assert "--imap-host is needed" in one_error_line(missing.err)
    async with cli.client(person) as http:
        channels = (await http.get("/api/channels")).json()["items"]
    assert all(c["updated_at"] is None for c in channels)


async def test_config_email_from_a_file(cli: CliHarness) -> None:
    person = await cli.signup()
    (cli.home / "email.yaml").write_text(
        "address: sam@home.test\nimap_host: imap.home.test\nsmtp_host: smtp.home.test\n"
        "password: hunter2-hunter2\n"
    )
    done = await cli.run(
        "config", "email", "--from-file", "email.yaml", "--smtp-port", "465", "--no-check"
    )
    assert done.code == 0, done.err
    assert "hunter2" not in done.out
    async with cli.client(person) as http:
        email = (await http.get("/api/channels/email")).json()
    assert email["config"] == {
        "address": "sam@home.test",
        "imap_host": "imap.home.test",
        "imap_port": 993,
        "smtp_host": "smtp.home.test",
        "smtp_port": 465,
    }
    assert email["secrets_set"] == ["password"]
    (cli.home / "bad.yaml").write_text("adress: typo@home.test\n")
    bad = await cli.run("config", "email", "--from-file", "bad.yaml")
    assert bad.code == 2
    assert "unknown key 'adress'" in one_error_line(bad.err)


DISCORD_TOKEN = "MTA1NjE4.GbX9yq.abcdefghijklmnopqrstuvwxyz0123"


def _discord_dialogue(child: pexpect.spawn[str]) -> str:
    """Answer the questions; returns everything the terminal showed."""
    child.logfile_read = io.StringIO()
    child.expect_exact("Connecting Discord")
    child.expect_exact("Bot token")
    child.sendline("not a token")  # hidden, and refused
    child.expect_exact("does not look like a Discord bot token")
    child.expect_exact("Bot token")
    child.sendline(DISCORD_TOKEN)
    child.expect_exact("Server (guild) id")
    child.sendline("123456789012345678")
    child.expect(pexpect.EOF)
    child.close()
    return child.logfile_read.getvalue()


async def test_config_discord_asks_on_a_terminal_and_hides_the_token(cli: CliHarness) -> None:
    person = await cli.signup()
    child = cli.spawn("config", "discord", "--no-check")
    try:
        shown = await asyncio.to_thread(_discord_dialogue, child)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, shown
    assert DISCORD_TOKEN not in shown
    assert "not a token" not in shown
    assert "secrets set: bot_token" in shown
    async with cli.client(person) as http:
        discord = (await http.get("/api/channels/discord")).json()
    assert discord["config"] == {"guild_id": "123456789012345678"}
    assert discord["secrets_set"] == ["bot_token"]
    assert discord["configured"] is True


def _env_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


async def test_config_model_checks_the_model_live_and_writes_the_env_file(
    cli: CliHarness,
) -> None:
    env_file = cli.home / ".env"
    env_file.write_text("# Angie\nANGIE_PORT=8123\nANGIE_MODEL=anthropic:old\nOTHER=1\n")
    with FakeOpenAI(api_key="sk-local-key") as server:
        done = await cli.run(
            "config", "model", "openai:fake", "--base-url", server.url, "--api-key", "sk-local-key"
        )
        assert len(server.requests) == 1
        assert server.requests[0].headers["authorization"] == "Bearer sk-local-key"
    assert done.code == 0, done.err
    assert "answered" in done.out
    assert "Restart Angie" in done.out
    assert "sk-local-key" not in done.out
    assert _env_lines(env_file) == [
        "# Angie",
        "ANGIE_PORT=8123",
        "ANGIE_MODEL=openai:fake",
        "OTHER=1",
        f"ANGIE_MODEL_BASE_URL={server.url}",
        "ANGIE_MODEL_API_KEY=sk-local-key",
    ]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


async def test_config_model_refuses_a_bad_model_in_one_line_and_writes_nothing(
    cli: CliHarness,
) -> None:
    env_file = cli.home / "angie.env"
    unknown = await cli.run("--env-file", str(env_file), "config", "model", "nonsense:model-x")
    assert unknown.code == 2
    assert "unknown provider 'nonsense'" in one_error_line(unknown.err)
    no_url = await cli.run("config", "model", "ollama:llama3.1", "--env-file", str(env_file))
    assert no_url.code == 2
    assert "ANGIE_MODEL_BASE_URL" in one_error_line(no_url.err)
    dead = f"http://127.0.0.1:{free_port()}/v1"
    silent = await cli.run(
        "config", "model", "ollama:llama3.1", "--base-url", dead, "--env-file", str(env_file)
    )
    assert silent.code == 1
    assert "--no-check" in one_error_line(silent.err)
    assert not env_file.exists()
    saved = await cli.run(
        "config", "model", "ollama:llama3.1", "--base-url", dead, "--no-check",
        "--env-file", str(env_file),
    )  # fmt: skip
    assert saved.code == 0, saved.err
    assert _env_lines(env_file) == ["ANGIE_MODEL=ollama:llama3.1", f"ANGIE_MODEL_BASE_URL={dead}"]


# -- tool calls and approvals, with the Hue server ------------------------------------------------


def floor_lamp_on(_request: str, tools: list[str]) -> tuple[str, dict[str, object]] | None:
    return (
        ("hue_set_light", {"name": "Floor lamp", "on": True}) if "hue_set_light" in tools else None
    )


async def _until(stream: asyncio.StreamReader, marker: str, seen: list[str]) -> str:
    """Read lines until one holds ``marker``; returns that line."""
    async with asyncio.timeout(40):
        while True:
            line = (await stream.readline()).decode()
            assert line, f"the output ended before {marker!r}: {''.join(seen)}"
            seen.append(line)
            if marker in line:
                return line


@pytest.mark.slow
async def test_ask_waits_for_an_approval_given_with_approvals_approve(
    sqlite_url: str, data_dir: Path, tmp_path: Path, bridge: FakeHueBridge
) -> None:
    environ = {"ANGIE_HUE_BRIDGE_HOST": bridge.host, "ANGIE_HUE_USERNAME": bridge.username}
    brain = Brain(plans={"lamp": floor_lamp_on})
    async with cli_harness(
        sqlite_url, data_dir, tmp_path / "home", brain,
        specs=builtin_specs(["hue"]), environ=environ,
    ) as cli:  # fmt: skip
        await cli.signup()
        asking = await asyncio.create_subprocess_exec(
            str(ANGIE), "ask", "hue: turn on the floor lamp",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=cli.environ(), cwd=cli.home,
        )  # fmt: skip
        assert asking.stdout is not None
        seen: list[str] = []
        try:
            line = await _until(asking.stdout, "angie approvals approve", seen)
            approval_id = first_number(line, "angie approvals approve")
            assert any("→ asks the hue agent: turn on the floor lamp" in s for s in seen), seen
            assert any("→ hue.set_light" in s and '"Floor lamp"' in s for s in seen), seen
            assert any("Angie asks before hue.set_light" in s for s in seen), seen
            listed = await cli.run("approvals", "list")
            assert "hue.set_light" in listed.out
            assert '"Floor lamp"' in listed.out
            approved = await cli.run("approvals", "approve", str(approval_id), "--reason", "go")
            assert approved.code == 0, approved.err
            assert "is approved" in approved.out
            out, err = await asyncio.wait_for(asking.communicate(), 40)
        finally:
            if asking.returncode is None:
                asking.kill()
                await asking.wait()
        assert asking.returncode == 0, err.decode()
        assert "Traceback" not in err.decode()
        assert 'Angie: done: {"id": "2", "name": "Floor lamp"' in out.decode()
        assert any(r.method == "PUT" for r in bridge.requests)
        task_id = first_number(approved.out, "task")
        shown = await cli.run("tasks", "show", str(task_id))
        assert "succeeded" in shown.out
        assert "Tool calls" in shown.out
        assert "hue.set_light" in shown.out
        assert "Approvals" in shown.out
        assert "Nothing waits" in (await cli.run("approvals", "list")).out
        # The chat task that handed the request to the hue agent shows the hand-over.
        child = await cli.angie.services.tasks.require(task_id)
        asked = await cli.run("tasks", "show", str(child.parent_id))
        assert "angie.ask_hue" in asked.out
        assert "Tasks it started" in asked.out
