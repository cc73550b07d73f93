"""A person's own approval rules: what the setup interview's autonomy answers become, how they
meet the household's policy in a real run with the Hue server, and /api/me/approval-rules."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from angie_mcp_hue.testing import FakeHueBridge
from api_support import Account, ApiHarness, bridge_puts, error_message, floor_lamp_on
from api_support import hue_api_harness as _hue_api_harness
from cli_support import PASSWORD, CliHarness, cli_harness
from fakes.brain import Brain
from pydantic_ai.tools import ToolDefinition
from sqlalchemy import select

from angie import onboarding
from angie.agents.policy import ApprovalPolicy, Decision, ServerPolicy
from angie.agents.rules import PersonRules, Rule, derive
from angie.db.models import Approval, ApprovalMode, EventType, RuleDecision, Task, TaskStatus
from angie.events.router import NewEvent

LAMP = "hue: turn on the floor lamp"
[AUTONOMY] = [t for t in onboarding.TOPICS if t.name == "autonomy"]
PLAYBACK = [
    "spotify_play",
    "spotify_pause",
    "spotify_next_track",
    "spotify_previous_track",
    "spotify_set_volume",
    "spotify_add_to_queue",
    "spotify_transfer_playback",
]
SENDING = ["*_send_*", "*_reply*", "*_post_*"]
SPENDING = ["*_buy*", "*_purchase*", "*_pay*", "*_order*"]


# -- what the answers mean ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "patterns"),
    [
        ("lights", ["hue_set_light", "hue_set_room", "hue_activate_scene"]),
        ("the lamps", ["hue_set_light", "hue_set_room", "hue_activate_scene"]),
        ("Lighting", ["hue_set_light", "hue_set_room", "hue_activate_scene"]),
        ("music", PLAYBACK),
        ("playing songs on Spotify", PLAYBACK),
        ("my playlists", ["spotify_create_playlist", "spotify_add_to_playlist"]),
    ],
)
def test_an_answer_about_what_angie_may_do_allows_those_tools(
    answer: str, patterns: list[str]
) -> None:
    derived = derive([answer], [])

    assert [(r.pattern, r.decision) for r in derived.rules] == [
        (p, RuleDecision.ALLOW) for p in patterns
    ]
    assert {r.phrase for r in derived.rules} == {answer}
    assert derived.unused == {}


@pytest.mark.parametrize(
    ("answer", "patterns"),
    [
        ("deleting anything", ["kind:destructive"]),
        ("removing files", ["kind:destructive"]),
        ("sending messages for you", SENDING),
        ("emails", SENDING),
        ("spending money", SPENDING),
        ("buying things", SPENDING),
        ("payments", SPENDING),
        ("purchases", SPENDING),
        ("lights", ["hue_set_light", "hue_set_room", "hue_activate_scene"]),
    ],
)
def test_an_answer_about_what_angie_always_asks_makes_ask_rules(
    answer: str, patterns: list[str]
) -> None:
    derived = derive([], [answer])

    assert [(r.pattern, r.decision) for r in derived.rules] == [
        (p, RuleDecision.ASK) for p in patterns
    ]


def test_answers_the_vocabulary_does_not_know_make_no_rule_and_are_reported() -> None:
    derived = derive(
        ["answer questions", "look things up", "water the plants", "nothing"],
        ["juggling", "-"],
    )

    assert derived.rules == []
    assert derived.unused == {
        "answer questions": "reading needs no approval",
        "look things up": "reading needs no approval",
        "water the plants": "not understood: no rule made",
        "juggling": "not understood: no rule made",
    }


def test_spending_sending_and_deleting_are_never_allowed_from_an_answer() -> None:
    derived = derive(["spending money", "deleting anything", "sending emails"], [])

    assert derived.rules == []
    assert set(derived.unused) == {"spending money", "deleting anything", "sending emails"}


def test_a_tool_named_by_both_answers_asks() -> None:
    derived = derive(["lights"], ["the lamps"])

    assert {r.decision for r in derived.rules} == {RuleDecision.ASK}


# -- how a person's rules meet the household's policy ------------------------------------------


def _tool(name: str, **hints: bool) -> ToolDefinition:
    return ToolDefinition(name=name, metadata={"annotations": hints})


def test_deleting_anything_makes_a_destructive_tool_ask_although_the_household_allows() -> None:
    household = ApprovalPolicy([ServerPolicy("files", ApprovalMode.ALLOW)])
    rules = PersonRules(tuple(derive([], ["deleting anything"]).rules))
    remove = _tool("files_remove", destructiveHint=True)
    write = _tool("files_write", destructiveHint=False)

    assert household.decide("files", "remove", remove, untrusted=False) is Decision.ALLOW
    mine = household.for_person(rules)
    assert mine.verdict("files", "remove", remove, untrusted=False) == (
        Decision.ASK,
        "your rule: deleting anything",
    )
    assert mine.decide("files", "write", write, untrusted=False) is Decision.ALLOW


def test_a_persons_allow_never_passes_a_tool_its_server_always_asks_about() -> None:
    rules = PersonRules((Rule("home_assistant_*", RuleDecision.ALLOW),))
    unlock = ToolDefinition(
        name="home_assistant_operate_safety_device",
        metadata={"annotations": {}, "meta": {"angie/approval": "always"}},
    )

    policy = ApprovalPolicy().for_person(rules)

    assert policy.decide("home_assistant", "operate_safety_device", unlock, untrusted=False) is (
        Decision.ASK
    )
    # A household in "allow" mode still asks too: the mode is not a choice about this tool.
    household = ApprovalPolicy([ServerPolicy("home_assistant", ApprovalMode.ALLOW)])
    assert household.decide("home_assistant", "operate_safety_device", unlock, untrusted=False) is (
        Decision.ASK
    )


def test_the_persons_rule_naming_an_always_ask_tool_lets_it_run_but_not_in_an_untrusted_run() -> (
    None
):
    block = ToolDefinition(
        name="unifi_block_client",
        metadata={"annotations": {"destructiveHint": True}, "meta": {"angie/approval": "always"}},
    )
    # The household's per-tool allow is not the person's own choice: it still asks.
    household = ApprovalPolicy(
        [ServerPolicy("unifi", ApprovalMode.ALLOW, {"block_client": Decision.ALLOW})]
    )
    assert household.decide("unifi", "block_client", block, untrusted=False) is Decision.ASK

    exact = household.for_person(PersonRules((Rule("unifi_block_client", RuleDecision.ALLOW),)))
    assert exact.decide("unifi", "block_client", block, untrusted=False) is Decision.ALLOW
    assert exact.decide("unifi", "block_client", block, untrusted=True) is Decision.ASK
    # Without a household policy for the server (it would ask by its annotations) too.
    alone = ApprovalPolicy().for_person(
        PersonRules((Rule("unifi_block_client", RuleDecision.ALLOW),))
    )
    assert alone.decide("unifi", "block_client", block, untrusted=False) is Decision.ALLOW

    # A wildcard is not naming the tool.
    broad = household.for_person(PersonRules((Rule("unifi_block_*", RuleDecision.ALLOW),)))
    assert broad.decide("unifi", "block_client", block, untrusted=False) is Decision.ASK
    # And "never" stays never, whatever the person allows.
    never = ApprovalPolicy(
        [ServerPolicy("unifi", ApprovalMode.ALLOW, {"block_client": Decision.NEVER})]
    ).for_person(PersonRules((Rule("unifi_block_client", RuleDecision.ALLOW),)))
    assert never.decide("unifi", "block_client", block, untrusted=False) is Decision.NEVER


# -- through a real run, with the Hue server and the fake bridge --------------------------------


@pytest.fixture
async def hue_api(
    sqlite_url: str, data_dir: Path, bridge: FakeHueBridge
) -> AsyncIterator[ApiHarness]:
    """Angie with the real Hue MCP server against the fake bridge, under the default policy:
    switching a light asks."""
    async with _hue_api_harness(
        sqlite_url, data_dir, bridge, Brain(plans={"lamp": floor_lamp_on})
    ) as harness:
        yield harness


async def _setup(api: ApiHarness, who: Account, free: list[str], ask: list[str]) -> None:
    """Save the autonomy answers as ``angie setup`` does."""
    body = onboarding.document(AUTONOMY, {"without_asking": free, "always_ask": ask})
    saved = await api.client.put("/api/prompts/autonomy", json={"body": body}, headers=who.headers)
    assert saved.status_code == 200, saved.text


async def _rules(api: ApiHarness, who: Account) -> dict[str, Any]:
    found = await api.client.get("/api/me/approval-rules", headers=who.headers)
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


async def _lamp(api: ApiHarness, who: Account) -> tuple[TaskStatus, list[Approval]]:
    """Ask for the lamp; the task's state once it settles, and the approvals it asked."""
    sent = await api.client.post("/api/events", json={"instruction": LAMP}, headers=who.headers)
    assert sent.status_code == 202, sent.text
    return await _settled(api, sent.json()["task_id"])


