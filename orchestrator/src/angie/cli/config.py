"""``angie config``: connect a chat channel (Slack, Discord, email, iMessage) through the API, or
choose Angie's language model in her env file."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt

from angie.cli.client import connect, url_option
from angie.cli.context import fail
from angie.cli.model import model

__all__ = ("config",)

console = Console(highlight=False)

Check = Callable[[str], str | None]


def _pattern(regex: str, what: str) -> Check:
    compiled = re.compile(regex)
    return lambda value: None if compiled.fullmatch(value) else what


def _http_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname:
        return None
    return "should be an http:// or https:// address"


def _port(value: str) -> str | None:
    return None if value.isdigit() and 1 <= int(value) <= 65535 else "should be a port, 1 to 65535"


_EMAIL = _pattern(r"[^@\s]+@[^@\s]+\.[^@\s]+", "should be an email address")
_HOST = _pattern(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}", "should be a host name, e.g. imap.example.com")


@dataclass(frozen=True, slots=True)
class Setting:
    """One thing a channel needs: asked for, given as an option, or read from a file."""

    name: str
    label: str
    secret: bool = False
    required: bool = False
    check: Check | None = None
    default: str | None = None
    integer: bool = False

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def checked(self, value: str) -> str:
        problem = self.check(value) if self.check else None
        if problem:
            fail(f"{self.option}: {problem}", code=2)
        return value


CHANNELS: dict[str, tuple[str, tuple[Setting, ...]]] = {
    "slack": (
        "Slack",
        (
            Setting(
                "bot_token",
                "Bot token (xoxb-…)",
                secret=True,
                required=True,
                check=_pattern(r"xoxb-[A-Za-z0-9-]{8,250}", "should start with xoxb-"),
            ),
            Setting(
                "app_token",
                "App-level token for Socket Mode (xapp-…)",
                secret=True,
                check=_pattern(r"xapp-[A-Za-z0-9-]{8,250}", "should start with xapp-"),
            ),
            Setting(
                "signing_secret",
                "Signing secret (for events over HTTP instead)",
                secret=True,
                check=_pattern(r"[A-Za-z0-9]{16,128}", "should be 16 to 128 letters and digits"),
            ),
            Setting(
                "default_channel",
                "Channel to post in when none is given (e.g. #angie)",
                check=_pattern(r"[#@]?[A-Za-z0-9._-]{1,80}", "should be a channel such as #angie"),
            ),
        ),
    ),
    "discord": (
        "Discord",
        (
            Setting(
                "bot_token",
                "Bot token",
                secret=True,
                required=True,
                check=_pattern(r"[A-Za-z0-9_.-]{20,200}", "does not look like a Discord bot token"),
            ),
            Setting(
                "guild_id",
                "Server (guild) id",
                check=_pattern(r"[0-9]{1,25}", "should be the server's numeric id"),
            ),
        ),
    ),
    "email": (
        "email",
        (
            Setting("address", "Email address", required=True, check=_EMAIL),
            Setting("imap_host", "IMAP server", required=True, check=_HOST),
            Setting("imap_port", "IMAP port", check=_port, default="993", integer=True),
            Setting("smtp_host", "SMTP server", required=True, check=_HOST),
            Setting("smtp_port", "SMTP port", check=_port, default="587", integer=True),
            Setting("username", "User name (empty: the address)"),
            Setting("password", "Password", secret=True, required=True),
        ),
    ),
    "imessage": (
        "iMessage (BlueBubbles)",
        (
            Setting(
                "server_url",
                "BlueBubbles server address (http(s)://…)",
                required=True,
                check=_http_url,
            ),
            Setting("password", "BlueBubbles server password", secret=True, required=True),
        ),
    ),
}


@click.group()
def config() -> None:
    """Connect a chat channel, or choose Angie's language model."""


