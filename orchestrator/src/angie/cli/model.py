"""``angie config model``: choose Angie's language model, check it, and write it to her env file
(ANGIE_MODEL, ANGIE_MODEL_BASE_URL, ANGIE_MODEL_API_KEY or the provider's own key variable such
as OPENAI_API_KEY), keeping the file's other lines."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.markup import escape
from rich.prompt import Confirm, Prompt

from angie.agents.provider_keys import key_variable
from angie.cli.context import CliContext, fail, pass_cli, run_async
from angie.cli.private_file import write_private

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from angie.settings import AngieSettings

__all__ = ("model", "write_env")

console = Console(highlight=False)

KEYS = ("ANGIE_MODEL", "ANGIE_MODEL_BASE_URL", "ANGIE_MODEL_API_KEY")
_CHECK_SECONDS = 60.0
_LINE_KEY = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")
_BARE = re.compile(r"^[A-Za-z0-9_./:@+,=-]*$")
_EXAMPLES = "openai:gpt-4o, anthropic:claude-sonnet-4-5, ollama:llama3.1, copilot:gpt-5"
_LOCAL_SERVERS = {"ollama": "http://127.0.0.1:11434/v1"}
# --api-key given without a value: ask for it, hidden.
_ASK = "\0ask"


def _quote(value: str) -> str:
    if _BARE.match(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def write_env(path: Path, values: dict[str, str | None]) -> None:
    """Set (or, for None, remove) these keys in a dotenv file, keeping every other line as it
    is; the file ends up readable by this user only (it holds keys)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    except (OSError, UnicodeDecodeError) as err:
        fail(f"cannot read {path}: {err}")
    kept: list[str] = []
    done: set[str] = set()
    for line in lines:
        found = _LINE_KEY.match(line)
        key = found.group(1) if found else None
        if key in values:
            if key not in done and values[key] is not None:
                kept.append(f"{key}={_quote(str(values[key]))}")
            done.add(key)
            continue
        kept.append(line)
    kept += [f"{k}={_quote(v)}" for k, v in values.items() if k not in done and v is not None]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, "\n".join(kept) + "\n")
    except OSError as err:
        fail(f"cannot write {path}: {err.strerror}")


def _current(path: Path) -> dict[str, str]:
    from dotenv import dotenv_values

    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if k in KEYS and v}


def _provider(name: str) -> str:
    return name.split(":", 1)[0] if ":" in name else ""


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"--base-url: {url!r} should be an http:// or https:// address", code=2)
    return url.rstrip("/")


def _ask(current: dict[str, str]) -> tuple[str, str | None, str | None]:
    from angie.agents.llm import OPENAI_COMPATIBLE

    name = Prompt.ask(
        f"Which model? ({_EXAMPLES})", default=current.get("ANGIE_MODEL") or None, console=console
    )
    name = (name or "").strip()
    provider = _provider(name)
    base_url = api_key = None
    if provider in OPENAI_COMPATIBLE or provider == "copilot":
        needed = provider in {"ollama", "vllm", "litellm"}
        hint = "its server's address" if needed else "empty for the provider's own service"
        default = current.get("ANGIE_MODEL_BASE_URL") or _LOCAL_SERVERS.get(provider)
        base_url = Prompt.ask(f"Base URL ({hint})", default=default or "", console=console)
        base_url = base_url.strip() or None
    if base_url:
        kept = " (Enter keeps the current one)" if current.get("ANGIE_MODEL_API_KEY") else ""
        api_key = Prompt.ask(
            f"API key for that server, if it needs one{kept}",
            password=True,
            default="",
            console=console,
        ).strip() or current.get("ANGIE_MODEL_API_KEY")
    elif variable := key_variable(provider):
        api_key = (
            Prompt.ask(
                f"{variable} (Enter keeps the one set, if any)",
                password=True,
                default="",
                console=console,
            ).strip()
            or None
        )
    return name, base_url, api_key


def _given_key(api_key: str | None, from_stdin: bool) -> str | None:
    """The key of --api-key (asked, hidden, when it has no value) or --api-key-stdin."""
    if from_stdin:
        if api_key is not None:
            fail("give the key with --api-key or --api-key-stdin, not both", code=2)
        api_key = sys.stdin.readline()
    elif api_key == _ASK:
        if not sys.stdin.isatty():
            fail("no terminal to ask for the key on: use --api-key-stdin", code=2)
        api_key = Prompt.ask("API key", password=True, console=console)
    if api_key is None:
        return None
    api_key = api_key.strip()
    if not api_key:
        fail("the API key is empty", code=2)
    if any(c.isspace() or not c.isprintable() for c in api_key):
        fail("the API key holds spaces or control characters; copy it again", code=2)
    return api_key