async def _settled(api: ApiHarness, task_id: int) -> tuple[TaskStatus, list[Approval]]:
    task = await api.settled(task_id)
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        async with api.angie.services.database.session() as session:
            asked = list(
                await session.scalars(
                    select(Approval)
                    .join(Task, Task.id == Approval.task_id)
                    .where((Task.id == task_id) | (Task.parent_id == task_id))
                )
            )
        if task.status is not TaskStatus.AWAITING_APPROVAL or asked:
            return task.status, asked
        # The task is suspended a moment before its approval is written.
        assert asyncio.get_running_loop().time() < deadline, "no approval was asked"
        await asyncio.sleep(0.02)
        task = await api.angie.services.tasks.require(task_id)


async def test_a_person_whose_setup_said_lights_switches_them_without_being_asked(
    hue_api: ApiHarness, bridge: FakeHueBridge
) -> None:
    api = hue_api
    sam = await api.signup("sam")
    kim = await api.signup("kim")
    await _setup(api, sam, ["lights", "answer questions"], [])

    status, asked = await _lamp(api, sam)

    assert (status, asked) == (TaskStatus.SUCCEEDED, [])
    assert len(bridge_puts(bridge)) == 1
    assert bridge.lights["2"]["state"]["on"] is True

    status, asked = await _lamp(api, kim)  # kim's setup said nothing about lights

    assert status is TaskStatus.AWAITING_APPROVAL
    assert [(a.user_id, a.tool) for a in asked] == [(kim.id, "set_light")]
    assert len(bridge_puts(bridge)) == 1


