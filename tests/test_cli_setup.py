"""`angie setup`, the first-run interview, run as the real `angie` program against a real Angie
on 127.0.0.1: from an answers file, through a terminal, and again to change the answers."""

from __future__ import annotations

import asyncio
import copy
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pexpect
import pytest
from cli_support import PASSWORD, CliHarness, cli_harness, documents, write
from fakes.brain import Brain
from sqlalchemy import func, select

from angie.db.models import Prompt, User

ANSWERS: dict[str, Any] = {
    "account": {"email": "sam@home.test", "password": PASSWORD, "display_name": "Sam Taylor"},
    "profile": {"name": "Sam Taylor", "address_as": "Sam", "about": "Writes {{ code }} at night"},
    "style": {"tone": "dry and brief", "language": "English"},
    "schedule": {
        "timezone": "Europe/Paris",
        "working_hours": "Monday to Thursday, 8:00 to 16:00",
        "quiet_hours": "21:00 to 07:00",
    },
    "priorities": {"items": ["finish the garden", "learn Italian"]},
    "people": {"people": ["Alex (partner)", "Mia (daughter)"], "places": "home in Lyon"},
    "autonomy": {"without_asking": ["turn lights on and off"], "always_ask": ["spending money"]},
    "contact": {"channels": ["slack", "email"], "details": "#sam on Slack", "urgent": "call me"},
}


@pytest.fixture
async def cli(sqlite_url: str, data_dir: Path, tmp_path: Path) -> AsyncIterator[CliHarness]:
    async with cli_harness(sqlite_url, data_dir, tmp_path / "home", Brain()) as harness:
        yield harness


async def person(cli: CliHarness, email: str) -> User:
    async with cli.angie.services.database.session() as session:
        return (await session.scalars(select(User).where(User.email == email))).one()


# -- from an answers file ------------------------------------------------------------------------


async def test_setup_from_a_file_registers_the_admin_and_writes_every_document(
    cli: CliHarness,
) -> None:
    done = await cli.run("setup", "--answers", write(cli.home / "answers.yaml", ANSWERS))
    assert done.code == 0, done.err
    assert "account sam@home.test created" in done.out
    # The documents are shown as Angie reads them: rendered for Sam, the kept answers hidden.
    assert "Name: Sam Taylor. Address them as Sam." in done.out
    assert "Writes {{ code }} at night" in done.out
    assert "Timezone: Europe/Paris." in done.out
    assert "angie-setup" not in done.out
    assert "All set, Sam." in done.out

    sam = await person(cli, "sam@home.test")
    assert sam.is_admin
    assert (sam.display_name, sam.preferred_name, sam.timezone) == (
        "Sam Taylor",
        "Sam",
        "Europe/Paris",
    )
    docs = await documents(cli, "sam@home.test")
    assert set(docs) == {
        "profile", "style", "schedule", "priorities", "people", "autonomy", "contact"
    }  # fmt: skip
    assert "Tone: dry and brief." in docs["style"][1]
    assert "- learn Italian" in docs["priorities"][1]
    assert "- home in Lyon" in docs["people"][1]
    assert "Reach them on: slack, then email." in docs["contact"][1]
    assert "{{ user.timezone }}" in docs["schedule"][1]  # follows the account if it changes
    saved = cli.saved()
    assert saved["url"] == cli.url
    assert saved["token"].startswith("angie_pat_")
    assert stat.S_IMODE(cli.config.stat().st_mode) == 0o600
    # The token works for the other commands.
    assert (await cli.run("tasks", "list")).code == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda a: a["style"].update(colour="blue"),
            "answers.yaml: unknown key style.colour (known: tone, language)",
        ),
        (lambda a: a.update(hobbies={}), "answers.yaml: unknown key 'hobbies'"),
        (lambda a: a["profile"].pop("name"), "answers.yaml: profile.name is missing"),
        (lambda a: a["account"].pop("password"), "answers.yaml: account.password is missing"),
        (
            lambda a: a["schedule"].update(timezone="Mars/Olympus"),
            "answers.yaml: schedule.timezone: 'Mars/Olympus' is not a known timezone",
        ),
        (
            lambda a: a["contact"].update(channels=["pigeon"]),
            "answers.yaml: contact.channels: 'pigeon' is not one of web, slack",
        ),
        (lambda a: a["style"].update(tone=["a", "b"]), "answers.yaml: style.tone should be text"),
    ],
    ids=["unknown", "unknown-topic", "missing", "no-password", "timezone", "channel", "type"],
)
async def test_a_bad_answers_file_fails_in_one_line_and_changes_nothing(
    cli: CliHarness, change: Any, message: str
) -> None:
    answers = copy.deepcopy(ANSWERS)
    change(answers)
    done = await cli.run("setup", "--answers", write(cli.home / "answers.yaml", answers))
    assert done.code == 2
    lines = done.err.strip().splitlines()
    assert len(lines) == 1, done.err
    assert lines[0].startswith(f"error: {message}")
    async with cli.angie.services.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
        assert await session.scalar(select(func.count()).select_from(Prompt)) == 0
    assert not cli.config.exists()


