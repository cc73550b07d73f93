"""``/api/prompts`` (each person's USER_PROMPTS documents) and ``/api/system-prompts`` (admins:
the household's SYSTEM and ANGIE prompts and each agent's prompt)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from angie import onboarding
from angie.agents.rules import derive_from, replace_setup_rules
from angie.api.deps import (
    AdminUser,
    CurrentUser,
    HouseholdPromptsDep,
    LibraryDep,
    ServicesDep,
    SessionDep,
    UserPromptsDep,
)
from angie.api.paging import memory_page
from angie.api.schemas import Body, ListParams, Out, Page
from angie.api.validation import invalid_at
from angie.db.models import Agent, PromptKind, User
from angie.errors import Conflict, Invalid, NotFound
from angie.prompts import (
    ONBOARDING_DOCS,
    PromptAgent,
    PromptContext,
    PromptError,
    PromptLibrary,
    PromptVersion,
    doc_order,
)
from angie.prompts import versions as prompt_versions
from angie.services import Services

__all__ = ("PromptOut", "SystemPromptOut", "prompts_router", "system_prompts_router")

prompts_router = APIRouter(prefix="/prompts", tags=["prompts"])
system_prompts_router = APIRouter(prefix="/system-prompts", tags=["system-prompts"])

MAX_BODY_CHARS = 100_000
MAX_IMPORT_DOCUMENTS = 100
# /api/prompts/export and /import are routes, so no document may take those names.
_RESERVED = frozenset({"export", "import"})
DocName = Annotated[str, Path(min_length=1, max_length=120, description="A document's name.")]
AgentName = Annotated[str, Path(min_length=1, max_length=64, description="An agent's name.")]
HouseholdKind = Annotated[
    Literal["system", "angie"], Path(description="Which household prompt: system or services.")
]
PromptText = Annotated[str, StringConstraints(max_length=MAX_BODY_CHARS)]
_NEVER = datetime.min.replace(tzinfo=UTC)
# The setup topic whose answers are also the person's approval rules.
AUTONOMY = "autonomy"
# A sample agent to render SYSTEM and ANGIE with, as they are when an agent runs.
_SAMPLE_AGENT = PromptAgent("sample", "A sample agent.", (("sample_tool", "Does a thing."),))


class PromptOut(Out):
    name: str
    version: int = Field(description="0 for a document never saved.")
    body: str = Field(description="The text; empty when the document is cleared.")
    created_at: datetime | None
    rendered: str | None = Field(
        default=None,
        description="With ?rendered=true: the text as Angie reads it in a conversation with you "
        "(the template rendered for you, its comments gone); otherwise null.",
    )

    @classmethod
    def of(cls, doc: PromptVersion) -> PromptOut:
        return cls(name=doc.name, version=doc.version, body=doc.body, created_at=doc.created_at)


class PromptIn(Body):
    body: PromptText = Field(description="The new text (a template); empty clears the document.")


class DocumentsOut(Out):
    documents: dict[str, str]


class DocumentsIn(Body):
    documents: dict[Annotated[str, StringConstraints(min_length=1, max_length=120)], PromptText] = (
        Field(min_length=1, max_length=MAX_IMPORT_DOCUMENTS)
    )


class ImportOut(Out):
    versions: dict[str, int] = Field(description="Each imported document's current version.")


class SystemPromptSummary(Out):
    kind: Literal["system", "angie", "agent"]
    name: str
    overridden: bool = Field(description="True when the text in effect is not the shipped file.")
    version: int | None = Field(description="The household override's version, if any.")
    changed_at: datetime | None


class SystemPromptOut(SystemPromptSummary):
    body: str = Field(description="The text in effect.")
    shipped: str | None = Field(description="The shipped file's text (none for a custom agent).")


class SystemPromptIn(Body):
    body: Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY_CHARS)]


# -- shared ----------------------------------------------------------------------------------


def _invalid(err: PromptError) -> Invalid:
    return invalid_at("body", str(err))


async def _prepared(
    library: PromptLibrary,
    body: str,
    user: User,
    *,
    name: str,
    agents: Sequence[PromptAgent | None],
) -> str:
    """The body as it will be stored, once it has rendered in the sandbox for ``user``.

    The store checks syntax and variable names; rendering also catches what only shows then
    (a misspelt attribute such as ``user.nickname``, a template too big to render), before it
    can break a conversation. It renders in a thread: a bad template takes up to its bound.
    """
    return await asyncio.to_thread(_rendered, library, body, user, name=name, agents=agents)


def _rendered(
    library: PromptLibrary,
    body: str,
    user: User,
    *,
    name: str,
    agents: Sequence[PromptAgent | None],
) -> str:
    try:
        text = prompt_versions.prepare_body(library, body, name=name)
        now = datetime.now(UTC)
        for agent in agents:
            ctx = PromptContext.for_user(user, now=now, channel="web", agent=agent)
            library.render_source(text, ctx, name=name)
    except PromptError as err:
        raise _invalid(err) from err
    return text


def _for_conversation(library: PromptLibrary, doc: PromptOut, user: User) -> str:
    """A document rendered as a conversation with Angie renders it (see PromptComposer)."""
    ctx = PromptContext.for_user(user, now=datetime.now(UTC), channel="web")
    where = f"user prompt `{doc.name}` (version {doc.version})"
    try:
        return library.render_source(doc.body, ctx, name=where).strip()
    except PromptError as err:
        raise Conflict(str(err)) from err


async def _follow_answers(services: Services, user_id: int, name: str, text: str) -> None:
    """The person's setup approval rules, made again from the autonomy answers a saved
    document keeps (none when it keeps none); rules they wrote themselves stay."""
    if name != AUTONOMY:
        return
    derived = derive_from(onboarding.stored(text))
    async with services.database.session() as session:
        await replace_setup_rules(session, user_id, derived.rules)


# -- the user's documents --------------------------------------------------------------------


async def _documents(services: Services, user_id: int) -> dict[str, PromptVersion]:
    """Every document of the user (cleared ones too), after giving a new user the defaults."""
    await services.user_prompts.ensure_defaults(user_id)
    async with services.database.session() as session:
        rows = await prompt_versions.current_all(session, PromptKind.USER, user_id)
    return {row.name: PromptVersion.of(row) for row in rows}


def _never_saved(name: str) -> PromptOut:
    return PromptOut(name=name, version=0, body="", created_at=None)


async def _document(services: Services, user_id: int, name: str) -> PromptOut:
    docs = await _documents(services, user_id)
    if name in docs:
        return PromptOut.of(docs[name])
    if name in ONBOARDING_DOCS:
        return _never_saved(name)
    names = sorted({*docs, *ONBOARDING_DOCS}, key=doc_order)
    raise NotFound(
        f"there is no prompt document {name!r}; yours are {', '.join(names)} "
        "(import one to add a new document)"
    )


@prompts_router.get("", operation_id="list_prompts")
async def list_prompts(
    user: CurrentUser, services: ServicesDep, params: ListParams
) -> Page[PromptOut]:
    """Your prompt documents, the setup topics first, each at its current version."""
    docs = await _documents(services, user.id)
    items = [
        PromptOut.of(docs[name]) if name in docs else _never_saved(name)
        for name in sorted({*docs, *ONBOARDING_DOCS}, key=doc_order)
    ]
    return memory_page(
        items,
        params,
        {"name": lambda d: d.name, "created_at": lambda d: d.created_at or _NEVER},
    )


@prompts_router.get("/export", operation_id="export_prompts")
async def export_prompts(user: CurrentUser, user_prompts: UserPromptsDep) -> DocumentsOut:
    """Your documents in effect (cleared ones left out), by name, to keep or import elsewhere."""
    await user_prompts.ensure_defaults(user.id)
    docs = await user_prompts.current(user.id)
    return DocumentsOut(documents={doc.name: doc.body for doc in docs})


@prompts_router.post(
    "/import", operation_id="import_prompts", responses={422: {"description": "Nothing imported"}}
)
async def import_prompts(body: DocumentsIn, user: CurrentUser, services: ServicesDep) -> ImportOut:
    """Save each document as a new version; one bad document and none is saved."""
    await services.user_prompts.ensure_defaults(user.id)
    prepared: dict[str, str] = {}
    for name, text in body.documents.items():
        try:
            prompt_versions.check_name(name)
        except PromptError as err:
            raise _invalid(err) from err
        if name in _RESERVED:
            raise Invalid(f"{name!r} is reserved; give the document another name")
        prepared[name] = await _prepared(
            services.library, text, user, name=f"user prompt `{name}`", agents=[None]
        )
    async with services.database.session() as session:
        saved = {
            name: await prompt_versions.append(
                session, PromptKind.USER, user.id, name, text, by=user.id
            )
            for name, text in prepared.items()
        }
    if AUTONOMY in prepared:
        await _follow_answers(services, user.id, AUTONOMY, prepared[AUTONOMY])
    return ImportOut(versions=saved)


@prompts_router.get(
    "/{name}",
    operation_id="get_prompt",
    responses={404: {}, 409: {"description": "rendered=true and the document does not render"}},
)
async def get_prompt(
    name: DocName,
    user: CurrentUser,
    services: ServicesDep,
    rendered: Annotated[
        bool, Query(description="Also render it for you, as Angie reads it (`rendered`).")
    ] = False,
) -> PromptOut:
    """One of your documents at its current version."""
    doc = await _document(services, user.id, name)
    if rendered:
        doc.rendered = await asyncio.to_thread(_for_conversation, services.library, doc, user)
    return doc


@prompts_router.put("/{name}", operation_id="save_prompt", responses={404: {}, 422: {}})
async def save_prompt(
    name: DocName, body: PromptIn, user: CurrentUser, services: ServicesDep
) -> PromptOut:
    """Save a new version of one of your documents (an unchanged text saves nothing)."""
    await _document(services, user.id, name)
    text = await _prepared(
        services.library, body.body, user, name=f"user prompt `{name}`", agents=[None]
    )
    try:
        await services.user_prompts.save(user.id, name, text, by=user.id)
    except PromptError as err:
        raise _invalid(err) from err
    await _follow_answers(services, user.id, name, text)
    return await _document(services, user.id, name)


@prompts_router.get("/{name}/history", operation_id="prompt_history", responses={404: {}})
async def prompt_history(
    name: DocName, user: CurrentUser, services: ServicesDep, params: ListParams
) -> Page[PromptOut]:
    """Every version of one of your documents, newest first."""
    await _document(services, user.id, name)
    found = await services.user_prompts.history(user.id, name)
    items = [PromptOut.of(doc) for doc in reversed(found)]
    return memory_page(items, params, {"version": lambda d: d.version})


@prompts_router.post("/{name}/reset", operation_id="reset_prompt", responses={404: {}, 409: {}})
async def reset_prompt(name: DocName, user: CurrentUser, services: ServicesDep) -> PromptOut:
    """Put a setup document back to its default text, as a new version."""
    await _document(services, user.id, name)
    if name not in ONBOARDING_DOCS:
        raise Conflict(
            f"{name!r} is not a setup document and has no default; save it empty to clear it"
        )
    default = services.library.onboarding_defaults()[name]
    await services.user_prompts.save(user.id, name, default, by=user.id)
    await _follow_answers(services, user.id, name, default)
    return await _document(services, user.id, name)


# -- the household's prompts (admins) --------------------------------------------------------


def _shipped(library: PromptLibrary, path: str) -> str | None:
    try:
        return library.source(path)
    except PromptError:
        return None


async def _household_prompt(services: Services, kind: PromptKind) -> SystemPromptOut:
    override = await services.household_prompts.current(kind)
    shipped = _shipped(services.library, f"{kind.value}.md")
    return SystemPromptOut(
        kind="system" if kind is PromptKind.SYSTEM else "angie",
        name=kind.value,
        overridden=override is not None,
        version=override.version if override else None,
        changed_at=override.created_at if override else None,
        body=override.body if override else (shipped or ""),
        shipped=shipped,
    )


def _agent_prompt(library: PromptLibrary, agent: Agent) -> SystemPromptOut:
    shipped = _shipped(library, f"agents/{agent.name}.md")
    return SystemPromptOut(
        kind="agent",
        name=agent.name,
        overridden=shipped is not None and agent.prompt.strip() != shipped.strip(),
        version=None,
        changed_at=None,
        body=agent.prompt,
        shipped=shipped,
    )


async def _agent(session: AsyncSession, name: str) -> Agent:
    agent = await session.scalar(select(Agent).where(Agent.name == name))
    if agent is None:
        raise NotFound(f"there is no agent named {name!r}")
    return agent


@system_prompts_router.get("", operation_id="list_system_prompts")
async def list_system_prompts(
    _: AdminUser, services: ServicesDep, session: SessionDep, params: ListParams
) -> Page[SystemPromptSummary]:
    """The household's prompts: SYSTEM, ANGIE and each agent's, and which differ from the files."""
    found = [
        await _household_prompt(services, PromptKind.SYSTEM),
        await _household_prompt(services, PromptKind.ANGIE),
        *(
            _agent_prompt(services.library, a)
            for a in await session.scalars(select(Agent).order_by(Agent.name))
        ),
    ]
    items = [SystemPromptSummary.model_validate(p.model_dump()) for p in found]
    return memory_page(items, params, {"name": lambda p: p.name})


@system_prompts_router.get("/agent/{name}", operation_id="get_agent_prompt", responses={404: {}})
async def get_agent_prompt(
    name: AgentName, _: AdminUser, session: SessionDep, library: LibraryDep
) -> SystemPromptOut:
    """An agent's prompt in effect, and its shipped text."""
    return _agent_prompt(library, await _agent(session, name))