async def test_the_households_never_holds_despite_a_persons_allow(
    hue_api: ApiHarness, bridge: FakeHueBridge
) -> None:
    api = hue_api
    sam = await api.signup("sam")
    await _setup(api, sam, ["lights"], [])
    changed = await api.client.patch(
        "/api/mcp/servers/hue",
        json={"tool_policies": {"set_light": "never"}},
        headers=sam.headers,
    )
    assert changed.status_code == 200, changed.text

    status, asked = await _lamp(api, sam)

    assert (status, asked) == (TaskStatus.SUCCEEDED, [])
    assert bridge_puts(bridge) == []


async def test_a_run_started_from_outside_still_asks_despite_a_persons_allow(
    hue_api: ApiHarness, bridge: FakeHueBridge
) -> None:
    api = hue_api
    sam = await api.signup("sam")
    await _setup(api, sam, ["lights"], [])

    route = await api.angie.services.submit(
        NewEvent(EventType.WEBHOOK, source="hook:7", user_id=sam.id, payload={"text": LAMP})
    )
    assert route.task is not None
    status, asked = await _settled(api, route.task.id)

    assert status is TaskStatus.AWAITING_APPROVAL
    assert [a.tool for a in asked] == ["set_light"]
    assert "your rule" not in (asked[0].asked_because or "")
    assert bridge_puts(bridge) == []


