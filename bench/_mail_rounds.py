"""What the mail benches share: the sample inbox, the rounds through a server's tools, the
report. Each bench supplies its server and the vendor SDK doing the same calls."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage

from fastmcp import Client, FastMCP

MESSAGES = int(os.environ.get("ANGIE_BENCH_MAIL_MESSAGES", "1000"))
ROUNDS = int(os.environ.get("ANGIE_BENCH_SAMPLES", "3"))
PAGE = 100

#: (search seconds, read seconds) for one round
Round = tuple[float, float]


def sender(n: int) -> str:
    return f"sender{n % 37}@example.com"


def subject(n: int) -> str:
    return f"Message {n}"


def body(n: int) -> str:
    return f"Hello, this is message number {n}.\n" + "Some ordinary text. " * 40


def sample(n: int) -> bytes:
    """Message ``n`` of the sample inbox, as RFC 5322 bytes."""
    message = EmailMessage()
    message["From"] = sender(n)
    message["To"] = "me@example.com"
    message["Subject"] = subject(n)
    message["Date"] = f"Tue, 01 Dec 2026 {n // 60 % 24:02d}:{n % 60:02d}:00 +0000"
    message.set_content(body(n))
    return message.as_bytes()


async def through_angie(server: FastMCP) -> Round:
    """Page through the inbox with ``search_messages``, then ``read_message`` each one."""
    async with Client(server) as client:
        start = time.perf_counter()
        ids: list[str] = []
        page: str | None = None
        while True:
            arguments: dict[str, object] = {"limit": PAGE}
            if page is not None:
                arguments["page"] = page
            found = (await client.call_tool("search_messages", arguments)).structured_content
            assert found is not None
            ids += [m["id"] for m in found["messages"]]
            page = found["next_page"]
            if page is None:
                break
        searched = time.perf_counter() - start
        assert len(ids) == MESSAGES, len(ids)
        start = time.perf_counter()
        for message_id in ids:
            read = await client.call_tool("read_message", {"message_id": message_id})
            assert read.structured_content is not None
        return searched, time.perf_counter() - start


async def alternate(
    server: Callable[[], FastMCP], bare: Callable[[], Round]
) -> tuple[list[Round], list[Round]]:
    """:data:`ROUNDS` rounds each, alternating: through a fresh ``server()``, then ``bare()``
    (the SDK called directly, in a thread as the server's own calls are)."""
    angie: list[Round] = []
    sdk: list[Round] = []
    for _ in range(ROUNDS):
        angie.append(await through_angie(server()))
        sdk.append(await asyncio.to_thread(bare))
    return angie, sdk


def report(where: str, sdk: str, angie: Sequence[Round], bare: Sequence[Round]) -> None:
    """Best of the rounds, each side, and their ratio."""
    print(f"{MESSAGES} messages in {where}; best of {len(angie)} rounds")
    for label, index in (("search (pages of 100)", 0), ("read each message", 1)):
        mine = min(r[index] for r in angie)
        base = min(r[index] for r in bare)
        print(
            f"  {label:<24} angie {mine * 1000:8.1f} ms   {sdk} {base * 1000:8.1f} ms"
            f"   ratio {mine / base:4.2f}x   ({mine / MESSAGES * 1000:.2f} ms per message)"
        )
