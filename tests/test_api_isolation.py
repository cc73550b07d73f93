"""One person never sees, changes or uses another's objects: A makes one of everything, then B
walks every route of the OpenAPI schema (read at run time, so a new route is covered or must be
exempted here by name): lists never show A's rows, A's ids are a 404 for B, A's ids in B's
bodies are refused, and A's objects come out of it unchanged."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from api_support import Account, ApiHarness
from pydantic_ai.messages import ToolCallPart

from angie.api.app import create_app
from angie.db.models import ChannelIdentity, ChannelKind, Task

MARK = f"zebra{uuid.uuid4().hex[:8]}"
SECRET = f"xoxb-{uuid.uuid4().hex}"

# Routes that are not anyone's own objects, with the reason.
EXEMPT_PREFIXES = {
    "/api/auth/": "signing in and out",
    "/api/users": "admins only: people and invites",
    "/api/system-prompts": "admins only: the household's prompts",
    "/api/mcp/servers": "the household's MCP servers, shared by everyone",
    # This Angie has no personal server to make an account on; they are walked there.
    "/api/mcp/accounts": "each person's own accounts: tests/test_api_mcp_accounts.py",
    "/api/hooks/": "webhook delivery: signed by the hook's secret, no user token",
}
EXEMPT_EXACT = {
    "/api/health": "no data",
    "/api/ready": "no data",
    "/api/me": "the caller themself",
    "/api/me/password": "the caller themself",
    "/api/live": "a stream that never ends by itself: tests/test_api_live_updates.py",
    "/api/channels/{kind}/hooks/{setting_id}": "a platform's call: its signature or secret, "
    "no user token",
}
# Path parameters naming a row id, and the kind of row.
ID_PARAMS = {
    "task_id": "task",
    "event_id": "event",
    "schedule_id": "schedule",
    "workflow_id": "workflow",
    "agent_id": "agent",
    "team_id": "team",
    "webhook_id": "webhook",
    "token_id": "token",
    "conversation_id": "conversation",
    "approval_id": "approval",
    "rule_id": "approval_rule",
    "identity_id": "identity",
}
# Path parameters naming a per-person document: B reaches B's own, never A's.
NAMED = {("/api/channels/", "kind"): "slack", ("/api/prompts/", "name"): "profile"}
# Bodies that pass validation, so the ownership check is what answers (default: {}).
BODIES = {
    "save_prompt": {"body": "B was here"},
    "set_channel": {"config": {}},
    "save_approval_rule": {"pattern": "b_was_here", "decision": "ask"},
}
# Lists that may show A nothing although A owns rows: a live view of running work, and the
# setup interview (its answers are read back from setup's documents, not from any prompt).
# Counts and states, no rows: /api/tasks/stats's own isolation is tests/test_api_task_stats.py.
QUIET = {"/api/status", "/api/onboarding", "/api/tasks/stats"}


@dataclass
class Owned:
    """What A made: ids by kind, and the detail URLs A can read them at."""

    ids: dict[str, set[int]] = field(default_factory=dict)

    def add(self, kind: str, value: int) -> None:
        self.ids.setdefault(kind, set()).add(value)


def _exempt(path: str) -> str | None:
    if path in EXEMPT_EXACT:
        return EXEMPT_EXACT[path]
    return next((why for prefix, why in EXEMPT_PREFIXES.items() if path.startswith(prefix)), None)


def _params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


async def _made(client: httpx.AsyncClient, method: str, url: str, who: Account, **kw: Any) -> Any:
    response = await client.request(method, url, headers=who.headers, **kw)
    assert response.status_code in (200, 201, 202), f"{method} {url}: {response.text}"
    return response.json()


async def _make_everything(api: ApiHarness, a: Account) -> Owned:
    """One object of every kind, made by A through the API (the approval through Angie's
    approval service: no MCP server here makes a tool call that needs one)."""
    c, owned = api.client, Owned()
    agent = await _made(
        c, "POST", "/api/agents", a, json={"name": f"{MARK}_agent", "servers": ["hue"]}
    )
    owned.add("agent", agent["id"])
    team = await _made(
        c, "POST", "/api/teams", a, json={"name": f"{MARK}_team", "members": [agent["id"]]}
    )
    owned.add("team", team["id"])
    step = {"name": "one", "agent_id": agent["id"], "instruction": f"{MARK} step"}
    workflow = await _made(
        c, "POST", "/api/workflows", a, json={"name": f"{MARK} flow", "steps": [step]}
    )
    owned.add("workflow", workflow["id"])
    # Due within a day (so it is "upcoming") but not while the test runs.
    soon = datetime.now(UTC) + timedelta(hours=2)
    schedule = await _made(
        c,
        "POST",
        "/api/schedules",
        a,
        json={"name": f"{MARK} schedule", "cron": f"0 {soon.hour} * * *", "instruction": MARK},
    )
    owned.add("schedule", schedule["id"])
    hook = await _made(
        c, "POST", "/api/webhooks", a, json={"name": f"{MARK} hook", "instruction": MARK}
    )
    owned.add("webhook", hook["id"])
    channel = {"config": {"default_channel": f"#{MARK}"}, "secrets": {"bot_token": SECRET}}
    await _made(c, "PUT", "/api/channels/slack", a, json=channel)
    await _made(c, "PUT", "/api/prompts/profile", a, json={"body": f"{MARK} profile"})
    token = await _made(c, "POST", "/api/me/tokens", a, json={"name": f"{MARK} token"})
    owned.add("token", token["id"])
    rule = {"pattern": f"{MARK}_*", "decision": "allow"}
    owned.add(
        "approval_rule", (await _made(c, "POST", "/api/me/approval-rules", a, json=rule))["id"]
    )
    chat = await _made(c, "POST", "/api/chat", a, json={"text": f"{MARK} hello"})
    owned.add("task", chat["task_id"])
    owned.add("conversation", chat["conversation_id"])
    event = await _made(c, "POST", "/api/events", a, json={"instruction": f"{MARK} event"})
    owned.add("event", event["event_id"])
    owned.add("task", event["task_id"])
    for task_id in owned.ids["task"]:
        await api.settled(task_id)
    async with api.angie.services.database.session() as session:
        task = await session.get(Task, event["task_id"])
        assert task is not None
    call = ToolCallPart(tool_name="hue_set_light", args={"light": MARK}, tool_call_id="call-1")
    (approval,) = await api.angie.services.approvals.request(task, [call])
    owned.add("approval", approval.id)
    async with api.angie.services.database.session() as session:
        identity = ChannelIdentity(
            user_id=a.id, channel=ChannelKind.SLACK, external_id=f"T1:{MARK}", display=MARK
        )
        session.add(identity)
        await session.flush()
        owned.add("identity", identity.id)
    tasks = await _made(c, "GET", "/api/tasks", a, params={"top_level": "false"})
    owned.ids["task"] |= {t["id"] for t in tasks["items"]}
    events = await _made(c, "GET", "/api/events", a)
    owned.ids["event"] |= {e["id"] for e in events["items"]}
    conversations = await _made(c, "GET", "/api/conversations", a)
    owned.ids["conversation"] |= {e["id"] for e in conversations["items"]}
    return owned


def _ids_in(body: Any, kind: str) -> set[tuple[str, int]]:
    """(kind, id) of every id in a response: ``id`` is the route's kind, ``x_id`` is x."""
    found: set[tuple[str, int]] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, int) and not isinstance(value, bool):
                if key == "id":
                    found.add((kind, value))
                elif key in ID_PARAMS:
                    found.add((ID_PARAMS[key], value))
            else:
                found |= _ids_in(value, kind)
    elif isinstance(body, list):
        for item in body:
            found |= _ids_in(item, kind)
    return found


