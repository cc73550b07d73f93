"""Rendering and composing prompts, and every prompt Angie ships: no database involved."""

from __future__ import annotations

import fnmatch
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from angie.db.models import User
from angie.mcp.manifests import discover
from angie.prompts import (
    BUNDLED_PROMPTS,
    ONBOARDING_DOCS,
    PromptAgent,
    PromptComposer,
    PromptContext,
    PromptError,
    PromptLibrary,
    PromptUser,
    PromptVersion,
    Tool,
    prompts_dir,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = PromptLibrary(prompts_dir())
SEEDED_AGENTS = frozenset(
    {
        "hue",
        "home_assistant",
        "spotify",
        "github",
        "email",
        "correspondence",
        "spam",
        "calendar",
        "network",
        "crons",
        "tasks",
        "workflows",
        "events",
        "research",
    }
)
NOW = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
SAM = PromptUser(name="Sam Lee", address_as="Sam", timezone="Europe/Paris")
TOOLS = (
    Tool("hue_list_lights", "Every light with its room and state."),
    Tool("hue_set_room", "Switch or dim every light of a room."),
)


def _context(agent: PromptAgent | None = None) -> PromptContext:
    return PromptContext(user=SAM, now=NOW, timezone="Europe/Paris", channel="slack", agent=agent)


def _hue() -> PromptAgent:
    return PromptAgent(name="hue", description="Philips Hue lights", capabilities=TOOLS)


def _library(root: Path, files: dict[str, str]) -> PromptLibrary:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return PromptLibrary(root)


def _small_library(tmp_path: Path) -> PromptLibrary:
    return _library(
        tmp_path / "prompts",
        {
            "system.md": "\nSYSTEM for {{ user.name }} on {{ channel }} at "
            "{{ now.strftime('%H:%M') }} {{ timezone }}.\n\n",
            "angie.md": "  ANGIE calls you {{ user.address_as }}.  \n",
        },
    )


def _doc(name: str, body: str, version: int = 1) -> PromptVersion:
    return PromptVersion(name, body, version, NOW, None)


async def test_agent_prompt_is_system_then_angie_then_the_agent(tmp_path: Path) -> None:
    composer = PromptComposer(_small_library(tmp_path))

    text = await composer.compose_agent(_context(_hue()), "\nAGENT {{ agent.name }}\n")

    assert text == (
        "SYSTEM for Sam Lee on slack at 09:30 Europe/Paris.\n\nANGIE calls you Sam.\n\nAGENT hue"
    )


async def test_conversation_puts_setup_topics_in_interview_order_then_others_by_name(
    tmp_path: Path,
) -> None:
    composer = PromptComposer(_small_library(tmp_path))
    docs = [
        _doc("recipes", "Recipes."),
        _doc("contact", "Contact."),
        _doc("garden", "Garden."),
        _doc("profile", "Profile of {{ user.name }}.\n"),
        _doc("style", "Style."),
    ]

    text = await composer.compose_conversation(_context(), docs)

    assert text == (
        "SYSTEM for Sam Lee on slack at 09:30 Europe/Paris.\n\n"
        "ANGIE calls you Sam.\n\n"
        "Profile of Sam Lee.\n\nStyle.\n\nContact.\n\nGarden.\n\nRecipes."
    )


async def test_sections_that_render_to_nothing_are_left_out(tmp_path: Path) -> None:
    composer = PromptComposer(_small_library(tmp_path))
    docs = [_doc("profile", "{% if agent %}only for agents{% endif %}"), _doc("people", "Ann.")]

    text = await composer.compose_conversation(_context(), docs)

    assert text.endswith("ANGIE calls you Sam.\n\nAnn.")


async def test_compose_agent_needs_a_context_with_an_agent(tmp_path: Path) -> None:
    composer = PromptComposer(_small_library(tmp_path))
    with pytest.raises(ValueError, match="with an agent"):
        await composer.compose_agent(_context(), "AGENT")


def test_misspelt_attribute_is_an_error_naming_the_template_and_the_variable(
    tmp_path: Path,
) -> None:
    library = _library(tmp_path, {"angie.md": "Hello {{ user.nickname }}!"})
    with pytest.raises(PromptError) as caught:
        library.render("angie.md", _context())
    assert str(caught.value) == "prompts/angie.md uses `user.nickname`, which is not defined"


def test_unknown_top_level_variable_is_named(tmp_path: Path) -> None:
    library = _library(tmp_path, {"system.md": "It is {{ weather }}."})
    with pytest.raises(PromptError, match=r"^prompts/system\.md uses `weather`, which is not"):
        library.render("system.md", _context())


def test_agent_variables_are_undefined_in_a_conversation(tmp_path: Path) -> None:
    library = _library(tmp_path, {"system.md": "I am {{ agent.name }}."})
    with pytest.raises(PromptError, match=r"uses `agent\.name`, which is not defined"):
        library.render("system.md", _context())


async def test_undefined_variable_in_a_user_doc_names_the_doc_and_its_version(
    tmp_path: Path,
) -> None:
    composer = PromptComposer(_small_library(tmp_path))
    with pytest.raises(PromptError) as caught:
        await composer.compose_conversation(_context(), [_doc("style", "{{ user.age }}", 4)])
    assert str(caught.value) == (
        "user prompt `style` (version 4) uses `user.age`, which is not defined"
    )


async def test_undefined_variable_in_an_agent_prompt_names_the_agent(tmp_path: Path) -> None:
    composer = PromptComposer(_small_library(tmp_path))
    with pytest.raises(PromptError, match=r"^the prompt of agent hue uses `agent\.tools`"):
        await composer.compose_agent(_context(_hue()), "{{ agent.tools }}")


def test_template_syntax_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    library = _library(tmp_path, {"angie.md": "Fine.\n{% if user.name %}\nNever closed.\n"})
    with pytest.raises(PromptError) as caught:
        library.render("angie.md", _context())
    message = str(caught.value)
    assert message.startswith("prompts/angie.md has a template error on line 3: Unexpected end")
    assert "'endif'" in message


def test_missing_template_is_an_error_naming_it(tmp_path: Path) -> None:
    library = _library(tmp_path, {"system.md": "S"})
    with pytest.raises(PromptError, match=r"^prompts/agents/nobody\.md does not exist$"):
        library.render("agents/nobody.md", _context())


async def test_missing_household_file_is_named_when_composing(tmp_path: Path) -> None:
    composer = PromptComposer(_library(tmp_path, {"system.md": "S"}))
    with pytest.raises(PromptError, match=r"^prompts/angie\.md does not exist$"):
        await composer.compose_conversation(_context(), [])


def test_templates_cannot_reach_python_internals(tmp_path: Path) -> None:
    library = _library(tmp_path, {"system.md": "{{ user.name.__class__.__mro__ }}"})
    with pytest.raises(PromptError, match="does something prompts may not do"):
        library.render("system.md", _context())


def test_check_refuses_a_variable_no_context_provides() -> None:
    with pytest.raises(PromptError, match=r"^note uses `nickname`, which is not defined$"):
        SHIPPED.check("Hi {{ nickname }}", name="note")


def test_check_accepts_every_context_variable() -> None:
    SHIPPED.check(
        "{{ user.name }} {{ now }} {{ timezone }} {{ channel }} {% if agent %}{% endif %}",
        name="note",
    )


def test_capabilities_print_as_a_bullet_list(tmp_path: Path) -> None:
    library = _library(tmp_path, {"a.md": "Tools:\n{{ agent.capabilities }}"})
    assert library.render("a.md", _context(_hue())) == (
        "Tools:\n"
        "- hue_list_lights: Every light with its room and state.\n"
        "- hue_set_room: Switch or dim every light of a room."
    )


def test_no_capabilities_say_that_no_tools_are_available(tmp_path: Path) -> None:
    library = _library(tmp_path, {"a.md": "{{ agent.capabilities }}"})
    agent = PromptAgent(name="hue")
    assert library.render("a.md", _context(agent)) == "No tools available right now."


def test_capabilities_can_be_looped_over(tmp_path: Path) -> None:
    source = "{% for tool in agent.capabilities %}[{{ tool.name }}]{% endfor %}"
    library = _library(tmp_path, {"a.md": source})
    assert library.render("a.md", _context(_hue())) == "[hue_list_lights][hue_set_room]"


def test_now_is_shown_in_the_context_timezone(tmp_path: Path) -> None:
    library = _library(tmp_path, {"a.md": "{{ now.isoformat() }}"})
    assert library.render("a.md", _context()) == "2026-03-01T09:30:00+01:00"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        PromptContext(user=SAM, now=datetime(2026, 3, 1), timezone="UTC", channel="cli")  # noqa: DTZ001


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ValueError, match="'Mars/Olympus' is not a known timezone"):
        PromptContext(user=SAM, now=NOW, timezone="Mars/Olympus", channel="cli")


