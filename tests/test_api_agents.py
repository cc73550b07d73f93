"""Agents and teams through the HTTP API: the household's built-in fleet, each person's own
agents and teams (invisible to everyone else), validation, admin rules and deletes refused while
a workflow or schedule still uses them."""

from __future__ import annotations

from typing import Any

from api_support import (
    ApiHarness,
    agent_id,
    count_rows,
    error_message,
    make_agent,
    make_team,
    make_workflow,
    step,
)
from sqlalchemy import select

from angie.db.models import Agent, Schedule, Team, TeamMember

AGENTS = "/api/agents"
TEAMS = "/api/teams"


# -- agents ---------------------------------------------------------------------------------------


async def test_list_shows_the_built_in_fleet_with_servers_and_availability(
    api: ApiHarness,
) -> None:
    sam = await api.signup("sam")

    listed = await api.client.get(AGENTS, headers=sam.headers)

    assert listed.status_code == 200, listed.text
    page = listed.json()
    names = [a["name"] for a in page["items"]]
    assert names == sorted(names)
    assert {"hue", "email", "workflows"} <= set(names)
    assert page["total"] == len(names)
    hue = next(a for a in page["items"] if a["name"] == "hue")
    assert hue["servers"] == ["hue"]
    assert hue["builtin"] is True
    assert hue["shared"] is True
    # This Angie runs no MCP servers: the agent is listed, and says what it needs.
    assert hue["available"] is False
    assert hue["unavailable_reason"] == "needs the hue MCP server"


