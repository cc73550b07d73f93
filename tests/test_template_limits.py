"""Template bombs: every way a prompt or a workflow step could make a huge value, loop without
end or print without end is refused fast, when it is saved and when it is rendered."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from api_support import ApiHarness, agent_id, error_message, step

from angie.prompts import PromptContext, PromptError, PromptLibrary, PromptUser, prompts_dir
from angie.prompts.sandbox import TemplateLimit
from angie.workflows.render import check_instruction, render_instruction

# Generous: each bomb is refused in well under a second; unbounded, the first ones took 6 s
# and 23 s and the loops would run for hours.
pytestmark = pytest.mark.timeout(30)

BOMBS = {
    "constant string": '{{ "a" * 300000000 }}',
    "constant in a variable": '{% set a = "a" * 300000000 %}done',
    "list": "{{ [0] * 3000000 }}",
    "huge range": "{% for i in range(100000) %}{% for j in range(100000) %}"
    "{% endfor %}{% endfor %}",
    "nested loops": "{% for i in range(10000) %}{% for j in range(10000) %}"
    "{% endfor %}{% endfor %}",
    "output": '{% for i in range(10000) %}{{ "x" * 1000 }}{% endfor %}',
    "literal output": "{% for i in range(10000) %}" + "y" * 500 + "{% endfor %}",
    "doubling": '{% set ns = namespace(s="ab") %}{% for i in range(60) %}'
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "macro fan-out": "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}"
    "{% endmacro %}{{ m(60) }}",
    "power": "{{ 10 ** 100000000 }}",
    "format width": '{{ "%300000000d" % 1 }}',
    "center filter": '{{ "a"|center(300000000) }}',
    "join filter": '{% set b = "x" * 200000 %}{{ ([b] * 1000)|join }}',
    "replace filter": '{{ ("a" * 1000)|replace("a", "b" * 10000) }}',
    "batch filter": '{{ [1]|batch(300000000, "x")|list|length }}',
    "tojson indent": "{{ range(5000)|list|tojson(indent=100000) }}",
}
CTX = PromptContext(
    user=PromptUser(name="Sam", address_as="Sam"),
    now=datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
    timezone="UTC",
    channel="web",
)
VARIABLES: dict[str, Any] = {"event": {"payload": {}}, "steps": {}, "previous": None, "input": {}}


@pytest.mark.parametrize("source", BOMBS.values(), ids=BOMBS.keys())
def test_a_bomb_in_a_workflow_step_is_refused_when_rendered(source: str) -> None:
    with pytest.raises(TemplateLimit):
        render_instruction(source, VARIABLES)


@pytest.mark.parametrize("source", BOMBS.values(), ids=BOMBS.keys())
def test_a_bomb_in_a_workflow_step_is_found_before_any_event(source: str) -> None:
    with pytest.raises(TemplateLimit):
        check_instruction(source)


@pytest.mark.parametrize("source", BOMBS.values(), ids=BOMBS.keys())
def test_a_bomb_in_a_prompt_is_refused_when_rendered(source: str) -> None:
    with pytest.raises(PromptError, match="is too big to render"):
        PromptLibrary(prompts_dir()).render_source(source, CTX, name="user prompt `profile`")


def test_a_template_over_the_size_limit_is_refused() -> None:
    with pytest.raises(TemplateLimit, match="characters"):
        render_instruction("x" * 200_000, VARIABLES)


def test_ordinary_templates_still_render() -> None:
    source = (
        '{% for i in range(3) %}{{ i }}{% endfor %} {{ "ab" * 2 }} {{ [1, 2]|join(",") }} '
        '{{ "%5.1f" % 2.25 }} {{ 2 ** 10 }} {{ event.payload.name ~ "!" }}'
    )
    variables = {**VARIABLES, "event": {"payload": {"name": "Sam"}}}
    assert render_instruction(source, variables) == "012 abab 1,2   2.2 1024 Sam!"


async def test_saving_a_workflow_step_bomb_is_refused(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    github = await agent_id(api, "github")
    for name, source in BOMBS.items():
        steps = [step("fine", "say hi", agent_id=github), step("bomb", source, agent_id=github)]
        response = await api.client.post(
            "/api/workflows", json={"name": "w", "steps": steps}, headers=sam.headers
        )
        message = error_message(response, 422)
        assert "steps.1.instruction" in message, name
        assert "too big" in message, name


async def test_saving_a_prompt_document_bomb_is_refused(api: ApiHarness) -> None:
    sam = await api.signup("sam")
    for name, source in BOMBS.items():
        response = await api.client.put(
            "/api/prompts/profile", json={"body": source}, headers=sam.headers
        )
        message = error_message(response, 422)
        assert "user prompt `profile` is too big to render" in message, name


def test_a_text_method_that_can_grow_names_the_filter_to_use() -> None:
    with pytest.raises(PromptError, match="use the `join` filter instead"):
        PromptLibrary(prompts_dir()).render_source('{{ ",".join(["a"]) }}', CTX, name="doc")