async def test_setup_elsewhere_needs_the_setup_code_in_the_answers_file(cli: CliHarness) -> None:
    # Another data dir: `angie setup` cannot read the code Angie wrote into hers.
    elsewhere = {"ANGIE_DATA_DIR": str(cli.home / "elsewhere")}
    path = write(cli.home / "answers.yaml", ANSWERS)

    refused = await cli.run("setup", "--answers", path, env=elsewhere)

    assert refused.code == 1
    assert refused.err.strip().startswith(
        "error: the first account needs the setup code Angie printed at start"
    )
    assert refused.err.strip().endswith("add account.setup_code to the answers file")
    async with cli.angie.services.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0

    answers = copy.deepcopy(ANSWERS)
    answers["account"]["setup_code"] = cli.angie.services.setup.code
    done = await cli.run(
        "setup", "--answers", write(cli.home / "answers.yaml", answers), env=elsewhere
    )
    assert done.code == 0, done.err
    assert (await person(cli, "sam@home.test")).is_admin


async def test_a_second_person_needs_an_invite_in_the_answers_file(cli: CliHarness) -> None:
    admin = await cli.signup("admin", save=False)
    answers = copy.deepcopy(ANSWERS)
    path = write(cli.home / "answers.json", answers, as_json=True)
    refused = await cli.run("setup", "--answers", path)
    assert refused.code == 1
    assert "add account.invite_code to the answers file" in refused.err.strip()
    async with cli.client(admin) as http:
        invite = await http.post("/api/users/invites", json={"email": "sam@home.test"})
    answers["account"]["invite_code"] = invite.json()["code"]
    done = await cli.run("setup", "--answers", write(cli.home / "answers.json", answers))
    assert done.code == 0, done.err
    assert not (await person(cli, "sam@home.test")).is_admin


async def test_setup_again_from_a_file_keeps_the_optional_answers_left_out(
    cli: CliHarness,
) -> None:
    assert (await cli.run("setup", "--answers", write(cli.home / "a.yaml", ANSWERS))).code == 0
    before = await documents(cli, "sam@home.test")
    again = copy.deepcopy(ANSWERS)
    del again["account"]  # the saved token is used
    del again["people"]
    del again["profile"]["about"]
    again["style"]["tone"] = "warm"
    done = await cli.run("setup", "--answers", write(cli.home / "b.yaml", again))
    assert done.code == 0, done.err
    after = await documents(cli, "sam@home.test")
    assert after["people"] == before["people"]
    assert after["profile"] == before["profile"]
    assert after["style"][0] == before["style"][0] + 1
    assert "Tone: warm." in after["style"][1]


# -- through a terminal --------------------------------------------------------------------------


def answer(child: pexpect.spawn[str], question: str, reply: str, default: str = "") -> None:
    """Wait for a question (and the default it offers), then type the reply."""
    child.expect_exact(question)
    if default:
        # The default is shown in bold, right after the question.
        child.expect_exact(f"({default})")
    child.sendline(reply)


