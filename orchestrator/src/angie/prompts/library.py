"""Angie's prompt templates: where the shipped ones live, and rendering any of them safely.

Every prompt is a Jinja2 template rendered in a sandbox (prompts are edited by people, and a
template must not reach Python internals) with strict variables: a misspelt variable is a
:class:`PromptError` naming it, never a silent blank.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateRuntimeError,
    TemplateSyntaxError,
    UndefinedError,
    meta,
)
from jinja2.exceptions import SecurityError
from jinja2.utils import missing

from angie.prompts.context import VARIABLES, Namespace, path_of
from angie.prompts.errors import PromptError
from angie.prompts.sandbox import BoundedSandbox, TemplateLimit, render_bounded

if TYPE_CHECKING:
    from angie.prompts.context import PromptContext

__all__ = ("BUNDLED_PROMPTS", "ONBOARDING_DOCS", "PromptLibrary", "prompts_dir")

#: The topics of the setup interview, in the order their documents are composed.
ONBOARDING_DOCS = ("profile", "style", "schedule", "priorities", "people", "autonomy", "contact")
#: The folder inside the PyInstaller binary that holds the shipped prompts (packaging/angie.spec).
BUNDLED_PROMPTS = "angie_prompts"
# How errors name shipped templates, wherever the folder really is.
_SHOWN_AS = "prompts"


def prompts_dir() -> Path:
    """``prompts/`` at the root of a checkout, or the copy inside the PyInstaller binary."""
    bundle = getattr(sys, "_MEIPASS", None)
    candidates = [Path(bundle) / BUNDLED_PROMPTS] if bundle else []
    candidates.append(Path(__file__).resolve().parents[4] / "prompts")
    for candidate in candidates:
        if (candidate / "system.md").is_file():
            return candidate
    raise PromptError(f"Angie's prompts are missing (looked in {', '.join(map(str, candidates))})")


class _MissingVariable(UndefinedError):
    """A template used a variable that does not exist; the message is the variable's path."""


class _PathUndefined(StrictUndefined):
    """Strict, and names the missing variable by its full path (``user.nickname``)."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[TemplateRuntimeError] = UndefinedError,
    ) -> None:
        # Only a plain lookup miss becomes _MissingVariable; sandbox refusals keep their own.
        if hint is None and exc is UndefinedError:
            exc = _MissingVariable
        super().__init__(hint, obj, name, exc)

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        name, owner = self._undefined_name, self._undefined_obj
        if owner is missing:
            return f"`{name}`"
        step = f".{name}" if isinstance(name, str) else f"[{name!r}]"
        if isinstance(owner, Namespace):
            return f"`{path_of(owner)}{step}`"
        return f"`{step.lstrip('.')}` of a {type(owner).__name__}"


class PromptLibrary:
    """The templates in one folder (normally :func:`prompts_dir`), rendered with a context."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._loader = FileSystemLoader(root, encoding="utf-8")
        self._env = BoundedSandbox(
            loader=self._loader,
            undefined=_PathUndefined,
            # Markdown for a model, not HTML: escaping would only corrupt the text.
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=True,
        )
        # Prompts from the database are rendered on every turn; compile each text once.
        self._compile = lru_cache(maxsize=256)(self._env.from_string)

    def templates(self) -> list[str]:
        """Every shipped template, as a path relative to the root (``agents/hue.md``)."""
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*.md"))

    def source(self, path: str) -> str:
        """The raw text of a shipped template, e.g. an agent's prompt to seed the database with."""
        try:
            text, _filename, _uptodate = self._loader.get_source(self._env, path)
        except TemplateNotFound as err:
            raise PromptError(f"{_SHOWN_AS}/{path} does not exist") from err
        return text

    def onboarding_defaults(self) -> dict[str, str]:
        """The document a new user starts with for each setup topic, as template text."""
        return {name: self.source(f"onboarding/{name}.md") for name in ONBOARDING_DOCS}

    def render(self, path: str, ctx: PromptContext) -> str:
        """Render a shipped template, e.g. ``render("system.md", ctx)``.

        Rendering is bounded in size and time (:mod:`angie.prompts.sandbox`), yet takes up to a
        second: call it off the event loop.
        """
        where = f"{_SHOWN_AS}/{path}"
        with _translated(where):
            return render_bounded(self._env.get_template(path), ctx.variables())

    def render_source(self, source: str, ctx: PromptContext, *, name: str) -> str:
        """Render template text from elsewhere (the database); ``name`` says whose it is."""
        with _translated(name):
            template: Template = self._compile(source)
            return render_bounded(template, ctx.variables())

    def check(self, source: str, *, name: str) -> None:
        """Refuse text that is not a valid template or uses a variable no context provides.

        Catches what can be caught before rendering: syntax and top-level names. A misspelt
        attribute (``user.nickname``) is only found when the text is rendered.
        """
        with _translated(name):
            unknown = meta.find_undeclared_variables(self._env.parse(source)) - VARIABLES
        if unknown:
            first = sorted(unknown)[0]
            raise PromptError(f"{name} uses `{first}`, which is not defined")


@contextmanager
def _translated(where: str) -> Iterator[None]:
    """Turn Jinja2's and Python's errors into one sentence naming the template."""
    try:
        yield
    except TemplateNotFound as err:
        raise PromptError(f"{_SHOWN_AS}/{err.name} does not exist") from err
    except TemplateSyntaxError as err:
        shown = f"{_SHOWN_AS}/{err.name}" if err.name else where
        raise PromptError(
            f"{shown} has a template error on line {err.lineno}: {err.message}"
        ) from err
    except _MissingVariable as err:
        raise PromptError(f"{where} uses {err.message}, which is not defined") from err
    except TemplateLimit as err:
        raise PromptError(f"{where} is too big to render: {err.message}") from err
    except SecurityError as err:
        raise PromptError(f"{where} does something prompts may not do: {err.message}") from err
    except TemplateError as err:
        raise PromptError(f"{where} cannot be rendered: {err.message}") from err
    except (TypeError, ValueError, ArithmeticError) as err:
        # Template code can call methods wrongly (`now.strftime(5)`) or divide by zero.
        raise PromptError(f"{where} cannot be rendered: {err}") from err