def _key_variable(name: str) -> str:
    """The variable the provider of model ``name`` reads its API key from."""
    provider = _provider(name)
    variable = key_variable(provider)
    if variable is None:
        if provider == "copilot":
            fail(
                "--api-key: copilot: models take a GitHub token from COPILOT_GITHUB_TOKEN in "
                "Angie's environment (or, with --base-url, the key of that server)",
                code=2,
            )
        what = f"{provider}: models" if provider else "this model"
        fail(
            f"--api-key: {what} read no API key Angie knows of; give --base-url for a server "
            "that takes one",
            code=2,
        )
    return variable


def _settings(env_file: Path, name: str, base_url: str | None, key: str | None) -> AngieSettings:
    from pydantic import SecretStr

    from angie.settings import SettingsError, load_settings

    try:
        settings = load_settings(env_file=env_file)
    except SettingsError as err:
        fail(str(err), code=2)
    return settings.model_copy(
        update={
            "model": name,
            "model_base_url": base_url,
            "model_api_key": SecretStr(key) if key else None,
        }
    )


async def _try(model: Model) -> str:
    from pydantic_ai import Agent

    agent: Agent[None, str] = Agent(model, instructions="Answer with one word.")
    async with agent:
        result = await asyncio.wait_for(agent.run("Say: ready"), _CHECK_SECONDS)
    return result.output


@click.command("model")
@click.argument("name", required=False, metavar="MODEL")
@click.option("--base-url", help="The server for ollama:/vllm: models or an OpenAI-compatible one.")
@click.option(
    "--api-key",
    is_flag=False,
    flag_value=_ASK,
    metavar="[KEY]",
    help="The provider's API key (saved as OPENAI_API_KEY, ANTHROPIC_API_KEY, …) or the key "
    "for --base-url; asked, hidden, when given without a value.",
)
@click.option(
    "--api-key-stdin", is_flag=True, help="Read the API key from standard input (scripts)."
)
@click.option(
    "--check/--no-check",
    default=None,
    help="Try the model with a tiny request before saving (default: yes; asked on a terminal).",
)
@click.option(
    "--env-file",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The env file to write (default: the one `angie --env-file` names, .env).",
)
@pass_cli
def model(
    app: CliContext,
    name: str | None,
    base_url: str | None,
    api_key: str | None,
    api_key_stdin: bool,
    check: bool | None,
    target: Path | None,
) -> None:
    """Choose Angie's language model, e.g. `angie config model anthropic:claude-sonnet-4-5`."""
    from angie.agents.llm import ModelConfigError, build_model, describe_model

    path = target or app.env_file or Path(".env")
    interactive = sys.stdin.isatty()
    api_key = _given_key(api_key, api_key_stdin)
    if name is None:
        if not interactive:
            fail(f"name the model, e.g. `angie config model openai:gpt-4o` ({_EXAMPLES})", code=2)
        name, base_url, asked = _ask(_current(path))
        api_key = api_key or asked
    name = name.strip()
    if base_url:
        base_url = _check_url(base_url)
    # Without --base-url the key is the provider's own (OPENAI_API_KEY, …), read from .env too.
    variable = _key_variable(name) if api_key and not base_url else None
    settings = _settings(path, name, base_url, api_key if base_url else None)
    if variable and api_key:
        settings = settings.with_environ({variable: api_key})
    try:
        built = build_model(None, settings)
    except ModelConfigError as err:
        fail(str(err), code=2)
    what = describe_model(settings)
    if check is None:
        check = (
            Confirm.ask(f"Try {what} now?", default=True, console=console) if interactive else True
        )
    if check:
        try:
            with console.status(f"Asking {escape(what)} for a word…"):
                answer = run_async(_try(built))
        except Exception as err:  # any failure of the call is reported in one line
            reason = " ".join(str(err).split())
            if api_key:
                reason = reason.replace(api_key, "…")
            reason = reason[:200] or type(err).__name__
            fail(f"{what} did not answer ({reason}); save it anyway with --no-check")
        console.print(f"[green]✓[/] {escape(what)} answered: {escape(answer.strip()[:60])}")
    values: dict[str, str | None] = {
        "ANGIE_MODEL": name,
        "ANGIE_MODEL_BASE_URL": base_url,
        "ANGIE_MODEL_API_KEY": api_key if base_url else None,
    }
    if variable:
        values[variable] = api_key
    write_env(path, values)
    console.print(f"[green]✓[/] {escape(what)} saved in {escape(str(path))}")
    if variable:
        console.print(f"[green]✓[/] {variable} saved in {escape(str(path))} (not shown)")
        if os.environ.get(variable):
            console.print(
                f"[yellow]{variable} is also set in this environment; where Angie starts with it "
                "set, that one wins over the file[/]"
            )
    console.print("Restart Angie (`angie serve`) to use it.")