@system_prompts_router.put(
    "/agent/{name}", operation_id="save_agent_prompt", responses={404: {}, 422: {}}
)
async def save_agent_prompt(
    name: AgentName,
    body: SystemPromptIn,
    admin: AdminUser,
    session: SessionDep,
    library: LibraryDep,
) -> SystemPromptOut:
    """Replace an agent's prompt; it must render as a template."""
    agent = await _agent(session, name)
    sample = PromptAgent(agent.name, agent.description, (("sample_tool", "Does a thing."),))
    agent.prompt = await _prepared(
        library,
        body.body,
        admin,
        name=f"the prompt of agent {agent.name}",
        agents=[sample],
    )
    await session.flush()
    return _agent_prompt(library, agent)


@system_prompts_router.delete(
    "/agent/{name}",
    operation_id="reset_agent_prompt",
    status_code=204,
    responses={404: {}, 409: {}},
)
async def reset_agent_prompt(
    name: AgentName, _: AdminUser, session: SessionDep, library: LibraryDep
) -> None:
    """Put an agent's prompt back to its shipped file."""
    agent = await _agent(session, name)
    shipped = _shipped(library, f"agents/{agent.name}.md")
    if shipped is None:
        raise Conflict(f"agent {agent.name} has no shipped prompt to go back to")
    agent.prompt = shipped