async def test_a_persons_ask_rule_asks_where_the_household_allows_and_says_why(
    hue_api: ApiHarness, bridge: FakeHueBridge
) -> None:
    api = hue_api
    sam = await api.signup("sam")
    kim = await api.signup("kim")
    changed = await api.client.patch(
        "/api/mcp/servers/hue", json={"approval_mode": "allow"}, headers=sam.headers
    )
    assert changed.status_code == 200, changed.text
    await _setup(api, sam, [], ["the lights"])

    status, asked = await _lamp(api, sam)

    assert status is TaskStatus.AWAITING_APPROVAL
    assert [a.asked_because for a in asked] == ["your rule: the lights"]
    assert bridge_puts(bridge) == []
    pending = (await api.client.get("/api/approvals", headers=sam.headers)).json()["items"]
    assert [p["asked_because"] for p in pending] == ["your rule: the lights"]

    assert await _lamp(api, kim) == (TaskStatus.SUCCEEDED, [])
    assert len(bridge_puts(bridge)) == 1


# -- setup again, and /api/me/approval-rules -----------------------------------------------------


async def test_setup_again_replaces_the_setup_rules_and_keeps_the_persons_own(
    hue_api: ApiHarness,
) -> None:
    api = hue_api
    sam = await api.signup("sam")
    await _setup(api, sam, ["lights", "water the plants"], ["spending money"])
    first = await _rules(api, sam)
    assert {(r["pattern"], r["decision"], r["source"]) for r in first["rules"]} == {
        *(("hue_" + t, "allow", "setup") for t in ("set_light", "set_room", "activate_scene")),
        *((p, "ask", "setup") for p in SPENDING),
    }
    assert first["unused_answers"] == {"water the plants": "not understood: no rule made"}
    own = await api.client.post(
        "/api/me/approval-rules",
        json={"pattern": "spotify_*", "decision": "allow"},
        headers=sam.headers,
    )
    assert own.status_code == 201, own.text
    assert (own.json()["source"], own.json()["phrase"]) == ("person", None)

    await _setup(api, sam, ["music"], [])

    again = await _rules(api, sam)
    assert {(r["pattern"], r["source"]) for r in again["rules"]} == {
        ("spotify_*", "person"),
        *((p, "setup") for p in PLAYBACK),
    }
    assert again["unused_answers"] == {}


async def test_a_setup_answer_leaves_a_rule_the_person_wrote_for_the_same_tool(
    hue_api: ApiHarness,
) -> None:
    api = hue_api
    sam = await api.signup("sam")
    own = await api.client.post(
        "/api/me/approval-rules",
        json={"pattern": "hue_set_light", "decision": "ask"},
        headers=sam.headers,
    )
    assert own.status_code == 201, own.text

    await _setup(api, sam, ["lights"], [])

    rules = {r["pattern"]: (r["decision"], r["source"]) for r in (await _rules(api, sam))["rules"]}
    assert rules == {
        "hue_set_light": ("ask", "person"),
        "hue_set_room": ("allow", "setup"),
        "hue_activate_scene": ("allow", "setup"),
    }


async def test_each_person_sees_and_changes_only_their_own_rules(hue_api: ApiHarness) -> None:
    api = hue_api
    sam = await api.signup("sam")
    kim = await api.signup("kim")
    await _setup(api, sam, ["lights"], [])
    [rule, *_] = (await _rules(api, sam))["rules"]

    assert (await _rules(api, kim))["rules"] == []
    change = {"pattern": "hue_*", "decision": "allow"}
    for response in (
        await api.client.put(
            f"/api/me/approval-rules/{rule['id']}", json=change, headers=kim.headers
        ),
        await api.client.delete(f"/api/me/approval-rules/{rule['id']}", headers=kim.headers),
    ):
        assert error_message(response, 404) == f"there is no approval rule {rule['id']}"

    changed = await api.client.put(
        f"/api/me/approval-rules/{rule['id']}",
        json={"pattern": "hue_set_*", "decision": "ask"},
        headers=sam.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["pattern"], changed.json()["decision"]) == ("hue_set_*", "ask")
    assert changed.json()["source"] == "person"  # edited, so setup leaves it alone
    gone = await api.client.delete(f"/api/me/approval-rules/{rule['id']}", headers=sam.headers)
    assert gone.status_code == 204
    assert rule["id"] not in [r["id"] for r in (await _rules(api, sam))["rules"]]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"pattern": "hue set light", "decision": "allow"}, "is not a tool pattern"),
        ({"pattern": "kind:everything", "decision": "allow"}, "is not a tool pattern"),
        ({"pattern": "hue_*", "decision": "never"}, "decision"),
    ],
)
async def test_a_bad_rule_is_refused_with_a_reason(
    hue_api: ApiHarness, body: dict[str, str], says: str
) -> None:
    sam = await hue_api.signup("sam")

    response = await hue_api.client.post("/api/me/approval-rules", json=body, headers=sam.headers)

    assert says in error_message(response, 422)
    assert (await _rules(hue_api, sam))["rules"] == []