def _from_file(path: Path, settings: tuple[Setting, ...]) -> dict[str, str]:
    from angie.onboarding import AnswerError, mapping_from_file

    try:
        data = mapping_from_file(path, "settings")
    except AnswerError as err:
        fail(str(err), code=2)
    known = {s.name for s in settings}
    values: dict[str, str] = {}
    for key, value in data.items():
        if key not in known:
            fail(f"{path.name}: unknown key {key!r} (known: {', '.join(sorted(known))})", code=2)
        if isinstance(value, bool) or not isinstance(value, str | int):
            fail(f"{path.name}: {key} should be text", code=2)
        values[key] = str(value).strip()
    return values


def _ask(setting: Setting, current: Any, is_set: bool) -> str | None:
    """Ask for one setting; None keeps what is there."""
    while True:
        if setting.secret:
            label = setting.label + (" (set; Enter keeps it)" if is_set else "")
            value = Prompt.ask(label, password=True, console=console, default="").strip()
        else:
            shown = str(current) if current not in (None, "") else setting.default
            value = Prompt.ask(setting.label, console=console, default=shown or "").strip()
        if not value:
            if setting.required and not (is_set or current):
                console.print("[red]This one is needed.[/]")
                continue
            return None
        problem = setting.check(value) if setting.check else None
        if problem is None:
            return value
        console.print(f"[red]That {escape(problem)}.[/]")


def _configure(
    kind: str,
    given: dict[str, str | None],
    from_file: Path | None,
    enabled: bool | None,
    url: str | None,
) -> None:
    title, settings = CHANNELS[kind]
    values = _from_file(from_file, settings) if from_file else {}
    values.update({k: v for k, v in given.items() if v is not None})
    for setting in settings:
        if setting.name in values:
            setting.checked(values[setting.name])
    interactive = sys.stdin.isatty()
    with connect(url) as api:
        current = api.get(f"/api/channels/{kind}")
        config: dict[str, Any] = dict(current.get("config") or {})
        secrets_set = set(current.get("secrets_set") or [])
        if interactive:
            console.print(f"[bold]Connecting {title}[/] [dim](secrets are not shown)[/]")
        secrets: dict[str, str] = {}
        for setting in settings:
            value = values.get(setting.name)
            is_set = setting.name in secrets_set
            if value is None and interactive:
                value = _ask(setting, config.get(setting.name), is_set)
            if value is None:
                kept = is_set if setting.secret else config.get(setting.name) not in (None, "")
                if kept:
                    continue
                if setting.default is None or setting.secret:
                    if setting.required:
                        fail(f"{setting.option} is needed ({setting.label})", code=2)
                    continue
                value = setting.default
            if setting.secret:
                secrets[setting.name] = value
            else:
                config[setting.name] = int(value) if setting.integer else value
        body: dict[str, Any] = {"config": config}
        if secrets:
            body["secrets"] = secrets
        if enabled is not None:
            body["enabled"] = enabled
        saved = api.put(f"/api/channels/{kind}", body)
    state = "on" if saved.get("enabled") else "off"
    console.print(f"[green]✓[/] {title} saved ({state})")
    names = ", ".join(saved.get("secrets_set") or []) or "none"
    console.print(f"secrets set: {escape(names)}")
    if saved.get("missing"):
        console.print(f"[yellow]still needed: {escape(', '.join(saved['missing']))}[/]")


def _channel_command(kind: str) -> click.Command:
    title, settings = CHANNELS[kind]

    def run(
        from_file: Path | None, enabled: bool | None, url: str | None, **given: str | None
    ) -> None:
        _configure(kind, given, from_file, enabled, url)

    params: list[click.Parameter] = [
        click.Option(
            [s.option, s.name],
            help=s.label + (" (secret)" if s.secret else ""),
            metavar="TEXT",
        )
        for s in settings
    ]
    params += [
        click.Option(
            ["--from-file", "from_file"],
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Read the settings from a YAML or JSON file (keys as the options, with _).",
        ),
        click.Option(
            ["--enable/--disable", "enabled"], default=None, help="Switch the channel on or off."
        ),
    ]
    command = click.Command(
        kind,
        callback=run,
        params=params,
        help=f"Connect {title}: asks for what is not given as options (secrets hidden).",
    )
    return url_option(command)  # type: ignore[no-any-return]


for _kind in CHANNELS:
    config.add_command(_channel_command(_kind))
config.add_command(model)
