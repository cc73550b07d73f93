"""The approval policy: which MCP tool calls Angie makes on her own, which wait for the user's
approval, and which never happen."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from pydantic_ai import ApprovalRequired, RunContext, ToolFailed
from pydantic_ai.messages import ToolCallPart, ToolReturnPart
from pydantic_ai.tools import AgentDepsT, ToolDefinition
from pydantic_ai.toolsets import WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from angie.agents.rules import PersonRules
from angie.agents.trust import RunTrust, taint_reason
from angie.db.models import ApprovalMode, ContentTrust, McpServer, RuleDecision

__all__ = (
    "TAINTED_NEVER",
    "ApprovalPolicy",
    "Decision",
    "PolicyToolset",
    "ServerPolicy",
    "ToolForbidden",
    "always_asks",
    "args_hash",
    "is_read_only",
    "load_policy",
    "never_when_tainted",
)

log = logging.getLogger(__name__)


class Decision(StrEnum):
    ALLOW = "allow"
    ASK = "ask"
    NEVER = "never"


_MODE_DECISIONS = {
    ApprovalMode.ALLOW: Decision.ALLOW,
    ApprovalMode.ASK: Decision.ASK,
    ApprovalMode.NEVER: Decision.NEVER,
}


def is_read_only(tool_def: ToolDefinition) -> bool:
    """Whether the server declares the tool read-only (MCP ``readOnlyHint``).

    pydantic-ai's ``MCPToolset`` puts the MCP annotations, camelCase as on the wire, under
    ``metadata["annotations"]``. No annotations means not read-only, and a tool that claims
    both read-only and destructive is taken at its more dangerous word.
    """
    hints = (tool_def.metadata or {}).get("annotations") or {}
    return hints.get("readOnlyHint") is True and hints.get("destructiveHint") is not True


def always_asks(tool_def: ToolDefinition) -> bool:
    """Whether the server marks the tool as one whose every call the person approves (tool
    ``meta`` ``{"angie/approval": "always"}``: unlocking a door, disarming an alarm)."""
    meta = (tool_def.metadata or {}).get("meta") or {}
    return isinstance(meta, dict) and meta.get("angie/approval") == "always"


def never_when_tainted(tool_def: ToolDefinition) -> bool:
    """Whether the server marks the tool as one no untrusted run may call, even with approval
    (tool ``meta`` ``{"angie/tainted": "never"}``: creating or changing crons, workflows,
    webhooks)."""
    meta = (tool_def.metadata or {}).get("meta") or {}
    return isinstance(meta, dict) and meta.get("angie/tainted") == "never"


# Why a tool marked never-when-tainted was refused: the model reads it and tells the person.
TAINTED_NEVER = (
    "this run read content from outside, and such a run never creates or changes crons, "
    "workflows or webhooks; ask the person to do it in a new request"
)


@dataclass(frozen=True, slots=True)
class ServerPolicy:
    """One server's policy: its mode and per-tool overrides keyed by the server's own tool name."""

    name: str
    mode: ApprovalMode = ApprovalMode.AUTO
    tool_policies: Mapping[str, Decision] = field(default_factory=dict)
    # An admin's choice of the server's content trust; None follows what the server declares.
    content_trust: ContentTrust | None = None

    def __post_init__(self) -> None:
        # Plain strings are accepted (the API and the database speak them); anything else is
        # refused here rather than silently meaning something at call time.
        object.__setattr__(self, "mode", ApprovalMode(self.mode))
        object.__setattr__(
            self,
            "tool_policies",
            MappingProxyType({tool: Decision(d) for tool, d in self.tool_policies.items()}),
        )
        if self.content_trust is not None:
            object.__setattr__(self, "content_trust", ContentTrust(self.content_trust))


class ApprovalPolicy:
    """The policy of every server, as plain data: loaded from the database, changed by the API."""

    def __init__(
        self, servers: Iterable[ServerPolicy] = (), person: PersonRules | None = None
    ) -> None:
        self._servers = {server.name: server for server in servers}
        # The rules of the person a run works for, applied after the household's policy.
        self.person = person or PersonRules()

    def for_person(self, rules: PersonRules) -> ApprovalPolicy:
        """This household policy with one person's own rules on top."""
        return ApprovalPolicy(self._servers.values(), rules)

    @property
    def servers(self) -> tuple[ServerPolicy, ...]:
        return tuple(self._servers.values())

    def server(self, name: str) -> ServerPolicy:
        """The named server's policy; a server with none follows its tools' annotations."""
        return self._servers.get(name) or ServerPolicy(name)

    def trusts_content(self, server: str, declared: ContentTrust | str | None) -> bool:
        """Whether ``server``'s tool outputs can be read without tainting the run: the admin's
        choice, else what the server declares; a server that declares nothing (any third-party
        server) is untrusted."""
        choice = self.server(server).content_trust or declared or ContentTrust.UNTRUSTED
        return ContentTrust(choice) is ContentTrust.TRUSTED

    def decide(
        self, server: str, tool: str, tool_def: ToolDefinition, *, untrusted: bool
    ) -> Decision:
        """What to do with a call to ``tool`` (the server's own, unprefixed name) on ``server``."""
        return self.verdict(server, tool, tool_def, untrusted=untrusted)[0]

    def verdict(
        self, server: str, tool: str, tool_def: ToolDefinition, *, untrusted: bool
    ) -> tuple[Decision, str | None]:
        """:meth:`decide`, and the person's rule that made the call ask, when one did.

        The per-tool override wins over the server's mode, which wins over the annotations.
        Then the person's own rules: their ``ask`` turns an allow into ask, their ``allow``
        turns an ask into allow; never stays never. An untrusted run (started by a webhook or
        an inbound email, or tainted by what it read) can only be stricter: any tool that is
        not read-only asks even where the policy or a rule allows it. A tool its server marks
        "always ask" asks whatever the household's policy allows; only the person's own rule
        naming that very tool (its pattern is exactly the prefixed name, no wildcard) lets it
        run without asking, and never in an untrusted run. A tool its server marks "never when
        tainted" is refused outright in an untrusted run, whatever policy or rule says.
        """
        if untrusted and never_when_tainted(tool_def):
            return Decision.NEVER, TAINTED_NEVER
        policy = self.server(server)
        read_only = is_read_only(tool_def)
        prefixed = f"{server}_{tool}"
        decision = (
            policy.tool_policies.get(tool)
            or _MODE_DECISIONS.get(policy.mode)
            or (Decision.ALLOW if read_only else Decision.ASK)
        )
        named = False
        because = None
        rule = self.person.match(prefixed, tool_def)
        if rule is not None and decision is not Decision.NEVER:
            if rule.decision is RuleDecision.ASK and decision is Decision.ALLOW:
                decision, because = Decision.ASK, f"your rule: {rule.label}"
            elif rule.decision is RuleDecision.ALLOW:
                decision, named = Decision.ALLOW, rule.pattern == prefixed
        if decision is Decision.ALLOW and (
            (always_asks(tool_def) and not named) or (untrusted and not read_only)
        ):
            return Decision.ASK, None
        return decision, because


