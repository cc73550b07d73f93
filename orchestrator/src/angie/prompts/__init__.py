"""Angie's prompt hierarchy: SYSTEM, ANGIE, AGENT and USER prompts, rendered and composed.

The shipped templates live in ``prompts/`` (:func:`prompts_dir`); the household's edits and
each person's documents are versions in the ``prompts`` table.
"""

from angie.prompts.compose import PromptComposer
from angie.prompts.context import PromptAgent, PromptContext, PromptUser, Tool
from angie.prompts.errors import PromptError
from angie.prompts.household import HOUSEHOLD_KINDS, HouseholdPromptStore
from angie.prompts.library import BUNDLED_PROMPTS, ONBOARDING_DOCS, PromptLibrary, prompts_dir
from angie.prompts.user_store import ConversationPrompts, UserPromptStore, doc_order
from angie.prompts.versions import MAX_BODY_BYTES, PromptVersion

__all__ = (
    "BUNDLED_PROMPTS",
    "HOUSEHOLD_KINDS",
    "MAX_BODY_BYTES",
    "ONBOARDING_DOCS",
    "ConversationPrompts",
    "HouseholdPromptStore",
    "PromptAgent",
    "PromptComposer",
    "PromptContext",
    "PromptError",
    "PromptLibrary",
    "PromptUser",
    "PromptVersion",
    "Tool",
    "UserPromptStore",
    "doc_order",
    "prompts_dir",
)
