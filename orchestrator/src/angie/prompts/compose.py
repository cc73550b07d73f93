"""Composition: SYSTEM, then ANGIE, then the agent's prompt or the user's documents, one text."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from angie.prompts.household import HOUSEHOLD_KINDS
from angie.prompts.user_store import doc_order

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from angie.db.models import PromptKind
    from angie.prompts.context import PromptContext
    from angie.prompts.household import HouseholdPromptStore
    from angie.prompts.library import PromptLibrary
    from angie.prompts.versions import PromptVersion

__all__ = ("DEMO_PROMPT", "PromptComposer")

#: Told after ANGIE in a demo home (``angie serve --demo``): the devices there are simulated.
DEMO_PROMPT = "demo.md"


class PromptComposer:
    """Renders and joins the prompt hierarchy; the household's overrides win over the files.

    Each section is rendered with the same context and stripped; sections are joined with one
    blank line, and a section that renders to nothing is left out. Rendering happens in a
    thread: a template may take up to its time bound, and the event loop must not wait.
    In a demo home the demo's note follows ANGIE, whatever the household's overrides say.
    """

    def __init__(
        self,
        library: PromptLibrary,
        household: HouseholdPromptStore | None = None,
        *,
        demo: bool = False,
    ) -> None:
        self._library = library
        # None: no database (a preview, a test), so the shipped files are used as they are.
        self._household = household
        self._demo = demo

    async def compose_agent(
        self,
        ctx: PromptContext,
        agent_prompt: str,
        household: Mapping[PromptKind, PromptVersion] | None = None,
    ) -> str:
        """SYSTEM, ANGIE, then the agent's prompt (``agents.prompt``, itself a template).
        ``household``: the overrides in effect, read by the caller (None: read here)."""
        if ctx.agent is None:
            raise ValueError("compose_agent needs a PromptContext with an agent")
        sections = await self._household_sections(ctx, household)
        name = f"the prompt of agent {ctx.agent.name}"
        sections.append(partial(self._library.render_source, agent_prompt, ctx, name=name))
        return await _rendered(sections)

    async def household_in(
        self, session: AsyncSession
    ) -> Mapping[PromptKind, PromptVersion] | None:
        """The household's overrides read in ``session`` (None with no database)."""
        if self._household is None:
            return None
        return await self._household.read_overrides(session)

    async def compose_conversation(
        self,
        ctx: PromptContext,
        user_prompts: Sequence[PromptVersion],
        household: Mapping[PromptKind, PromptVersion] | None = None,
    ) -> str:
        """SYSTEM, ANGIE, then the user's documents: the setup topics first, others by name.
        ``household``: the overrides in effect, read by the caller with the documents (None:
        read here)."""
        sections = await self._household_sections(ctx, household)
        for doc in sorted(user_prompts, key=lambda doc: doc_order(doc.name)):
            where = f"user prompt `{doc.name}` (version {doc.version})"
            sections.append(partial(self._library.render_source, doc.body, ctx, name=where))
        return await _rendered(sections)

    async def _household_sections(
        self, ctx: PromptContext, overrides: Mapping[PromptKind, PromptVersion] | None = None
    ) -> list[Callable[[], str]]:
        if self._household is None:
            overrides = {}  # no database: the shipped files as they are
        elif overrides is None:
            overrides = await self._household.overrides()
        sections: list[Callable[[], str]] = []
        for kind in HOUSEHOLD_KINDS:
            override = overrides.get(kind)
            if override is None:
                sections.append(partial(self._library.render, f"{kind.value}.md", ctx))
            else:
                where = f"the household {kind.name} prompt (version {override.version})"
                render = partial(self._library.render_source, override.body, ctx, name=where)
                sections.append(render)
        if self._demo:
            sections.append(partial(self._library.render, DEMO_PROMPT, ctx))
        return sections


async def _rendered(sections: Sequence[Callable[[], str]]) -> str:
    return _join(await asyncio.to_thread(lambda: [render() for render in sections]))


def _join(sections: Sequence[str]) -> str:
    return "\n\n".join(text for text in (s.strip() for s in sections) if text)
