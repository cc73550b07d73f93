"""Feedback: results go into the person's conversation and out through the channel, live."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from angie.db.engine import Database
from angie.db.models import ChannelKind, Conversation, Message, User
from angie.feedback import Delivery, DeliveryKind, Feedback


async def make_user(db: Database, preferred: str | None = None) -> int:
    async with db.session() as session:
        user = User(email="sam@home.test", display_name="Samantha", preferred_name=preferred)
        session.add(user)
        await session.flush()
        return user.id


async def test_results_land_in_the_conversation_and_reach_live_listeners(db: Database) -> None:
    feedback = Feedback(db)
    user = await make_user(db)
    received: list[Delivery] = []

    async def listen() -> None:
        async for delivery in feedback.web.listen(user):
            received.append(delivery)
            return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    await feedback.send(
        DeliveryKind.RESULT, user_id=user, channel=None, thread=None, text="The lamp is on."
    )
    await asyncio.wait_for(listener, 5)

    assert [d.rendered for d in received] == ["The lamp is on."]
    async with db.session() as session:
        contents = list(await session.scalars(select(Message.content)))
        conversation = (await session.scalars(select(Conversation))).one()
    assert contents == ["The lamp is on."]
    assert conversation.channel is ChannelKind.WEB


async def test_approval_requests_mention_the_person_by_preferred_name(db: Database) -> None:
    feedback = Feedback(db)
    user = await make_user(db, preferred="Sam")
    delivery = await feedback.send(
        DeliveryKind.APPROVAL_REQUEST,
        user_id=user,
        channel=ChannelKind.WEB,
        thread="t",
        text="May I turn on the lamp?",
    )
    assert delivery is not None
    assert delivery.rendered == "@Sam May I turn on the lamp?"


async def test_two_results_for_a_new_thread_at_once_are_both_kept(db: Database) -> None:
    feedback = Feedback(db)
    user = await make_user(db)
    await asyncio.gather(
        *(
            feedback.send(
                DeliveryKind.RESULT, user_id=user, channel=ChannelKind.WEB, thread="new", text=t
            )
            for t in ("one", "two", "three")
        )
    )
    async with db.session() as session:
        conversations = await session.scalar(select(func.count()).select_from(Conversation))
        messages = sorted(await session.scalars(select(Message.content)))
    assert conversations == 1
    assert messages == ["one", "three", "two"]
