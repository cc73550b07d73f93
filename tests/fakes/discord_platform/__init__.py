"""A small Discord on 127.0.0.1 (REST v10 and the gateway) that discord.py can log in to.

It enforces what Discord enforces for what Angie uses: ``Authorization: Bot <token>`` on REST
(401 otherwise), the token and intents on IDENTIFY (privileged intents not enabled for the bot
are refused with close code 4014), known channels and messages, message and button shapes, and
the interaction token on interaction callbacks and follow-ups. A test drives it with
:meth:`FakeDiscord.dm`, :meth:`FakeDiscord.mention` and :meth:`FakeDiscord.click`, reads what
the bot did in ``messages``, ``edits``, ``threads``, ``interaction_responses`` and
``followups`` (and ``stored``: every message as it now is), waits with
:meth:`FakeDiscord.wait_for`, and can make it answer 5xx (:meth:`FakeDiscord.fail`) or 429
(:meth:`FakeDiscord.rate_limit`) for a number of requests, or refuse the next IDENTIFY
(:meth:`FakeDiscord.refuse_identify`).
"""

from __future__ import annotations

from fakes.discord_platform.payloads import FakeUser
from fakes.discord_platform.server import FakeDiscord

__all__ = ("FakeDiscord", "FakeUser")