async def test_list_filters_by_name_builtin_and_enabled_and_sorts(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    await make_agent(api, sam, "lamp_helper", enabled=False)

    mail = await api.client.get(AGENTS, params={"q": "mail"}, headers=sam.headers)
    mine = await api.client.get(AGENTS, params={"builtin": "false"}, headers=sam.headers)
    off = await api.client.get(AGENTS, params={"enabled": "false"}, headers=sam.headers)
    desc = await api.client.get(AGENTS, params={"sort": "-name", "limit": 2}, headers=sam.headers)

    assert [a["name"] for a in mail.json()["items"]] == ["email"]
    assert [a["name"] for a in mine.json()["items"]] == ["lamp_helper"]
    assert [a["name"] for a in off.json()["items"]] == ["lamp_helper"]
    assert [a["name"] for a in desc.json()["items"]] == ["workflows", "tasks"]
    assert desc.json()["limit"] == 2


async def test_list_refuses_an_unknown_sort(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    message = error_message(
        await api.client.get(AGENTS, params={"sort": "prompt"}, headers=sam.headers), 422
    )

    assert "created_at, name" in message


async def test_create_agent_then_read_it_back(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    made = await make_agent(
        api,
        sam,
        "night_lights",
        description="Dims the house at night.",
        prompt="Be gentle with the lights.",
        tool_filter=["hue_*", "!hue_pair"],
        model="openai:gpt-4o-mini",
    )
    again = await api.client.get(f"{AGENTS}/{made['id']}", headers=sam.headers)

    assert made["name"] == "night_lights"
    assert made["servers"] == ["hue"]
    assert made["tool_filter"] == ["hue_*", "!hue_pair"]
    assert made["builtin"] is False
    assert made["shared"] is False
    assert made["enabled"] is True
    assert again.status_code == 200
    assert again.json() == made
    async with api.angie.services.database.session() as session:
        row = await session.get(Agent, made["id"])
        assert row is not None
        assert row.user_id == sam.id


BAD_NAMES = [
    ("Hue_helper", "lower-case letters"),
    ("x", "lower-case letters"),
    ("1lights", "lower-case letters"),
    ("night lights", "lower-case letters"),
    ("a" * 65, "lower-case letters"),
    ("team_lights", "team_"),
]


async def test_an_agent_sets_its_own_limits_and_null_gives_them_back(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    made = await make_agent(api, sam, "careful", limits={"tool_calls": 5, "tokens": 20_000})
    assert made["limits"] == {"tool_calls": 5, "tokens": 20_000}

    changed = await api.client.patch(
        f"{AGENTS}/{made['id']}", json={"limits": {"model_requests": 3}}, headers=sam.headers
    )
    assert changed.json()["limits"] == {"model_requests": 3}
    reset = await api.client.patch(
        f"{AGENTS}/{made['id']}", json={"limits": None}, headers=sam.headers
    )
    assert reset.json()["limits"] is None
    async with api.angie.services.database.session() as session:
        stored = await session.scalar(select(Agent.limits).where(Agent.id == made["id"]))
    assert stored is None


async def test_limits_must_be_positive_and_known(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    before = await count_rows(api, Agent)
    for limits, field in (
        ({"tool_calls": 0}, "tool_calls"),
        ({"tokens": 10**9}, "tokens"),
        ({"minutes": 5}, "minutes"),
    ):
        body = {"name": "careful", "servers": ["hue"], "limits": limits}
        refused = await api.client.post(AGENTS, json=body, headers=sam.headers)
        assert field in error_message(refused, 422)
    assert await count_rows(api, Agent) == before


async def test_create_refuses_a_name_angie_cannot_ask_by(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    before = await count_rows(api, Agent)

    for name, why in BAD_NAMES:
        response = await api.client.post(
            AGENTS, json={"name": name, "servers": ["hue"]}, headers=sam.headers
        )
        assert why in error_message(response, 422), name

    assert await count_rows(api, Agent) == before


async def test_create_names_the_unknown_server(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    before = await count_rows(api, Agent)

    response = await api.client.post(
        AGENTS, json={"name": "weather", "servers": ["hue", "weather"]}, headers=sam.headers
    )

    message = error_message(response, 422)
    assert "'weather'" in message
    assert "hue" in message  # the known servers are listed
    assert await count_rows(api, Agent) == before


BAD_TOOL_FILTERS: list[Any] = [
    [f"hue_{i}" for i in range(51)],
    [5],
    ["hue set light"],
    "hue_*",
    [""],
]


async def test_create_refuses_a_bad_tool_filter(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    before = await count_rows(api, Agent)

    for tool_filter in BAD_TOOL_FILTERS:
        response = await api.client.post(
            AGENTS,
            json={"name": "filtered", "servers": ["hue"], "tool_filter": tool_filter},
            headers=sam.headers,
        )
        assert "tool_filter" in error_message(response, 422), tool_filter

    assert await count_rows(api, Agent) == before


async def test_create_refuses_unknown_fields_and_no_servers(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    extra = await api.client.post(
        AGENTS, json={"name": "extra", "servers": ["hue"], "colour": "red"}, headers=sam.headers
    )
    none = await api.client.post(
        AGENTS, json={"name": "lonely", "servers": []}, headers=sam.headers
    )

    assert "colour" in error_message(extra, 422)
    assert "servers" in error_message(none, 422)


async def test_create_refuses_a_taken_name(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    before = await count_rows(api, Agent)

    response = await api.client.post(
        AGENTS, json={"name": "hue", "servers": ["hue"]}, headers=sam.headers
    )

    assert "'hue' already exists" in error_message(response, 409)
    assert await count_rows(api, Agent) == before


async def test_an_agent_is_invisible_to_everyone_but_its_creator(api: ApiHarness) -> None:
    await api.signup("admin")
    ana = await api.signup("ana")
    ben = await api.signup("ben")
    made = await make_agent(api, ana, "ana_helper")
    url = f"{AGENTS}/{made['id']}"

    listed = await api.client.get(AGENTS, params={"limit": 200}, headers=ben.headers)
    read = await api.client.get(url, headers=ben.headers)
    patched = await api.client.patch(url, json={"prompt": "mine now"}, headers=ben.headers)
    deleted = await api.client.delete(url, headers=ben.headers)

    assert "ana_helper" not in {a["name"] for a in listed.json()["items"]}
    for response in (read, patched, deleted):
        assert error_message(response, 404) == f"there is no agent {made['id']}"
    ana_view = await api.client.get(url, headers=ana.headers)
    assert ana_view.status_code == 200
    assert ana_view.json()["prompt"] == ""


async def test_angie_offers_a_private_agent_only_to_its_creator(api: ApiHarness) -> None:
    await api.signup("admin")
    ana = await api.signup("ana")
    ben = await api.signup("ben")
    await make_agent(api, ana, "ana_helper")

    for_ana = await api.angie.services.factory.roster(ana.id)
    for_ben = await api.angie.services.factory.roster(ben.id)

    assert "ana_helper" in {e.name for e in for_ana.entries}
    assert "ana_helper" not in {e.name for e in for_ben.entries}
    assert "hue" in {e.name for e in for_ben.entries}


async def test_patch_changes_your_own_agent(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    made = await make_agent(api, sam, "helper", model="openai:gpt-4o")
    url = f"{AGENTS}/{made['id']}"

    response = await api.client.patch(
        url,
        json={
            "name": "lights_and_code",
            "prompt": "Lights first.",
            "servers": ["hue", "github"],
            "model": None,
            "enabled": False,
        },
        headers=sam.headers,
    )

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["name"] == "lights_and_code"
    assert changed["servers"] == ["github", "hue"]
    assert changed["model"] is None
    assert changed["enabled"] is False
    assert changed["updated_at"] >= made["updated_at"]
    assert (await api.client.get(url, headers=sam.headers)).json() == changed


async def test_patch_refuses_null_a_taken_name_and_unknown_servers(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    made = await make_agent(api, sam, "helper", prompt="keep me")
    url = f"{AGENTS}/{made['id']}"

    null = await api.client.patch(url, json={"prompt": None}, headers=sam.headers)
    taken = await api.client.patch(url, json={"name": "spotify"}, headers=sam.headers)
    unknown = await api.client.patch(url, json={"servers": ["nope"]}, headers=sam.headers)

    assert "prompt" in error_message(null, 422)
    assert "'spotify' already exists" in error_message(taken, 409)
    assert "'nope'" in error_message(unknown, 422)
    after = (await api.client.get(url, headers=sam.headers)).json()
    assert (after["name"], after["prompt"], after["servers"]) == ("helper", "keep me", ["hue"])


async def test_only_an_admin_changes_a_built_in_agent(api: ApiHarness) -> None:
    admin = await api.signup("admin")
    sam = await api.signup("sam")
    hue = await agent_id(api, "hue")
    url = f"{AGENTS}/{hue}"

    refused = await api.client.patch(url, json={"enabled": False}, headers=sam.headers)
    allowed = await api.client.patch(
        url,
        json={"enabled": False, "prompt": "Warm white after 9pm.", "tool_filter": ["hue_*"]},
        headers=admin.headers,
    )

    assert "admin" in error_message(refused, 403)
    assert allowed.status_code == 200, allowed.text
    seen_by_sam = (await api.client.get(url, headers=sam.headers)).json()
    assert seen_by_sam["enabled"] is False
    assert seen_by_sam["prompt"] == "Warm white after 9pm."


async def test_a_built_in_agent_keeps_its_name_and_servers(api: ApiHarness) -> None:
    admin = await api.signup("admin")
    hue = await agent_id(api, "hue")
    url = f"{AGENTS}/{hue}"

    renamed = await api.client.patch(url, json={"name": "lights"}, headers=admin.headers)
    moved = await api.client.patch(url, json={"servers": ["github"]}, headers=admin.headers)
    same = await api.client.patch(
        url, json={"name": "hue", "servers": ["hue"], "enabled": True}, headers=admin.headers
    )

    assert "name" in error_message(renamed, 409)
    assert "servers" in error_message(moved, 409)
    assert same.status_code == 200, same.text
    assert same.json()["name"] == "hue"


async def test_a_built_in_agent_can_be_disabled_not_deleted(api: ApiHarness) -> None:
    admin = await api.signup("admin")
    hue = await agent_id(api, "hue")

    response = await api.client.delete(f"{AGENTS}/{hue}", headers=admin.headers)

    assert error_message(response, 409) == "a built-in agent can be disabled, not deleted"
    assert (await api.client.get(f"{AGENTS}/{hue}", headers=admin.headers)).status_code == 200


async def test_delete_your_own_agent(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    made = await make_agent(api, sam, "short_lived")
    url = f"{AGENTS}/{made['id']}"

    deleted = await api.client.delete(url, headers=sam.headers)

    assert deleted.status_code == 204
    assert error_message(await api.client.get(url, headers=sam.headers), 404)
    assert error_message(await api.client.delete(url, headers=sam.headers), 404)


async def test_absurd_ids_are_refused(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    for absurd in ("0", "-1", str(2**31), "abc"):
        error_message(await api.client.get(f"{AGENTS}/{absurd}", headers=sam.headers), 422)
        error_message(await api.client.get(f"{TEAMS}/{absurd}", headers=sam.headers), 422)


async def test_agents_need_a_signed_in_person(api: ApiHarness) -> None:
    error_message(await api.client.get(AGENTS), 401)


async def test_an_agent_a_workflow_or_schedule_uses_is_not_deleted(api_db: ApiHarness) -> None:
    api = api_db
    sam = await api.signup("sam")
    made = await make_agent(api, sam, "porch_light")
    url = f"{AGENTS}/{made['id']}"
    workflow = await make_workflow(
        api, sam, "evening", [step("porch", "porch on", agent_id=made["id"])]
    )
    async with api.angie.services.database.session() as session:
        session.add(Schedule(user_id=sam.id, name="dusk", cron="0 18 * * *", agent_id=made["id"]))

    refused = await api.client.delete(url, headers=sam.headers)

    message = error_message(refused, 409)
    assert "workflow 'evening'" in message
    assert "schedule 'dusk'" in message
    assert (await api.client.get(url, headers=sam.headers)).status_code == 200

    # Once nothing uses it, it goes.
    gone = await api.client.delete(f"/api/workflows/{workflow['id']}", headers=sam.headers)
    assert gone.status_code == 204, gone.text
    async with api.angie.services.database.session() as session:
        schedule = (await session.scalars(select(Schedule).where(Schedule.name == "dusk"))).one()
        await session.delete(schedule)
    assert (await api.client.delete(url, headers=sam.headers)).status_code == 204


# -- teams ----------------------------------------------------------------------------------------


async def test_list_teams_shows_the_seeded_teams_with_members_in_order(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    listed = await api.client.get(TEAMS, headers=sam.headers)

    assert listed.status_code == 200, listed.text
    teams = {t["name"]: t for t in listed.json()["items"]}
    assert [m["name"] for m in teams["home"]["members"]] == ["hue", "home_assistant", "spotify"]
    assert teams["home"]["builtin"] is True
    assert teams["home"]["available"] is False


async def test_create_team_keeps_the_members_order(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    mine = await make_agent(api, sam, "porch_light")
    spotify = await agent_id(api, "spotify")

    team = await make_team(api, sam, "party", [spotify, mine["id"]], prompt="Music first.")
    again = await api.client.get(f"{TEAMS}/{team['id']}", headers=sam.headers)

    assert team["members"] == [
        {"agent_id": spotify, "name": "spotify"},
        {"agent_id": mine["id"], "name": "porch_light"},
    ]
    assert team["builtin"] is False
    assert again.json() == team


async def test_create_team_refuses_agents_you_cannot_see_and_duplicates(api: ApiHarness) -> None:
    await api.signup("admin")
    ana = await api.signup("ana")
    ben = await api.signup("ben")
    anas = await make_agent(api, ana, "ana_helper")
    hue = await agent_id(api, "hue")
    before = await count_rows(api, Team)

    foreign = await api.client.post(
        TEAMS, json={"name": "heist", "members": [hue, anas["id"]]}, headers=ben.headers
    )
    missing = await api.client.post(
        TEAMS, json={"name": "ghosts", "members": [999_999]}, headers=ben.headers
    )
    twice = await api.client.post(
        TEAMS, json={"name": "echo", "members": [hue, hue]}, headers=ben.headers
    )
    empty = await api.client.post(TEAMS, json={"name": "none", "members": []}, headers=ben.headers)
    taken = await api.client.post(
        TEAMS, json={"name": "home", "members": [hue]}, headers=ben.headers
    )

    assert f"there is no agent {anas['id']}" in error_message(foreign, 422)
    assert "there is no agent 999999" in error_message(missing, 422)
    assert "only once" in error_message(twice, 422)
    assert "members" in error_message(empty, 422)
    assert "'home' already exists" in error_message(taken, 409)
    assert await count_rows(api, Team) == before


async def test_a_team_is_invisible_to_everyone_but_its_creator(api: ApiHarness) -> None:
    await api.signup("admin")
    ana = await api.signup("ana")
    ben = await api.signup("ben")
    team = await make_team(api, ana, "ana_team", [await agent_id(api, "hue")])
    url = f"{TEAMS}/{team['id']}"

    listed = await api.client.get(TEAMS, headers=ben.headers)
    responses = [
        await api.client.get(url, headers=ben.headers),
        await api.client.patch(url, json={"enabled": False}, headers=ben.headers),
        await api.client.delete(url, headers=ben.headers),
    ]

    assert "ana_team" not in {t["name"] for t in listed.json()["items"]}
    for response in responses:
        assert error_message(response, 404) == f"there is no team {team['id']}"
    assert (await api.client.get(url, headers=ana.headers)).json()["enabled"] is True


async def test_patch_team_replaces_the_members(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    hue, spotify, github = [await agent_id(api, n) for n in ("hue", "spotify", "github")]
    team = await make_team(api, sam, "mix", [hue, spotify])
    url = f"{TEAMS}/{team['id']}"

    response = await api.client.patch(
        url, json={"members": [github, hue], "name": "mix_two"}, headers=sam.headers
    )

    assert response.status_code == 200, response.text
    assert [m["name"] for m in response.json()["members"]] == ["github", "hue"]
    assert response.json()["name"] == "mix_two"
    async with api.angie.services.database.session() as session:
        rows = (
            await session.execute(
                select(TeamMember.agent_id, TeamMember.position)
                .where(TeamMember.team_id == team["id"])
                .order_by(TeamMember.position)
            )
        ).all()
    assert [tuple(r) for r in rows] == [(github, 0), (hue, 1)]


async def test_household_teams_are_changed_by_admins_only_and_never_deleted(
    api: ApiHarness,
) -> None:
    admin = await api.signup("admin")
    sam = await api.signup("sam")
    home = next(
        t
        for t in (await api.client.get(TEAMS, headers=sam.headers)).json()["items"]
        if t["name"] == "home"
    )
    url = f"{TEAMS}/{home['id']}"
    private = await make_agent(api, admin, "admin_helper")

    refused = await api.client.patch(url, json={"enabled": False}, headers=sam.headers)
    leak = await api.client.patch(url, json={"members": [private["id"]]}, headers=admin.headers)
    allowed = await api.client.patch(url, json={"enabled": False}, headers=admin.headers)
    deleted = await api.client.delete(url, headers=admin.headers)

    assert "admin" in error_message(refused, 403)
    assert "household" in error_message(leak, 422)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["enabled"] is False
    assert [m["name"] for m in allowed.json()["members"]] == [m["name"] for m in home["members"]]
    assert "disabled, not deleted" in error_message(deleted, 409)


async def test_a_team_a_workflow_uses_is_not_deleted(api_db: ApiHarness) -> None:
    api = api_db
    sam = await api.signup("sam")
    team = await make_team(api, sam, "crew", [await agent_id(api, "hue")])
    workflow = await make_workflow(api, sam, "crew_run", [step("go", "go", team_id=team["id"])])

    refused = await api.client.delete(f"{TEAMS}/{team['id']}", headers=sam.headers)

    assert "workflow 'crew_run'" in error_message(refused, 409)
    assert (await api.client.get(f"{TEAMS}/{team['id']}", headers=sam.headers)).status_code == 200
    await api.client.delete(f"/api/workflows/{workflow['id']}", headers=sam.headers)
    assert (
        await api.client.delete(f"{TEAMS}/{team['id']}", headers=sam.headers)
    ).status_code == 204