def test_context_for_a_user_row_uses_preferred_name_and_timezone() -> None:
    user = User(email="sam@example.org", display_name="Sam Lee", timezone="Asia/Tokyo")
    user.preferred_name = "Dr. Lee"

    ctx = PromptContext.for_user(user, now=NOW, channel="web")

    assert ctx.user == PromptUser(name="Sam Lee", address_as="Dr. Lee", timezone="Asia/Tokyo")
    assert ctx.timezone == "Asia/Tokyo"


def test_context_for_a_user_without_a_preferred_name_uses_the_display_name() -> None:
    user = User(email="sam@example.org", display_name="Sam Lee", timezone="UTC")
    assert PromptContext.for_user(user, now=NOW, channel="cli").user.address_as == "Sam Lee"


@pytest.mark.parametrize("path", SHIPPED.templates())
def test_every_shipped_template_renders_with_a_full_context(path: str) -> None:
    text = SHIPPED.render(path, _context(_hue()))
    assert text.strip()
    assert "{{" not in text
    assert "{%" not in text


@pytest.mark.parametrize("path", SHIPPED.templates())
def test_every_shipped_template_uses_only_context_variables(path: str) -> None:
    SHIPPED.check(SHIPPED.source(path), name=path)


@pytest.mark.parametrize("path", [p for p in SHIPPED.templates() if not p.startswith("agents/")])
def test_every_shared_template_renders_in_a_conversation(path: str) -> None:
    assert SHIPPED.render(path, _context()).strip()