def _kind_of(path: str) -> str:
    """The kind of row a list route returns: the id parameter of its detail route."""
    if path.startswith("/api/me/approval-rules"):
        return "approval_rule"
    resource = path.removeprefix("/api/").split("/")[0]
    return {
        "tasks": "task",
        "events": "event",
        "schedules": "schedule",
        "workflows": "workflow",
        "agents": "agent",
        "teams": "team",
        "webhooks": "webhook",
        "me": "token",
        "conversations": "conversation",
        "approvals": "approval",
        "status": "task",
    }.get(resource, resource)


def _leaks(owned: Owned, body: Any, text: str, kind: str) -> list[str]:
    leaks = [f"{k} {i}" for k, i in sorted(_ids_in(body, kind)) if i in owned.ids.get(k, set())]
    return leaks + [f"text {word!r}" for word in (MARK, SECRET) if word in text]


async def test_nobody_sees_or_touches_anyone_elses_objects(api: ApiHarness) -> None:
    await api.signup("admin")
    a = await api.signup("ann")
    b = await api.signup("bob")
    owned = await _make_everything(api, a)
    schema = create_app(api.angie.services).openapi()
    lists, details, uncovered, problems = [], [], [], []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if _exempt(path):
                continue
            params = _params(path)
            if not params and method == "get":
                lists.append(path)
            elif params:
                known = all(p in ID_PARAMS or (path, p) in _named(path, p) for p in params)
                if known:
                    details.append((method.upper(), path, operation["operationId"]))
                else:
                    uncovered.append(f"{method.upper()} {path}")
    assert not uncovered, f"routes neither covered nor exempted: {uncovered}"

    # A's view first: each list shows A's rows, so B not seeing them means something.
    quiet = []
    for path in lists:
        mine = await api.client.get(path, headers=a.headers)
        assert mine.status_code == 200, f"GET {path} as A: {mine.text}"
        assert SECRET not in mine.text, f"GET {path} shows a channel secret"
        if not _leaks(owned, mine.json(), mine.text, _kind_of(path)):
            quiet.append(path)
    assert set(quiet) <= QUIET, f"A's own objects do not show in {sorted(set(quiet) - QUIET)}"
    before = await _snapshot(api, a, details, owned)

    for path in lists:
        theirs = await api.client.get(path, headers=b.headers)
        if theirs.status_code != 200:
            problems.append(f"GET {path} as B → {theirs.status_code} {theirs.text[:200]}")
        elif leaks := _leaks(owned, theirs.json(), theirs.text, _kind_of(path)):
            problems.append(f"GET {path} shows B A's {leaks}")

    for method, path, operation_id in details:
        for url in _urls(path, owned):
            body = BODIES.get(operation_id, {}) if method != "GET" else None
            response = await api.client.request(method, url, json=body, headers=b.headers)
            named = any((path, p) in _named(path, p) for p in _params(path))
            if leaks := _leaks(owned, _json(response), response.text, "-"):
                problems.append(f"{method} {url} shows B A's {leaks}")
            elif not named and response.status_code != 404:
                problems.append(f"{method} {url} as B → {response.status_code}, not 404")

    after = await _snapshot(api, a, details, owned)
    changed = [url for url in before if before[url] != after.get(url)]
    assert not problems, "\n".join(problems)
    assert not changed, f"B's requests changed A's objects: {changed}"


