"""Where each model provider's API key lives: the environment variables pydantic-ai's providers
read, in the order they read them (``angie config model --api-key`` writes the first)."""

from __future__ import annotations

import os

from angie.settings import AngieSettings

__all__ = ("PROVIDER_KEYS", "key_variable", "provider_key")

_OPENAI = ("OPENAI_API_KEY",)

#: Provider prefix of a model string -> the variables its pydantic-ai provider reads a key from.
PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "openai": _OPENAI,
    "openai-chat": _OPENAI,
    "openai-responses": _OPENAI,
    "anthropic": ("ANTHROPIC_API_KEY",),
    "google": ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
    "groq": ("GROQ_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "cerebras": ("CEREBRAS_API_KEY",),
    "cohere": ("CO_API_KEY",),
    "xai": ("XAI_API_KEY",),
    "moonshotai": ("MOONSHOTAI_API_KEY",),
    "fireworks": ("FIREWORKS_API_KEY",),
    "together": ("TOGETHER_API_KEY",),
    "huggingface": ("HF_TOKEN",),
    "nebius": ("NEBIUS_API_KEY",),
    "ovhcloud": ("OVHCLOUD_API_KEY",),
    "sambanova": ("SAMBANOVA_API_KEY",),
    "alibaba": ("ALIBABA_API_KEY", "DASHSCOPE_API_KEY"),
    "heroku": ("HEROKU_INFERENCE_KEY",),
    "vercel": ("VERCEL_AI_GATEWAY_API_KEY",),
    "meta": ("META_API_KEY",),
    "crusoe": ("CRUSOE_API_KEY",),
    "zai": ("ZAI_API_KEY",),
}


def key_variable(provider: str) -> str | None:
    """The variable a key for ``provider`` is written to; None for a provider without one."""
    names = PROVIDER_KEYS.get(provider)
    return names[0] if names else None


def provider_key(provider: str, settings: AngieSettings) -> str | None:
    """The key to hand ``provider`` when only Angie's env file holds it; None when there is none
    or the process environment has one (the provider reads that itself, as it would anyway)."""
    names = PROVIDER_KEYS.get(provider, ())
    if any(os.environ.get(name) for name in names):
        return None
    return next((value for name in names if (value := settings.environ(name))), None)
