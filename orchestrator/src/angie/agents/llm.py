"""The language models Angie's agents think with: a model string (``ANGIE_MODEL`` or an agent's own)
becomes a pydantic-ai :class:`~pydantic_ai.models.Model`, with errors a user can act on."""

from __future__ import annotations

import functools
import os
import re
import socket
import ssl
import weakref
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelQuotaExceededError,
    ModelRequestTimeout,
    ModelTimeoutError,
    UserError,
)
from pydantic_ai.models import Model, infer_model, parse_model_id
from pydantic_ai.providers import Provider, infer_provider_class

from angie.agents.provider_keys import key_variable, provider_key
from angie.errors import Unavailable
from angie.settings import AngieSettings, SettingsError

__all__ = (
    "OPENAI_COMPATIBLE",
    "ModelConfigError",
    "ModelFailed",
    "ModelNotConfigured",
    "build_model",
    "clear_model_cache",
    "describe_model",
    "model_failure",
)

#: Prefixes that ANGIE_MODEL_BASE_URL applies to: servers speaking OpenAI's chat-completions API.
OPENAI_COMPATIBLE = frozenset({"openai", "openai-chat", "ollama", "vllm", "litellm"})
_COPILOT = "copilot"
# A user sees these, so the common choices come first and the rest of pydantic-ai is named once.
_SUPPORTED = (
    "openai:, anthropic:, ollama: or vllm: (with ANGIE_MODEL_BASE_URL), copilot: "
    "or another provider pydantic-ai knows, such as openrouter: or deepseek:"
)
_ENV_NAME = re.compile(r"`([A-Z][A-Z0-9_]*_(?:KEY|TOKEN|URL|SECRET)[A-Z0-9_]*)`")
_COPILOT_TOKENS = ("COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN")


class ModelConfigError(SettingsError):
    """A model string or its credentials are wrong; the message is one sentence for the user."""


