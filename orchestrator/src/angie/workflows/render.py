"""Workflow step instructions: Jinja2 templates over the event and the earlier steps' outputs,
rendered in Angie's bounded sandbox.

When the event came from outside (a webhook), whatever an instruction prints from it reaches
the model fenced as data, however the template got it there (a slice, a loop, a filter).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateError

from angie.agents.trust import fence
from angie.prompts.sandbox import BoundedSandbox, TemplateLimit, render_bounded
from angie.prompts.tainted import taint

__all__ = ("TEMPLATES", "check_instruction", "render_instruction")

#: Instructions are written by people in the household, but still only see what they are
#: given, and are bounded in what they make.
TEMPLATES = BoundedSandbox(undefined=StrictUndefined, autoescape=False)
# For trying an instruction out before any event exists: every variable is a blank.
_TRIAL = BoundedSandbox(undefined=ChainableUndefined, autoescape=False)


def render_instruction(
    template: str, variables: dict[str, Any], *, outside: str | None = None
) -> str:
    """The instruction ``template`` renders to; with ``outside`` (where the event came from),
    the event's values are outside data, and every value printed from them is fenced.

    Bounded in size and time (:mod:`angie.prompts.sandbox`): call it off the event loop.
    """
    if outside is None:
        return render_bounded(TEMPLATES.from_string(template), variables).strip()
    values = {**variables, "event": taint(variables["event"]), "input": taint(variables["input"])}
    text = render_bounded(
        TEMPLATES.from_string(template), values, fence=partial(_fenced, source=outside)
    )
    return text.strip()


def check_instruction(template: str) -> None:
    """Raise :class:`TemplateLimit` when ``template`` goes over a bound whatever the data (a
    huge constant, a loop without end); what depends on the event shows when it runs."""
    try:
        render_bounded(_TRIAL.from_string(template), {})
    except TemplateLimit:
        raise
    except (TemplateError, TypeError, ValueError, ArithmeticError):
        # Blanks where the event will be can break what is fine with real data.
        return


def _fenced(text: str, source: str) -> str:
    # On lines of its own, so the fence never shares a line with the household's words.
    return f"\n{fence(text, source)}\n"
