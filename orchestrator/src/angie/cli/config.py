"""``angie config``: connect a chat channel (Slack, Discord, email, iMessage) through the API, or
choose Angie's language model in her env file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt

from angie.cli.client import connect, url_option
from angie.cli.context import fail
from angie.cli.model import model
from angie_channels.kinds import KINDS, ChannelSpec
from angie_channels.settings import Question, SettingError

__all__ = ("config",)

console = Console(highlight=False)


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _checked(spec: ChannelSpec, name: str, value: str) -> Any:
    """The value as the channel's model reads it; a bad one ends the command (exit 2)."""
    try:
        return spec.parse(name, value)
    except SettingError as err:
        fail(f"{_option(name)}: {err}", code=2)


@click.group()
def config() -> None:
    """Connect a chat channel, or choose Angie's language model."""


def _from_file(path: Path, questions: tuple[Question, ...]) -> dict[str, str]:
    from angie.onboarding import AnswerError, mapping_from_file

    try:
        data = mapping_from_file(path, "settings")
    except AnswerError as err:
        fail(str(err), code=2)
    known = {q.name for q in questions}
    values: dict[str, str] = {}
    for key, value in data.items():
        if key not in known:
            fail(f"{path.name}: unknown key {key!r} (known: {', '.join(sorted(known))})", code=2)
        if isinstance(value, bool) or not isinstance(value, str | int):
            fail(f"{path.name}: {key} should be text", code=2)
        values[key] = str(value).strip()
    return values


def _ask(spec: ChannelSpec, question: Question, current: Any, is_set: bool) -> Any:
    """Ask for one setting (its value as the channel's model reads it); None keeps what is
    there."""
    while True:
        if question.secret:
            label = question.label + (" (set; Enter keeps it)" if is_set else "")
            value = Prompt.ask(label, password=True, console=console, default="").strip()
        else:
            shown = str(current) if current not in (None, "") else question.suggested
            value = Prompt.ask(question.label, console=console, default=shown or "").strip()
        if not value:
            if question.required and not (is_set or current):
                console.print("[red]This one is needed.[/]")
                continue
            return None
        try:
            return spec.parse(question.name, value)
        except SettingError as err:
            console.print(f"[red]That {escape(str(err))}.[/]")


def _configure(
    kind: str,
    given: dict[str, str | None],
    from_file: Path | None,
    enabled: bool | None,
    url: str | None,
    check: bool = True,
) -> None:
    spec = KINDS[kind]
    questions = spec.questions()
    raw = _from_file(from_file, questions) if from_file else {}
    raw.update({k: v for k, v in given.items() if v is not None})
    # Every value is checked before Angie is touched.
    values = {q.name: _checked(spec, q.name, raw[q.name]) for q in questions if q.name in raw}
    interactive = sys.stdin.isatty()
    with connect(url) as api:
        current = api.get(f"/api/channels/{kind}")
        config: dict[str, Any] = dict(current.get("config") or {})
        secrets_set = set(current.get("secrets_set") or [])
        if interactive:
            console.print(f"[bold]Connecting {spec.title}[/] [dim](secrets are not shown)[/]")
        secrets: dict[str, str] = {}
        for question in questions:
            value = values.get(question.name)
            is_set = question.name in secrets_set
            if value is None and interactive:
                value = _ask(spec, question, config.get(question.name), is_set)
            if value is None:
                kept = is_set if question.secret else config.get(question.name) not in (None, "")
                if kept:
                    continue
                if question.suggested is None or question.secret:
                    if question.required:
                        fail(f"{_option(question.name)} is needed ({question.label})", code=2)
                    continue
                value = spec.parse(question.name, question.suggested)
            if question.secret:
                secrets[question.name] = value
            else:
                config[question.name] = value
        body: dict[str, Any] = {"config": config}
        if secrets:
            body["secrets"] = secrets
        if enabled is not None:
            body["enabled"] = enabled
        saved = api.put(f"/api/channels/{kind}", body)
    console.print(f"[green]✓[/] {spec.title} saved; {connection_line(saved)}")
    names = ", ".join(saved.get("secrets_set") or []) or "none"
    console.print(f"secrets set: {escape(names)}")
    if saved.get("webhook_path"):
        hook = api.url.rstrip("/") + str(saved["webhook_path"])
        if kind == "imessage":
            hook += "?secret=<your webhook secret>"
        console.print(f"{spec.title} calls Angie at: {escape(hook)} (use her public address)")
    if saved.get("missing"):
        console.print(f"[yellow]still needed: {escape(', '.join(saved['missing']))}[/]")
        return
    if check and saved.get("enabled"):
        with connect(url) as api:
            checked = api.post(f"/api/channels/{kind}/check", timeout=30)
        detail = escape(str(checked.get("detail")))
        if not checked.get("ok"):
            # The channel's own words: what is wrong and what to do (saved all the same).
            fail(detail)
        console.print(f"[green]✓[/] {spec.title} accepts the credentials: {detail}")


def connection_line(saved: dict[str, Any]) -> str:
    """What is true of the channel now, as the running Angie says."""
    state, detail = saved.get("connection"), saved.get("connection_detail")
    if state == "off" or not saved.get("enabled"):
        return "off (Angie does not use it until it is switched on)"
    if state == "connected":
        return "[green]connected[/]"
    if state == "connecting":
        return "connecting"
    reason = f": {escape(str(detail))}" if detail else ""
    colour = "red" if state == "failed" else "yellow"
    return f"[{colour}]not connected[/]{reason}"


def _channel_command(kind: str) -> click.Command:
    spec = KINDS[kind]

    def run(
        from_file: Path | None,
        enabled: bool | None,
        check: bool,
        url: str | None,
        **given: str | None,
    ) -> None:
        _configure(kind, given, from_file, enabled, url, check)

    params: list[click.Parameter] = [
        click.Option(
            [_option(q.name), q.name],
            help=q.label + (" (secret)" if q.secret else ""),
            metavar="TEXT",
        )
        for q in spec.questions()
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
        click.Option(
            ["--check/--no-check", "check"],
            default=True,
            help="Try the credentials against the platform once saved (default: yes).",
        ),
    ]
    command = click.Command(
        kind,
        callback=run,
        params=params,
        help=f"Connect {spec.title}: asks for what is not given as options (secrets hidden).",
    )
    return url_option(command)  # type: ignore[no-any-return]


for _kind in KINDS:
    config.add_command(_channel_command(_kind))
config.add_command(model)