async def test_a_second_rule_for_the_same_pattern_is_refused(hue_api: ApiHarness) -> None:
    sam = await hue_api.signup("sam")
    rule = {"pattern": "hue_*", "decision": "allow"}
    first = await hue_api.client.post("/api/me/approval-rules", json=rule, headers=sam.headers)
    assert first.status_code == 201, first.text

    again = await hue_api.client.post("/api/me/approval-rules", json=rule, headers=sam.headers)

    assert (
        error_message(again, 409)
        == f"you already have a rule for 'hue_*' (rule {first.json()['id']})"
    )


# -- angie setup and angie status ----------------------------------------------------------------


@pytest.fixture
async def cli(sqlite_url: str, data_dir: Path, tmp_path: Path) -> AsyncIterator[CliHarness]:
    async with cli_harness(sqlite_url, data_dir, tmp_path / "home", Brain()) as harness:
        yield harness


async def test_setup_says_which_answers_became_rules_and_status_lists_them(
    cli: CliHarness,
) -> None:
    answers = {
        "account": {"email": "sam@home.test", "password": PASSWORD, "display_name": "Sam"},
        "profile": {"name": "Sam", "address_as": "Sam"},
        "style": {"tone": "brief", "language": "English"},
        "schedule": {
            "timezone": "Europe/Paris",
            "working_hours": "9 to 5",
            "quiet_hours": "22:00 to 07:00",
        },
        "autonomy": {
            "without_asking": ["turn lights on and off", "water the plants"],
            "always_ask": ["spending money"],
        },
        "contact": {"channels": ["web"], "urgent": "the same way"},
    }
    path = cli.home / "answers.json"
    path.write_text(json.dumps(answers))

    done = await cli.run("setup", "--answers", str(path))

    assert done.code == 0, done.err
    said = " ".join(done.out.split())
    assert (
        "turn lights on and off: without asking → hue_set_light, hue_set_room, hue_activate_scene"
    ) in said
    assert "spending money: always ask → *_buy*, *_purchase*, *_pay*, *_order*" in said
    assert "water the plants: not understood: no rule made" in said

    shown = await cli.run("status")

    assert shown.code == 0, shown.err
    said = " ".join(shown.out.split())
    assert (
        "without asking: turn lights on and off (hue_set_light, hue_set_room, hue_activate_scene)"
    ) in said
    assert "always asks first: spending money (*_buy*, *_purchase*, *_pay*, *_order*)" in said


async def test_status_lists_only_the_persons_own_rules(hue_api: ApiHarness) -> None:
    api = hue_api
    sam = await api.signup("sam")
    kim = await api.signup("kim")
    await _setup(api, sam, [], ["spending money"])

    mine = (await api.client.get("/api/status", headers=sam.headers)).json()["approval_rules"]
    theirs = (await api.client.get("/api/status", headers=kim.headers)).json()["approval_rules"]

    assert [(r["pattern"], r["decision"], r["phrase"]) for r in mine] == [
        (p, "ask", "spending money") for p in SPENDING
    ]
    assert theirs == []
