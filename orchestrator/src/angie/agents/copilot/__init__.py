"""GitHub Copilot as a pydantic-ai model: each request runs through a Copilot runtime session.

Copilot runs an agent loop of its own; Angie keeps hers. Her tools are declared to the session
without handlers, so a tool call pauses the session on an external tool request, goes back to
pydantic-ai like any model's tool call, and the next request's tool results resume it. The
runtime (a native binary from npm, see ``make copilot-runtime``) runs while agent runs use it.
"""

from angie.agents.copilot.model import CopilotModel
from angie.agents.copilot.runtime import RUNTIME_DIR, RUNTIME_VERSION, find_runtime, runtime_in

__all__ = ("RUNTIME_DIR", "RUNTIME_VERSION", "CopilotModel", "find_runtime", "runtime_in")