def _named(path: str, param: str) -> set[tuple[str, str]]:
    return {(path, p) for (prefix, p) in NAMED if path.startswith(prefix) and p == param}


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except json.JSONDecodeError:
        return None


def _urls(path: str, owned: Owned) -> list[str]:
    """The path with A's ids (one URL per id of A's of that kind) or the named document."""
    urls = [path]
    for param in _params(path):
        if param in ID_PARAMS:
            values = [str(v) for v in sorted(owned.ids.get(ID_PARAMS[param], set()))]
            assert values, f"A owns no {ID_PARAMS[param]}: add one to _make_everything"
        else:
            values = [next(v for (prefix, p), v in NAMED.items() if path.startswith(prefix))]
        urls = [u.replace(f"{{{param}}}", v) for u in urls for v in values]
    return urls


async def _snapshot(
    api: ApiHarness, a: Account, details: list[tuple[str, str, str]], owned: Owned
) -> dict[str, str]:
    """What A reads at every detail route: B's requests must not change any of it."""
    seen = {}
    for method, path, _ in details:
        if method != "GET":
            continue
        for url in _urls(path, owned):
            response = await api.client.get(url, headers=a.headers)
            seen[url] = f"{response.status_code} {response.text}"
    return seen


# -- references: A's ids inside B's bodies ---------------------------------------------------------

REFERENCE_FIELDS = {
    "agent_id",
    "team_id",
    "workflow_id",
    "members",
    "task_id",
    "event_id",
    "context",
}


def _schema_fields(schema: dict[str, Any], node: Any, depth: int = 0) -> set[str]:
    """Property names anywhere in a request body's schema ($refs followed, a few levels)."""
    if depth > 6:
        return set()
    if isinstance(node, list):
        return set().union(*(_schema_fields(schema, n, depth + 1) for n in node))
    if not isinstance(node, dict):
        return set()
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _schema_fields(schema, schema["components"]["schemas"][name], depth + 1)
    found = set(node.get("properties", {}))
    return found.union(*(_schema_fields(schema, n, depth + 1) for n in node.values()))


def _fresh() -> str:
    """A name nobody has: so a name clash never answers before the ownership check."""
    return f"bob_{uuid.uuid4().hex[:8]}"


