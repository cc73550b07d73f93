"""Scratch files: a conversation's working files, written and read by agents through their
tools (driven here by the scripted model through the real API), bounded per conversation,
swept after their retention, kept apart between conversations and listed read-only."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiHarness, api_harness, make_api_angie
from conftest import _from_template
from fakes.brain import Brain

from angie.storage import InvalidKey, QuotaExceeded, StorageNotFound, open_storage
from angie.storage.scratch import ScratchFiles


def files_at(root: Path, max_bytes: int = 100) -> ScratchFiles:
    return ScratchFiles(open_storage(str(root)), max_bytes=max_bytes, retention=timedelta(days=30))


# -- ScratchFiles ------------------------------------------------------------------------------


async def test_write_read_list_delete(tmp_path: Path) -> None:
    files = files_at(tmp_path)
    await files.write(7, "notes/plan.md", b"step one")
    assert await files.read(7, "notes/plan.md") == b"step one"
    assert [(f.key, f.size) for f in await files.list(7)] == [("notes/plan.md", 8)]
    await files.delete(7, "notes/plan.md")
    assert await files.list(7) == []


async def test_over_the_conversation_quota_is_refused_and_nothing_written(
    tmp_path: Path,
) -> None:
    files = files_at(tmp_path, max_bytes=100)
    await files.write(1, "a.txt", b"x" * 60)
    with pytest.raises(QuotaExceeded, match=r"to 120 bytes, over its 100"):
        await files.write(1, "b.txt", b"y" * 60)
    assert [f.key for f in await files.list(1)] == ["a.txt"]
    # Replacing a file counts its new size only; another conversation has its own room.
    await files.write(1, "a.txt", b"z" * 100)
    await files.write(2, "b.txt", b"y" * 100)


async def test_conversations_do_not_see_each_others_files(tmp_path: Path) -> None:
    files = files_at(tmp_path)
    await files.write(1, "secret.txt", b"one's")
    with pytest.raises(StorageNotFound, match=r"no scratch file 'secret\.txt'"):
        await files.read(2, "secret.txt")
    for name in ("../1/secret.txt", "/scratch/1/secret.txt", "x/../../1/secret.txt"):
        with pytest.raises(InvalidKey):
            await files.read(2, name)
    assert await files.list(2) == []


async def test_sweep_removes_only_files_past_retention(tmp_path: Path) -> None:
    files = files_at(tmp_path)
    await files.write(1, "old.txt", b"old")
    await files.write(2, "new.txt", b"new")
    later = datetime.now(UTC) + timedelta(days=30, minutes=1)
    # Only the first is that old: its time is set back on disk.
    stamp = (datetime.now(UTC) - timedelta(days=31)).timestamp()
    os.utime(tmp_path / "scratch" / "1" / "old.txt", (stamp, stamp))
    assert await files.sweep() == 1
    assert await files.list(1) == []
    assert [f.key for f in await files.list(2)] == ["new.txt"]
    assert await files.sweep(now=later) == 1
    assert await files.list(2) == []


# -- through the agents' tools and the API -------------------------------------------------------


def scratch_plan(request: str, tools: list[str]) -> tuple[str, dict[str, Any]] | None:
    """``scratch write NAME TEXT`` / ``scratch read NAME`` / ``scratch list`` / ``… delete``."""
    match = re.search(r"scratch (write|read|list|delete)\s*(\S*)\s*(.*)", request, re.S)
    if match is None or f"scratch_{match[1]}" not in tools:
        return None
    verb, name, text = match[1], match[2], match[3]
    if verb == "write":
        return "scratch_write", {"name": name, "content": text}
    if verb == "list":
        return "scratch_list", {}
    return f"scratch_{verb}", {"name": name}


@pytest.fixture
async def api_scratch(
    sqlite_url: str, data_dir: Path, sqlite_template: Path
) -> AsyncIterator[ApiHarness]:
    url = _from_template(sqlite_url, sqlite_template)
    brain = Brain(plans={"scratch": scratch_plan})
    angie = make_api_angie(url, data_dir, brain, scratch_max_bytes=2048)
    async with api_harness(angie) as harness:
        yield harness


async def say(api: ApiHarness, headers: dict[str, str], text: str, thread: str = "") -> Any:
    body = {"text": text, **({"thread": thread} if thread else {})}
    answer = await api.client.post("/api/chat", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_an_agent_keeps_notes_across_turns_and_the_person_sees_them(
    api_scratch: ApiHarness, data_dir: Path
) -> None:
    sam = await api_scratch.signup("sam")

    wrote = await say(api_scratch, sam.headers, "scratch write notes/plan.md buy milk")
    read = await say(api_scratch, sam.headers, "scratch read notes/plan.md")
    listed = await api_scratch.client.get(
        f"/api/conversations/{wrote['conversation_id']}/files", headers=sam.headers
    )

    assert wrote["reply"].startswith("done: saved notes/plan.md (8 bytes); 2040 bytes")
    assert read["reply"] == "done: buy milk"
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [(f["name"], f["size"]) for f in body["items"]] == [("notes/plan.md", 8)]
    assert (body["used_bytes"], body["max_bytes"]) == (8, 2048)
    stored = data_dir / "files" / "scratch" / str(wrote["conversation_id"]) / "notes" / "plan.md"
    assert stored.read_bytes() == b"buy milk"


async def test_the_model_cannot_reach_another_conversations_files(
    api_scratch: ApiHarness,
) -> None:
    sam, lee = await api_scratch.signup("sam"), await api_scratch.signup("lee")
    sams = await say(api_scratch, sam.headers, "scratch write secret.txt sam's secret")
    sams_id = sams["conversation_id"]

    climbs = await say(api_scratch, lee.headers, f"scratch read ../{sams_id}/secret.txt")
    same_name = await say(api_scratch, lee.headers, "scratch read secret.txt")
    absolute = await say(api_scratch, lee.headers, f"scratch read /scratch/{sams_id}/secret.txt")
    listed = await say(api_scratch, lee.headers, "scratch list")
    theirs = await api_scratch.client.get(
        f"/api/conversations/{sams_id}/files", headers=lee.headers
    )

    for reply in (climbs["reply"], same_name["reply"], absolute["reply"], listed["reply"]):
        assert "sam's secret" not in reply
    assert "names cannot climb out" in climbs["reply"]
    assert "no scratch file 'secret.txt'" in same_name["reply"]
    assert "is absolute" in absolute["reply"]
    assert listed["reply"] == "done: no scratch files yet"
    assert theirs.status_code == 404
    # Sam's other thread is another conversation, with its own files.
    other = await say(api_scratch, sam.headers, "scratch read secret.txt", thread="garden")
    assert "no scratch file" in other["reply"]


async def test_an_agent_over_the_quota_is_told_why(api_scratch: ApiHarness) -> None:
    sam = await api_scratch.signup("sam")

    big = await say(api_scratch, sam.headers, "scratch write big.txt " + "x" * 3000)
    listed = await api_scratch.client.get(
        f"/api/conversations/{big['conversation_id']}/files", headers=sam.headers
    )

    assert "over its 2048" in big["reply"]
    assert listed.json()["items"] == []


async def test_angie_sweeps_old_scratch_files_when_she_starts(
    sqlite_url: str, data_dir: Path, sqlite_template: Path
) -> None:
    old = data_dir / "files" / "scratch" / "5" / "old.txt"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"last month's notes")
    stamp = (datetime.now(UTC) - timedelta(days=3)).timestamp()
    os.utime(old, (stamp, stamp))
    fresh = old.with_name("fresh.txt")
    fresh.write_bytes(b"today's")
    url = _from_template(sqlite_url, sqlite_template)
    angie = make_api_angie(url, data_dir, Brain(), scratch_retention_days=2)

    async with api_harness(angie):
        for _ in range(100):
            if not old.exists():
                break
            await asyncio.sleep(0.05)

    assert not old.exists()
    assert fresh.read_bytes() == b"today's"
