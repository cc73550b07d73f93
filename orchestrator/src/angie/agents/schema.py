"""Tool calls checked against the MCP tool's input schema before anything else looks at them.

An argument the tool does not have, a missing required one or one of the wrong type goes back
to the model as a retry naming it, during pydantic-ai's argument validation: so the approval
policy (which acts when the call is made) never asks a person to approve a call that cannot run.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from jsonschema import SchemaError, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from pydantic_ai import ModelRetry, RunContext
from pydantic_ai.tools import AgentDepsT
from pydantic_ai.toolsets import WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

__all__ = ("SchemaToolset", "schema_problems")

log = logging.getLogger(__name__)

# Enough to fix a call; a model that got everything wrong hears about the first few things.
_MOST_PROBLEMS = 5


def _where(error: ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.removeprefix(".")


def _describe(error: ValidationError) -> list[str]:
    where = _where(error)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = set(schema.get("properties") or {})
        unknown = sorted(str(k) for k in error.instance if k not in known)
        inside = f" in {where!r}" if where else ""
        return [f"unknown argument {name!r}{inside}" for name in unknown] or [error.message]
    if error.validator == "required" and isinstance(error.validator_value, list):
        given = error.instance if isinstance(error.instance, dict) else {}
        missing = [str(name) for name in error.validator_value if name not in given]
        inside = f" in {where!r}" if where else ""
        return [f"missing required argument {name!r}{inside}" for name in missing]
    return [f"argument {where!r}: {error.message}" if where else error.message]


def schema_problems(validator: Validator, args: dict[str, Any]) -> list[str]:
    """What is wrong with ``args`` under the validator's schema, one short line each."""
    errors = sorted(validator.iter_errors(args), key=lambda e: (_where(e), e.message))
    problems: list[str] = []
    for error in errors:
        for problem in _describe(error):
            if problem not in problems:
                problems.append(problem)
    return problems


def _validator(schema: dict[str, Any]) -> Validator | None:
    """The schema's validator, made once per distinct schema in this process: checking a
    schema against its metaschema costs about a hundred times validating a call with it, and
    every run of every agent sees the same tools."""
    return _validator_of(json.dumps(schema, sort_keys=True, default=str))


@functools.lru_cache(maxsize=1024)
def _validator_of(text: str) -> Validator | None:
    schema = json.loads(text)
    try:
        cls = validator_for(schema)
        cls.check_schema(schema)
    except SchemaError as err:
        # The server's own schema is broken: the server is the judge of its arguments then.
        log.warning("a tool's input schema is invalid, its calls go unchecked: %s", err.message)
        return None
    validator: Validator = cls(schema)
    return validator


@dataclass
class SchemaToolset(WrapperToolset[AgentDepsT]):
    """Validates each call's arguments against its tool's JSON schema, as the model makes it.

    The check runs as the tool's ``args_validator_func``, which pydantic-ai calls while it
    validates a call and before any toolset's ``call_tool``: an invalid call is a
    ``ModelRetry`` (counted against the tool's retries) and no wrapper above this one sees it.
    """

    _validators: dict[str, tuple[dict[str, Any], Validator | None]] = field(
        default_factory=dict, init=False, repr=False
    )

    async def get_tools(self, ctx: RunContext[AgentDepsT]) -> dict[str, ToolsetTool[AgentDepsT]]:
        tools = await self.wrapped.get_tools(ctx)
        return {name: self._checked(name, tool) for name, tool in tools.items()}

    def _checked(self, name: str, tool: ToolsetTool[AgentDepsT]) -> ToolsetTool[AgentDepsT]:
        validator = self._validator_for(name, tool.tool_def.parameters_json_schema)
        if validator is None:
            return tool
        inner = tool.args_validator_func
        properties = sorted(validator.schema.get("properties") or {})

        async def check(ctx: RunContext[AgentDepsT], **args: Any) -> None:
            problems = schema_problems(validator, args)
            if problems:
                shown = "; ".join(problems[:_MOST_PROBLEMS])
                takes = ", ".join(properties) if properties else "no arguments"
                raise ModelRetry(
                    f"The call to {name!r} was not made: its arguments do not match the tool's "
                    f"input schema ({shown}). It takes: {takes}. Call it again with valid "
                    "arguments."
                )
            if inner is not None:
                result = inner(ctx, **args)
                if inspect.isawaitable(result):
                    await result

        return replace(tool, args_validator_func=check)

    def _validator_for(self, name: str, schema: dict[str, Any]) -> Validator | None:
        cached = self._validators.get(name)
        if cached is None or cached[0] != schema:
            # The tool list is fetched anew each run step; a server's schemas rarely change.
            cached = self._validators[name] = (schema, _validator(schema))
        return cached[1]
