"""An account's tools named for it when a person has several accounts of one server:
``gmail_search`` becomes ``gmail_work_search``, each name reaching that account's own instance."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.toolsets import WrapperToolset
from pydantic_ai.toolsets.abstract import ToolsetTool

__all__ = ("AccountNamedToolset",)


@dataclass
class AccountNamedToolset(WrapperToolset[Any]):
    """Insert ``account`` after the server's prefix in every tool name, and say in each
    description whose account it is, so the model can pick one by what the person said."""

    server: str
    account: str
    account_label: str

    def _named(self, name: str) -> str:
        return f"{self.server}_{self.account}_{name.removeprefix(f'{self.server}_')}"

    def _original(self, name: str) -> str:
        return f"{self.server}_{name.removeprefix(f'{self.server}_{self.account}_')}"

    async def get_tools(self, ctx: RunContext[Any]) -> dict[str, ToolsetTool[Any]]:
        tools = await super().get_tools(ctx)
        named: dict[str, ToolsetTool[Any]] = {}
        for name, tool in tools.items():
            new = self._named(name)
            said = f"(account {self.account_label}) {tool.tool_def.description or ''}".strip()
            named[new] = replace(
                tool, toolset=self, tool_def=replace(tool.tool_def, name=new, description=said)
            )
        return named

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        original = self._original(name)
        ctx = replace(ctx, tool_name=original)
        tool = replace(tool, tool_def=replace(tool.tool_def, name=original))
        return await super().call_tool(original, tool_args, ctx, tool)
