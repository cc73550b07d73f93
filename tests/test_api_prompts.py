"""Prompts through the API: each person's versioned documents (edit, history, reset, export,
all-or-nothing import) and the admins' household prompts, checked by rendering them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api_support import Account, ApiHarness, count_rows
from sqlalchemy import select

from angie.db.models import Agent, Prompt
from angie.prompts import ONBOARDING_DOCS, PromptContext, PromptLibrary, PromptUser, prompts_dir

SHIPPED = PromptLibrary(prompts_dir())
CTX = PromptContext(
    user=PromptUser(name="Sam", address_as="Sam"),
    now=datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
    timezone="UTC",
    channel="web",
)


async def put(api: ApiHarness, who: Account, name: str, body: str) -> Any:
    return await api.client.put(f"/api/prompts/{name}", json={"body": body}, headers=who.headers)


async def body_of(api: ApiHarness, who: Account, name: str) -> str:
    response = await api.client.get(f"/api/prompts/{name}", headers=who.headers)
    assert response.status_code == 200, response.text
    text: str = response.json()["body"]
    return text


# -- the user's documents ----------------------------------------------------------------------


async def test_a_new_user_starts_with_every_setup_document(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    response = await api.client.get("/api/prompts", headers=sam.headers)

    assert response.status_code == 200
    page = response.json()
    assert [d["name"] for d in page["items"]] == list(ONBOARDING_DOCS)
    assert page["total"] == len(ONBOARDING_DOCS)
    assert all(d["version"] == 1 and d["body"] and d["created_at"] for d in page["items"])


async def test_saving_adds_a_version_and_history_is_newest_first(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    first = await put(api, sam, "style", "Short answers, please.")
    second = await put(api, sam, "style", "Shorter still.")
    unchanged = await put(api, sam, "style", "Shorter still.\n")
    history = await api.client.get("/api/prompts/style/history", headers=sam.headers)

    assert first.status_code == 200, first.text
    assert (first.json()["version"], second.json()["version"]) == (2, 3)
    assert unchanged.json()["version"] == 3
    assert second.json()["body"] == "Shorter still.\n"
    assert await body_of(api, sam, "style") == "Shorter still.\n"
    versions = [v["version"] for v in history.json()["items"]]
    assert versions == [3, 2, 1]
    assert history.json()["items"][1]["body"] == "Short answers, please.\n"


async def test_an_unknown_document_is_not_found_and_names_the_documents(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    await api.client.get("/api/prompts", headers=sam.headers)
    before = await count_rows(api, Prompt)

    response = await put(api, sam, "hobbies", "Chess.")

    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert "hobbies" in message
    assert "profile, style, schedule" in message
    assert await count_rows(api, Prompt) == before


async def test_a_template_error_is_refused_with_its_reason(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    before = await body_of(api, sam, "profile")

    unknown = await put(api, sam, "profile", "I am {{ nobody }}.")
    typo = await put(api, sam, "profile", "Call me {{ user.nickname }}.")
    syntax = await put(api, sam, "profile", "{% if user %}unclosed")

    assert [r.status_code for r in (unknown, typo, syntax)] == [422, 422, 422]
    assert "`nobody`" in unknown.json()["error"]["message"]
    assert "`user.nickname`" in typo.json()["error"]["message"]
    assert "template error" in syntax.json()["error"]["message"]
    assert await body_of(api, sam, "profile") == before


async def test_a_document_can_use_the_prompt_variables(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    response = await put(api, sam, "profile", "Call me {{ user.address_as }}.")

    assert response.status_code == 200, response.text


async def test_an_oversized_document_is_refused(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    too_many_chars = await put(api, sam, "profile", "x" * 100_001)
    too_many_bytes = await put(api, sam, "profile", "é" * 40_000)  # 80,000 bytes in UTF-8

    assert too_many_chars.status_code == 422
    assert too_many_bytes.status_code == 422
    assert "65536" in too_many_bytes.json()["error"]["message"]


async def test_reset_restores_the_default_as_a_new_version(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    default = await body_of(api, sam, "style")
    await put(api, sam, "style", "Be terse.")

    reset = await api.client.post("/api/prompts/style/reset", headers=sam.headers)

    assert reset.status_code == 200, reset.text
    assert (reset.json()["version"], reset.json()["body"]) == (3, default)
    assert default.strip() == SHIPPED.source("onboarding/style.md").strip()


async def test_a_document_without_a_default_cannot_be_reset(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    await api.client.post(
        "/api/prompts/import", json={"documents": {"hobbies": "Chess."}}, headers=sam.headers
    )

    response = await api.client.post("/api/prompts/hobbies/reset", headers=sam.headers)

    assert response.status_code == 409
    assert await body_of(api, sam, "hobbies") == "Chess.\n"


async def test_export_and_import_round_trip(api_db: ApiHarness) -> None:
    api = api_db
    sam, lee = await api.signup("sam"), await api.signup("lee")
    await put(api, sam, "style", "Warm and brief.")
    await api.client.post(
        "/api/prompts/import", json={"documents": {"hobbies": "Chess."}}, headers=sam.headers
    )

    exported = await api.client.get("/api/prompts/export", headers=sam.headers)
    imported = await api.client.post(
        "/api/prompts/import", json=exported.json(), headers=lee.headers
    )

    documents = exported.json()["documents"]
    assert set(documents) == {*ONBOARDING_DOCS, "hobbies"}
    assert documents["style"] == "Warm and brief.\n"
    assert imported.status_code == 200, imported.text
    assert imported.json()["versions"]["style"] == 2
    assert imported.json()["versions"]["hobbies"] == 1
    again = await api.client.get("/api/prompts/export", headers=lee.headers)
    assert again.json() == exported.json()


async def test_one_bad_document_imports_nothing(api_db: ApiHarness) -> None:
    api = api_db
    sam = await api.signup("sam")
    before = await api.client.get("/api/prompts/export", headers=sam.headers)
    rows = await count_rows(api, Prompt)

    response = await api.client.post(
        "/api/prompts/import",
        json={"documents": {"style": "Fine.", "hobbies": "Chess.", "people": "{{ oops }}"}},
        headers=sam.headers,
    )

    assert response.status_code == 422
    assert "`oops`" in response.json()["error"]["message"]
    assert await count_rows(api, Prompt) == rows
    after = await api.client.get("/api/prompts/export", headers=sam.headers)
    assert after.json() == before.json()


async def test_import_refuses_bad_and_reserved_names(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    await api.client.get("/api/prompts", headers=sam.headers)
    rows = await count_rows(api, Prompt)

    bad = await api.client.post(
        "/api/prompts/import", json={"documents": {"My Notes": "x"}}, headers=sam.headers
    )
    reserved = await api.client.post(
        "/api/prompts/import", json={"documents": {"export": "x"}}, headers=sam.headers
    )
    empty = await api.client.post(
        "/api/prompts/import", json={"documents": {}}, headers=sam.headers
    )

    assert [r.status_code for r in (bad, reserved, empty)] == [422, 422, 422]
    assert "not a valid prompt name" in bad.json()["error"]["message"]
    assert "reserved" in reserved.json()["error"]["message"]
    assert await count_rows(api, Prompt) == rows


async def test_a_cleared_document_is_left_out_of_the_export(api: ApiHarness) -> None:
    sam = await api.signup("sam")

    cleared = await put(api, sam, "people", "")
    exported = await api.client.get("/api/prompts/export", headers=sam.headers)
    listed = await api.client.get("/api/prompts", headers=sam.headers)

    assert cleared.json()["body"] == ""
    assert "people" not in exported.json()["documents"]
    people = next(d for d in listed.json()["items"] if d["name"] == "people")
    assert (people["version"], people["body"]) == (2, "")


async def test_each_person_has_their_own_documents(api: ApiHarness) -> None:
    sam, lee = await api.signup("sam"), await api.signup("lee")
    await put(api, sam, "style", "Sam likes it short.")
    await api.client.post(
        "/api/prompts/import", json={"documents": {"secrets": "Sam's diary."}}, headers=sam.headers
    )

    lees = await api.client.get("/api/prompts/export", headers=lee.headers)
    peek = await api.client.get("/api/prompts/secrets", headers=lee.headers)
    history = await api.client.get("/api/prompts/style/history", headers=lee.headers)

    assert "Sam" not in lees.text
    assert "secrets" not in lees.json()["documents"]
    assert peek.status_code == 404
    assert [v["version"] for v in history.json()["items"]] == [1]


async def test_saved_documents_reach_angies_prompt(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    await put(api, sam, "style", "Always answer in rhyme.")

    documents = await api.angie.services.user_prompts.current(sam.id)
    text = await api.angie.services.prompts.compose_conversation(CTX, documents)

    assert "Always answer in rhyme." in text


# -- the household's prompts -------------------------------------------------------------------


async def test_only_admins_see_or_change_the_household_prompts(api: ApiHarness) -> None:
    await api.signup("admin")
    lee = await api.signup("lee")

    answers = [
        await api.client.get("/api/system-prompts", headers=lee.headers),
        await api.client.get("/api/system-prompts/system", headers=lee.headers),
        await api.client.put(
            "/api/system-prompts/angie", json={"body": "Hi."}, headers=lee.headers
        ),
        await api.client.delete("/api/system-prompts/angie", headers=lee.headers),
        await api.client.put(
            "/api/system-prompts/agent/hue", json={"body": "Hi."}, headers=lee.headers
        ),
        await api.client.delete("/api/system-prompts/agent/hue", headers=lee.headers),
    ]

    assert [a.status_code for a in answers] == [403] * 6
    assert await count_rows(api, Prompt) == 0


async def test_the_list_shows_every_household_prompt_as_shipped(api: ApiHarness) -> None:
    admin = await api.signup("admin")

    response = await api.client.get("/api/system-prompts", headers=admin.headers)

    items = response.json()["items"]
    assert [(i["kind"], i["name"]) for i in items[:2]] == [("system", "system"), ("angie", "angie")]
    assert ("agent", "hue") in {(i["kind"], i["name"]) for i in items}
    assert not any(i["overridden"] for i in items)


async def test_an_admin_overrides_and_resets_the_angie_prompt(api: ApiHarness) -> None:
    admin = await api.signup("admin")

    saved = await api.client.put(
        "/api/system-prompts/angie",
        json={"body": "You are Angie. Greet {{ user.address_as }} warmly."},
        headers=admin.headers,
    )
    composed = await api.angie.services.prompts.compose_conversation(CTX, [])
    reset = await api.client.delete("/api/system-prompts/angie", headers=admin.headers)
    after = await api.client.get("/api/system-prompts/angie", headers=admin.headers)

    assert saved.status_code == 200, saved.text
    assert (saved.json()["overridden"], saved.json()["version"]) == (True, 1)
    assert saved.json()["shipped"] == SHIPPED.source("angie.md")
    assert "Greet Sam warmly." in composed
    assert reset.status_code == 204
    assert after.json()["overridden"] is False
    assert after.json()["body"] == SHIPPED.source("angie.md")


async def test_a_household_prompt_must_render(api: ApiHarness) -> None:
    admin = await api.signup("admin")

    typo = await api.client.put(
        "/api/system-prompts/system", json={"body": "{{ user.nickname }}"}, headers=admin.headers
    )
    # Fine in a conversation, broken when an agent runs: both are rendered to check.
    agent_only = await api.client.put(
        "/api/system-prompts/system",
        json={"body": "{% if agent %}{{ agent.nmae }}{% endif %}"},
        headers=admin.headers,
    )
    bad_kind = await api.client.get("/api/system-prompts/user", headers=admin.headers)

    assert (typo.status_code, agent_only.status_code, bad_kind.status_code) == (422, 422, 422)
    assert "`user.nickname`" in typo.json()["error"]["message"]
    assert "`agent.nmae`" in agent_only.json()["error"]["message"]
    assert await count_rows(api, Prompt) == 0


async def test_an_admin_edits_and_resets_an_agents_prompt(api: ApiHarness) -> None:
    admin = await api.signup("admin")
    shipped = SHIPPED.source("agents/hue.md")

    saved = await api.client.put(
        "/api/system-prompts/agent/hue",
        json={"body": "You run the {{ agent.name }} lights. Be gentle."},
        headers=admin.headers,
    )
    async with api.angie.services.database.session() as session:
        stored = await session.scalar(select(Agent.prompt).where(Agent.name == "hue"))
    reset = await api.client.delete("/api/system-prompts/agent/hue", headers=admin.headers)
    after = await api.client.get("/api/system-prompts/agent/hue", headers=admin.headers)

    assert saved.status_code == 200, saved.text
    assert saved.json()["overridden"] is True
    assert stored == "You run the {{ agent.name }} lights. Be gentle.\n"
    assert reset.status_code == 204
    assert (after.json()["overridden"], after.json()["body"]) == (False, shipped)


async def test_an_agent_prompt_must_render_and_the_agent_must_exist(api: ApiHarness) -> None:
    admin = await api.signup("admin")

    bad = await api.client.put(
        "/api/system-prompts/agent/hue",
        json={"body": "{{ agent.capabilities[0].nmae }}"},
        headers=admin.headers,
    )
    missing = await api.client.get("/api/system-prompts/agent/nobody", headers=admin.headers)

    assert bad.status_code == 422
    assert missing.status_code == 404
    after = await api.client.get("/api/system-prompts/agent/hue", headers=admin.headers)
    assert after.json()["overridden"] is False


async def test_a_custom_agent_has_no_shipped_prompt_to_go_back_to(api: ApiHarness) -> None:
    admin = await api.signup("admin")
    async with api.angie.services.database.session() as session:
        session.add(Agent(name="butler", prompt="Serve tea.", user_id=admin.id))

    got = await api.client.get("/api/system-prompts/agent/butler", headers=admin.headers)
    reset = await api.client.delete("/api/system-prompts/agent/butler", headers=admin.headers)

    assert (got.json()["shipped"], got.json()["overridden"]) == (None, False)
    assert reset.status_code == 409