@system_prompts_router.get("/{kind}", operation_id="get_system_prompt")
async def get_system_prompt(
    kind: HouseholdKind, _: AdminUser, services: ServicesDep
) -> SystemPromptOut:
    """The household's SYSTEM or ANGIE prompt in effect, and its shipped text."""
    return await _household_prompt(services, PromptKind(kind))


@system_prompts_router.put("/{kind}", operation_id="save_system_prompt", responses={422: {}})
async def save_system_prompt(
    kind: HouseholdKind, body: SystemPromptIn, admin: AdminUser, services: ServicesDep
) -> SystemPromptOut:
    """Override the household's SYSTEM or ANGIE prompt; it must render as a template."""
    prompt_kind = PromptKind(kind)
    where = f"the household {prompt_kind.name} prompt"
    text = await _prepared(
        services.library, body.body, admin, name=where, agents=[None, _SAMPLE_AGENT]
    )
    try:
        await services.household_prompts.save(prompt_kind, text, by=admin.id)
    except PromptError as err:
        raise _invalid(err) from err
    return await _household_prompt(services, prompt_kind)


@system_prompts_router.delete("/{kind}", operation_id="reset_system_prompt", status_code=204)
async def reset_system_prompt(
    kind: HouseholdKind, admin: AdminUser, household_prompts: HouseholdPromptsDep
) -> None:
    """Go back to the shipped SYSTEM or ANGIE file (the edited texts stay in the history)."""
    await household_prompts.reset(PromptKind(kind), by=admin.id)