class ModelFailed(Unavailable):
    """A request to the language model's server failed; the message says where and what to
    check. ``transient`` when the same request may well succeed a little later."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class ModelNotConfigured(ModelConfigError):
    """No model is configured at all."""

    def __init__(self) -> None:
        super().__init__(
            "No language model is configured: set ANGIE_MODEL, for example openai:gpt-4o "
            "(with OPENAI_API_KEY), anthropic:claude-sonnet-4-5 (with ANTHROPIC_API_KEY) or "
            "ollama:llama3.1 with ANGIE_MODEL_BASE_URL=http://127.0.0.1:11434/v1 for a local "
            "Ollama, or run `angie config model`."
        )


def build_model(model: str | None, settings: AngieSettings) -> Model:
    """The model for ``model`` (an agent's own choice) or, when it is None, ``settings.model``.

    Raises :class:`ModelNotConfigured` when neither is set and :class:`ModelConfigError` for an
    unknown provider or a missing key. Models are cached per configuration, so agents that share
    one share its connection pool (and, for Copilot, its runtime process).
    """
    name = (model or settings.model or "").strip()
    if not name:
        raise ModelNotConfigured
    provider, _ = parse_model_id(name)
    base_url = settings.model_base_url if provider in OPENAI_COMPATIBLE | {_COPILOT} else None
    api_key = settings.model_api_key.get_secret_value() if settings.model_api_key else None
    cli_path, home = None, None
    if provider == _COPILOT:
        cli_path, home = settings.copilot_cli_path, settings.data_dir / "copilot"
        if cli_path is not None and not cli_path.is_file():
            raise ModelConfigError(
                f"ANGIE_COPILOT_CLI_PATH: there is no Copilot runtime at {cli_path} "
                "(`make copilot-runtime` installs one and prints its path)."
            )
    # A provider's own key (OPENAI_API_KEY, …) from Angie's env file, when only that has it.
    own_key = None if provider is None or base_url else provider_key(provider, settings)
    try:
        built = _build(name, base_url, api_key, cli_path, home, own_key)
    except ModelConfigError as err:
        source = "The agent's model" if model else "ANGIE_MODEL"
        raise ModelConfigError(f"{source} {name!r} {err}") from None
    own = name != (settings.model or "").strip()
    if len(_origins) > 64:  # forget models the cache dropped
        for key in [k for k, (ref, _) in _origins.items() if ref() is None]:
            del _origins[key]
    _origins[id(built)] = (weakref.ref(built), _Origin(name, own, base_url, provider))
    return built


def clear_model_cache() -> None:
    """Forget built models, so changed credentials in the environment take effect."""
    _build.cache_clear()


def describe_model(settings: AngieSettings, model: str | None = None) -> str:
    """A short description for status output: provider, model and server host; never a key."""
    name = (model or settings.model or "").strip()
    if not name:
        return "no model configured (set ANGIE_MODEL)"
    provider, model_name = parse_model_id(name)
    if provider is None:
        return model_name
    base_url = settings.model_base_url if provider in OPENAI_COMPATIBLE | {_COPILOT} else None
    if provider == _COPILOT:
        where = f"via {_host(base_url)}" if base_url else "via GitHub"
        return f"GitHub Copilot {model_name} ({where})"
    if base_url:
        return f"{provider} {model_name} at {_host(base_url)}"
    return f"{provider} {model_name}"


def _host(url: str) -> str:
    """The host[:port] of a URL, without user info, path or query (they can carry secrets)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "an unreadable URL"


@functools.lru_cache(maxsize=32)
def _build(
    name: str,
    base_url: str | None,
    api_key: str | None,
    cli_path: Path | None,
    home: Path | None,
    own_key: str | None,
) -> Model:
    """The model; a :class:`ModelConfigError` here finishes the sentence "<model string> …"."""
    provider, model_name = parse_model_id(name)
    if provider is None:
        if name == "test":  # pydantic-ai's canned-answer model, handy for trying Angie out
            return infer_model(name)
        raise ModelConfigError(f"names no provider: write provider:model, using {_SUPPORTED}.")
    if not model_name:
        raise ModelConfigError(f"names no model after {provider}:.")
    if provider == _COPILOT:
        return _copilot(model_name, base_url, api_key, cli_path, home)
    if base_url and provider in OPENAI_COMPATIBLE:
        return _openai_compatible(provider, model_name, base_url, api_key)
    if provider in {"ollama", "vllm", "litellm"}:
        raise ModelConfigError(
            f"needs ANGIE_MODEL_BASE_URL, the address of the {provider} server "
            "(for Ollama usually http://127.0.0.1:11434/v1)."
        )
    return _infer(name, provider, own_key)


def _infer(name: str, provider: str, own_key: str | None) -> Model:
    """Any other pydantic-ai provider, with its own environment variables for keys."""
    missing_sdk = ModelConfigError(
        f"needs the SDK of the {provider} provider, which Angie does not install; use {_SUPPORTED}."
    )
    try:
        provider_class = infer_provider_class(provider)
    except ValueError:
        raise ModelConfigError(f"has an unknown provider {provider!r}: use {_SUPPORTED}.") from None
    except ImportError:
        raise missing_sdk from None
    try:
        if own_key:
            # Each provider with a key variable takes the key as api_key (see provider_keys).
            keyed: Any = provider_class
            return infer_model(name, provider_factory=lambda _: keyed(api_key=own_key))
        return infer_model(name)
    except ImportError:
        raise missing_sdk from None
    except UserError as err:
        # pydantic-ai names the missing variable in backticks; the message never holds a key.
        variable = _ENV_NAME.search(str(err))
        if variable is None:
            raise ModelConfigError(f"cannot be used: {err}") from None
        hint = " (`angie config model --api-key` writes it there)" if key_variable(provider) else ""
        raise ModelConfigError(
            f"needs {variable.group(1)} to be set in Angie's environment or her .env file{hint}."
        ) from None


def _openai_compatible(provider: str, model_name: str, base_url: str, api_key: str | None) -> Model:
    """A chat-completions server at ANGIE_MODEL_BASE_URL (Ollama, vLLM, llama.cpp, a proxy)."""
    from pydantic_ai.models.openai import OpenAIChatModel

    client: Provider[Any]
    if provider == "ollama":
        from pydantic_ai.providers.ollama import OllamaProvider

        client = OllamaProvider(base_url=base_url, api_key=api_key)
    elif provider == "vllm":
        from pydantic_ai.providers.vllm import VLLMProvider

        client = VLLMProvider(base_url=base_url, api_key=api_key)
    elif provider == "litellm":
        from pydantic_ai.providers.litellm import LiteLLMProvider

        client = LiteLLMProvider(api_base=base_url, api_key=api_key)
    else:
        # Not OpenAIProvider: that one would send OPENAI_API_KEY to whatever server this is.
        from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

        client = OpenAICompatibleProvider("openai-compatible", base_url=base_url, api_key=api_key)
    if provider == "ollama":
        return infer_model(f"ollama:{model_name}", provider_factory=lambda _: client)
    return OpenAIChatModel(model_name, provider=client)


def _copilot(
    model_name: str,
    base_url: str | None,
    api_key: str | None,
    cli_path: Path | None,
    home: Path | None,
) -> Model:
    from angie.agents.copilot import CopilotModel, find_runtime

    if base_url is None and not any(os.environ.get(var) for var in _COPILOT_TOKENS):
        raise ModelConfigError(
            "needs COPILOT_GITHUB_TOKEN (a GitHub token with Copilot access), or "
            "ANGIE_MODEL_BASE_URL to run Copilot on your own model server."
        )
    return CopilotModel(
        model_name, runtime=find_runtime(cli_path), home=home, base_url=base_url, api_key=api_key
    )


# -- failures --------------------------------------------------------------------------------


class _Origin:
    """The settings a built model came from, to name them when its server fails."""

    def __init__(self, name: str, own: bool, base_url: str | None, provider: str | None) -> None:
        self.name = name
        self.own = own
        self.base_url = base_url
        self.provider = provider

    def settings(self) -> str:
        said = [f"the agent's model {self.name}" if self.own else f"ANGIE_MODEL={self.name}"]
        if self.base_url:
            said.append(f"ANGIE_MODEL_BASE_URL={_safe_url(self.base_url)}")
        return ", ".join(said)

    def key_setting(self) -> str:
        if self.base_url:
            return "ANGIE_MODEL_API_KEY"
        if self.provider == _COPILOT:
            return "COPILOT_GITHUB_TOKEN"
        return key_variable(self.provider or "") or f"the {self.provider} API key"


# Models built here, by id (weakly: the cache may drop one, and its id be reused).
_origins: dict[int, tuple[weakref.ref[Model], _Origin]] = {}


def model_failure(err: ModelAPIError, model: object) -> ModelFailed:
    """What a person hears when ``model``'s server failed with ``err``: which server, what
    happened and what to check, naming the settings it came from and never a key."""
    origin = _origin_of(model)
    url = model.base_url if isinstance(model, Model) else None
    where = f"the model server at {_safe_url(url)}" if url else "the language model's server"
    hint = f" ({origin.settings()})" if origin else ""
    if isinstance(err, ModelTimeoutError | ModelRequestTimeout):
        return ModelFailed(
            f"{where} did not answer in time; is it running and not overloaded?{hint}"
        )
    if isinstance(err, ModelConnectionError):
        return ModelFailed(f"{where} did not answer ({_unreachable(err)}); is it running?{hint}")
    status = err.status_code if isinstance(err, ModelHTTPError) else None
    http = f" (HTTP {status})" if status else ""
    if isinstance(err, ModelAuthenticationError) or status in (401, 403):
        key = origin.key_setting() if origin else "the model's API key"
        return ModelFailed(f"{where} refused the API key{http}; check {key}{hint}")
    if isinstance(err, ModelNotFoundError) or status == 404:
        name = err.model_name
        return ModelFailed(
            f"{where} does not know the model {name!r}{http}; check the model's name and "
            f"the server's address{hint}"
        )
    if isinstance(err, ModelQuotaExceededError):
        return ModelFailed(f"{where} says the account's quota or credits are used up{http}{hint}")
    if status == 429:
        return ModelFailed(f"{where} asked Angie to slow down{http}", transient=True)
    if status is not None and status >= 500:
        return ModelFailed(f"{where} failed{http}; see its logs{hint}", transient=True)
    if status is not None:
        return ModelFailed(f"{where} refused the request{http}{hint}")
    return ModelFailed(f"{where} failed ({type(err).__name__}){hint}")


def _origin_of(model: object) -> _Origin | None:
    found = _origins.get(id(model))
    if found is None or found[0]() is not model:
        return None
    return found[1]


def _unreachable(err: BaseException) -> str:
    """Why a connection failed, from the transport's own error under the provider's."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror):
            return "its host name is not known"
        if isinstance(current, ssl.SSLError):
            return "TLS failed"
        if isinstance(current, ConnectionResetError):
            return "connection reset"
        current = current.__cause__ or current.__context__
    return "the connection failed"


def _safe_url(url: str) -> str:
    """``url`` without user info, query or fragment (they can carry secrets)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "an unreadable URL"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"