def first_run(child: pexpect.spawn[str]) -> None:
    """A new person: no account yet, then the interview with two answers Angie refuses."""
    answer(child, "Email", "robin@home.test")
    answer(child, "Password", PASSWORD)
    child.expect_exact("let's make one")
    answer(child, "Choose a password", "short")
    child.expect_exact("shorter than 8 characters")
    answer(child, "Choose a password", PASSWORD)
    answer(child, "Password again", PASSWORD)
    answer(child, "Your name", "Robin Park")
    child.expect_exact("account robin@home.test created")
    answer(child, "What's your name?", "", "Robin Park")
    answer(child, "What should I call you?", "Rob", "Robin")
    answer(child, "Anything else I should know about you?", "Plays the cello")
    answer(child, "How should I talk to you?", "", "warm and brief")
    answer(child, "Which language should I answer in?", "French")
    answer(child, "Which timezone are you in?", "Mars/Olympus")
    child.expect_exact("'Mars/Olympus' is not a known timezone")
    answer(child, "Which timezone are you in?", "America/New_York")
    answer(child, "When do you usually work?", "")
    answer(child, "When should I stay quiet", "-")
    answer(child, "What matters most to you right now?", "family; health")
    answer(child, "Who are the people who matter to you", "Sam (brother)")
    answer(child, "And the places", "")
    answer(child, "What may I do without asking you first?", "")
    answer(child, "What must I always ask you about first?", "")
    answer(child, "Where should I reach you, in order?", "slack; pigeon")
    child.expect_exact("'pigeon' is not one of")
    answer(child, "Where should I reach you, in order?", "slack; web")
    answer(child, "Any details", "")
    answer(child, "And when it is urgent?", "", "the same way")
    child.expect_exact("All set, Rob.")
    child.expect(pexpect.EOF)
    child.close()


async def test_setup_through_a_terminal_makes_the_account_and_asks_everything(
    cli: CliHarness,
) -> None:
    child = cli.spawn("setup")
    try:
        await asyncio.to_thread(first_run, child)
    finally:
        transcript = child.before
        child.close(force=True)
    assert child.exitstatus == 0, transcript
    robin = await person(cli, "robin@home.test")
    assert robin.is_admin
    assert (robin.display_name, robin.preferred_name, robin.timezone) == (
        "Robin Park",
        "Rob",
        "America/New_York",
    )
    docs = await documents(cli, "robin@home.test")
    assert "About them: Plays the cello" in docs["profile"][1]
    assert "Language: French." in docs["style"][1]
    assert "No quiet hours." in docs["schedule"][1]
    assert "- family\n- health" in docs["priorities"][1]
    assert "Reach them on: slack, then web." in docs["contact"][1]
    assert cli.saved()["token"].startswith("angie_pat_")


def rerun(child: pexpect.spawn[str]) -> None:
    """Enter everywhere but the tone: every default is an earlier answer."""
    defaults = [
        ("What's your name?", "Sam Taylor"),
        ("What should I call you?", "Sam"),
        ("Anything else I should know about you?", "Writes {{ code }} at night"),
        ("How should I talk to you?", "dry and brief"),
        ("Which language should I answer in?", "English"),
        ("Which timezone are you in?", "Europe/Paris"),
        ("When do you usually work?", "Monday to Thursday, 8:00 to 16:00"),
        ("When should I stay quiet", "21:00 to 07:00"),
        ("What matters most to you right now?", "finish the garden; learn Italian"),
        ("Who are the people who matter to you", "Alex (partner); Mia (daughter)"),
        ("And the places", "home in Lyon"),
        ("What may I do without asking you first?", "turn lights on and off"),
        ("What must I always ask you about first?", "spending money"),
        ("Where should I reach you, in order?", "slack; email"),
        ("Any details", "#sam on Slack"),
        ("And when it is urgent?", "call me"),
    ]
    for question, default in defaults:
        answer(child, question, "playful" if default == "dry and brief" else "", default)
    child.expect_exact("All set, Sam.")
    child.expect(pexpect.EOF)
    child.close()


async def test_setup_again_offers_the_earlier_answers_as_defaults(cli: CliHarness) -> None:
    assert (await cli.run("setup", "--answers", write(cli.home / "a.yaml", ANSWERS))).code == 0
    before = await documents(cli, "sam@home.test")
    child = cli.spawn("setup")
    try:
        await asyncio.to_thread(rerun, child)
    finally:
        transcript = child.before
        child.close(force=True)
    assert child.exitstatus == 0, transcript
    after = await documents(cli, "sam@home.test")
    # Unchanged answers write the same documents, which saves no new version.
    assert {n: d for n, d in after.items() if n != "style"} == {
        n: d for n, d in before.items() if n != "style"
    }
    assert after["style"][0] == before["style"][0] + 1
    assert "Tone: playful." in after["style"][1]
    assert "Language: English." in after["style"][1]


async def test_setup_without_a_terminal_or_a_file_says_how_to_run_it(cli: CliHarness) -> None:
    done = await cli.run("setup")
    assert done.code == 2
    assert done.err.strip() == "error: no terminal to ask on: use --answers FILE"