def _references(a: Owned, mine: dict[str, int]) -> dict[str, list[tuple[str, str, Any]]]:
    """For each operation whose body names other objects: requests naming A's instead."""
    agent, team, flow = (min(a.ids[k]) for k in ("agent", "team", "workflow"))
    targets: list[dict[str, int]] = [{"agent_id": agent}, {"team_id": team}, {"workflow_id": flow}]
    steps = [
        [{"name": "s", "agent_id": agent, "instruction": "go"}],
        [{"name": "s", "team_id": team, "instruction": "go"}],
    ]

    def schedule() -> dict[str, str]:
        return {"name": _fresh(), "cron": "0 0 1 1 *", "instruction": "go"}

    looking_at = [
        {"kind": kind, "id": min(a.ids[kind])}
        for kind in ("task", "event", "workflow", "agent", "team")
    ]
    return {
        "chat": [("POST", "/api/chat", {"text": "why?", "context": c}) for c in looking_at],
        "chat_stream": [
            ("POST", "/api/chat/stream", {"text": "why?", "context": c}) for c in looking_at
        ],
        "submit_event": [("POST", "/api/events", {"instruction": "go", **t}) for t in targets],
        "create_schedule": [("POST", "/api/schedules", {**schedule(), **t}) for t in targets],
        "update_schedule": [("PATCH", f"/api/schedules/{mine['schedule']}", t) for t in targets],
        "create_webhook": [("POST", "/api/webhooks", {"name": _fresh(), **t}) for t in targets],
        "update_webhook": [("PATCH", f"/api/webhooks/{mine['webhook']}", t) for t in targets],
        "create_team": [("POST", "/api/teams", {"name": _fresh(), "members": [agent]})],
        "update_team": [("PATCH", f"/api/teams/{mine['team']}", {"members": [agent]})],
        "create_workflow": [
            ("POST", "/api/workflows", {"name": _fresh(), "steps": step}) for step in steps
        ],
        "update_workflow": [
            ("PATCH", f"/api/workflows/{mine['workflow']}", {"steps": step}) for step in steps
        ],
    }


async def _make_own(api: ApiHarness, b: Account) -> dict[str, int]:
    """B's own schedule, webhook, team and workflow, over an agent of the household's."""
    c = api.client
    agents = await _made(c, "GET", "/api/agents", b, params={"builtin": "true"})
    agent = agents["items"][0]["id"]
    step = {"name": "s", "agent_id": agent, "instruction": "go"}
    made = {
        "schedule": ("/api/schedules", {"name": "bob's", "cron": "0 0 1 1 *", "instruction": "go"}),
        "webhook": ("/api/webhooks", {"name": "bob's"}),
        "team": ("/api/teams", {"name": "bobs_team", "members": [agent]}),
        "workflow": ("/api/workflows", {"name": "bob's", "steps": [step]}),
    }
    return {k: (await _made(c, "POST", url, b, json=body))["id"] for k, (url, body) in made.items()}


async def test_nobody_uses_anyone_elses_objects_by_reference(api: ApiHarness) -> None:
    await api.signup("admin")
    a = await api.signup("ann")
    b = await api.signup("bob")
    owned = await _make_everything(api, a)
    mine = await _make_own(api, b)
    table = _references(owned, mine)
    schema = create_app(api.angie.services).openapi()
    uncovered = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if _exempt(path) or body is None:
                continue
            if _schema_fields(schema, body) & REFERENCE_FIELDS and (
                operation["operationId"] not in table
            ):
                uncovered.append(f"{method.upper()} {path} ({operation['operationId']})")
    assert not uncovered, f"bodies naming other objects, not covered here: {uncovered}"

    lists = ["/api/events", "/api/tasks", "/api/schedules", "/api/webhooks"]
    lists += ["/api/teams", "/api/workflows"]
    own = [f"/api/{kind}s/{row}" for kind, row in mine.items()]
    before = {url: (await api.client.get(url, headers=b.headers)).text for url in lists + own}
    problems = []
    for operation_id, requests in table.items():
        for method, url, body in requests:
            response = await api.client.request(method, url, json=body, headers=b.headers)
            if response.status_code not in (404, 422) or MARK in response.text:
                problems.append(
                    f"{operation_id}: {method} {url} {body} as B → "
                    f"{response.status_code} {response.text[:200]}"
                )
    after = {url: (await api.client.get(url, headers=b.headers)).text for url in lists + own}
    assert not problems, "\n".join(problems)
    assert [url for url in before if before[url] != after[url]] == []