def _tool_policies(server: str, raw: Mapping[str, Any]) -> dict[str, Decision]:
    policies: dict[str, Decision] = {}
    for tool, value in raw.items():
        try:
            policies[tool] = Decision(value)
        except ValueError:
            # A typo must not loosen anything: the call waits for the user instead.
            log.warning("server %s: unknown policy %r for tool %s; asking", server, value, tool)
            policies[tool] = Decision.ASK
    return policies


async def load_policy(session: AsyncSession) -> ApprovalPolicy:
    """The approval policy of every server in the ``mcp_servers`` table."""
    rows = await session.execute(
        select(
            McpServer.name,
            McpServer.approval_mode,
            McpServer.tool_policies,
            McpServer.content_trust,
        )
    )
    return ApprovalPolicy(
        ServerPolicy(name, mode, _tool_policies(name, tool_policies or {}), trust)
        for name, mode, tool_policies, trust in rows
    )


def args_hash(tool: str, args: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a tool name and its arguments.

    An approval is bound to this hash: the user approves exactly this call, not whatever the
    model sends next under the same tool call id.
    """
    canonical = json.dumps(
        {"tool": tool, "arguments": args},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ToolForbidden(ToolFailed):
    """A call the user's policy forbids: the model is told so, and the tool is not run."""


@dataclass
class PolicyToolset(WrapperToolset[AgentDepsT]):
    """Applies the approval policy to one server's prefixed tools.

    allow: the call goes through. ask: the run stops with ``ApprovalRequired`` (the call shows up
    in the run's ``DeferredToolRequests``, its metadata naming server, tool and ``args_hash``)
    until it is resumed with the user's approval. never: the tool is hidden from the model
    (``hide_forbidden``, the default: the model cannot reach for what it cannot see). A call that
    reaches it anyway (the policy changed while the run waited for approval, or hiding is off)
    fails with ``ToolForbidden``: a terminal result the model reads, not a retry. After that
    refusal the tool is hidden for the rest of the run, so a model that insists meets
    pydantic-ai's bounded unknown-tool retries instead of looping.

    ``untrusted`` is set for runs started by webhooks or inbound email, and ``trust`` follows a
    run that becomes tainted by reading outside content (see :mod:`angie.agents.trust`): either
    way ``ApprovalPolicy.decide`` can only get stricter, and the approval request says why.
    The policy may carry the rules of the person the run works for
    (:meth:`ApprovalPolicy.for_person`); where one of them made a call ask, the request cites it.
    """

    server: str
    policy: ApprovalPolicy
    untrusted: bool = False
    hide_forbidden: bool = True
    trust: RunTrust | None = None

    def _tool_name(self, name: str) -> str:
        return name.removeprefix(f"{self.server}_")

    @property
    def _tainted_by(self) -> str | None:
        if self.trust is not None and self.trust.tainted_by is not None:
            return self.trust.tainted_by
        return "a message from outside" if self.untrusted else None

    def _decide(self, name: str, tool_def: ToolDefinition) -> Decision:
        return self._verdict(name, tool_def)[0]

    def _verdict(self, name: str, tool_def: ToolDefinition) -> tuple[Decision, str | None]:
        return self.policy.verdict(
            self.server,
            self._tool_name(name),
            tool_def,
            untrusted=self._tainted_by is not None,
        )

    def _refusal(self, name: str, because: str | None = None) -> str:
        if because == TAINTED_NEVER:
            return f"The tool {name!r} was not run: {TAINTED_NEVER}. Do not call it again."
        return (
            f"The user's policy forbids the tool {name!r}, so it was not run. Do not call it "
            "again; tell the user it is blocked and that they can change its approval policy."
        )

    async def get_tools(self, ctx: RunContext[AgentDepsT]) -> dict[str, ToolsetTool[AgentDepsT]]:
        tools = await self.wrapped.get_tools(ctx)
        refused: set[str] = set()
        unanswered: dict[str, str] = {}
        for message in ctx.messages:
            for part in message.parts:
                if isinstance(part, ToolCallPart):
                    unanswered[part.tool_call_id] = part.tool_name
                elif isinstance(part, ToolReturnPart):
                    unanswered.pop(part.tool_call_id, None)
                    if part.outcome == "failed" and part.content in {
                        self._refusal(part.tool_name),
                        self._refusal(part.tool_name, TAINTED_NEVER),
                    }:
                        refused.add(part.tool_name)
        called = set(unanswered.values())
        # A call still waiting for its answer (a run resumed after approval) keeps its tool
        # listed even if it is now forbidden, so the model hears why rather than "unknown tool".
        return {
            name: tool
            for name, tool in tools.items()
            if name in called or (name not in refused and not self._hidden(name, tool.tool_def))
        }

    def _hidden(self, name: str, tool_def: ToolDefinition) -> bool:
        # A tool refused only because the run is tainted stays listed until it is called, so
        # the model hears why and can tell the person, rather than meeting an unknown tool.
        decision, because = self._verdict(name, tool_def)
        return self.hide_forbidden and decision is Decision.NEVER and because != TAINTED_NEVER

    async def call_tool(
        self,
        name: str,
        tool_args: dict[str, Any],
        ctx: RunContext[AgentDepsT],
        tool: ToolsetTool[AgentDepsT],
    ) -> Any:
        decision, because = self._verdict(name, tool.tool_def)
        if decision is Decision.NEVER:
            raise ToolForbidden(self._refusal(name, because))
        if decision is Decision.ASK and not self._approved(name, tool_args, ctx):
            tainted_by = self._tainted_by
            raise ApprovalRequired(
                metadata={
                    "server": self.server,
                    "tool": self._tool_name(name),
                    "args_hash": args_hash(name, tool_args),
                    "untrusted": tainted_by is not None,
                    **(
                        {"tainted_by": tainted_by, "reason": taint_reason(tainted_by)}
                        if tainted_by is not None and not is_read_only(tool.tool_def)
                        else {"reason": because}
                        if because is not None
                        else {}
                    ),
                }
            )
        return await self.wrapped.call_tool(name, tool_args, ctx, tool)

    def _approved(self, name: str, tool_args: dict[str, Any], ctx: RunContext[AgentDepsT]) -> bool:
        return approved_as_shown(name, tool_args, ctx)


def approved_as_shown(name: str, tool_args: Mapping[str, Any], ctx: RunContext[Any]) -> bool:
    """Whether the person approved this very call: approved, and (when the approver passed the
    hash of what the person saw) with the same arguments; otherwise it is a different call and
    the person is asked again."""
    if not ctx.tool_call_approved:
        return False
    metadata = ctx.tool_call_metadata
    if isinstance(metadata, Mapping) and "args_hash" in metadata:
        return bool(metadata["args_hash"] == args_hash(name, tool_args))
    return True