@pytest.mark.parametrize("name", sorted(SEEDED_AGENTS))
def test_every_agent_prompt_lists_the_agents_tools(name: str) -> None:
    agent = PromptAgent(name=name, capabilities=TOOLS)
    text = SHIPPED.render_source(SHIPPED.source(f"agents/{name}.md"), _context(agent), name=name)
    assert "- hue_list_lights: Every light with its room and state." in text


def test_every_seeded_agent_has_a_prompt_and_no_other() -> None:
    shipped = {p for p in SHIPPED.templates() if p.startswith("agents/")}
    # Besides the seeded agents' own, a server's manifest may name one (Angie's own server,
    # which the fleet splits into the crons, tasks, workflows and events agents).
    manifests = {m.prompt for m in discover().values()}
    assert {f"agents/{name}.md" for name in SEEDED_AGENTS} <= shipped
    assert shipped <= {f"agents/{name}.md" for name in SEEDED_AGENTS} | manifests


def test_onboarding_defaults_are_exactly_the_setup_topics() -> None:
    shipped = {p for p in SHIPPED.templates() if p.startswith("onboarding/")}
    assert shipped == {f"onboarding/{name}.md" for name in ONBOARDING_DOCS}
    assert list(SHIPPED.onboarding_defaults()) == list(ONBOARDING_DOCS)


def test_system_prompt_carries_the_safety_rules() -> None:
    text = SHIPPED.render("system.md", _context())
    assert "Tools are your only hands" in text
    assert "Never invent a tool result" in text
    assert "<untrusted-data>" in text
    assert "Say when something failed" in text
    assert "Sunday 2026-03-01 09:30 in Europe/Paris" in text


def test_angie_prompt_addresses_the_user_as_they_asked() -> None:
    assert "Address the user as Sam." in SHIPPED.render("angie.md", _context())


def test_a_checkout_finds_the_repositorys_prompts() -> None:
    assert prompts_dir() == ROOT / "prompts"


def test_the_binary_finds_its_bundled_prompts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = tmp_path / BUNDLED_PROMPTS
    bundled.mkdir()
    (bundled / "system.md").write_text("S", encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert prompts_dir() == bundled


def test_the_binary_spec_bundles_prompts_where_prompts_dir_looks() -> None:
    spec = (ROOT / "packaging" / "angie.spec").read_text(encoding="utf-8")
    assert f'BUNDLED_PROMPTS = "{BUNDLED_PROMPTS}"' in spec
    assert "*_data_files(PROMPTS, BUNDLED_PROMPTS)," in spec


def test_the_docker_build_context_keeps_the_prompts() -> None:
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # Docker leaves out everything under an ignored folder, so each parent is checked too.
    for path in ("prompts", "prompts/agents", "prompts/agents/hue.md", "prompts/system.md"):
        assert not any(fnmatch.fnmatch(path, pattern.lstrip("/")) for pattern in ignored), path


def test_capabilities_show_the_first_line_of_long_descriptions(tmp_path: Path) -> None:
    library = _library(tmp_path, {"a.md": "{{ agent.capabilities }}"})
    agent = PromptAgent(
        name="hue",
        capabilities=[("hue_status", "\n  Whether the bridge answers.\n\n  Args: none.\n")],
    )
    assert library.render("a.md", _context(agent)) == "- hue_status: Whether the bridge answers."
