"""``angie prompts``: your prompt documents (what Angie knows about you): list, show, edit in
your editor, reset to the default, export and import as JSON."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.prompt import Confirm
from rich.table import Table

from angie.cli.client import AngieClient, RequestFailed, connect, url_option
from angie.cli.context import fail
from angie.cli.render import clip, items, when

__all__ = ("prompts",)

console = Console(highlight=False)


@click.group()
def prompts() -> None:
    """Your prompt documents: list, show, edit, reset, export, import."""


@prompts.command("list")
@url_option
def list_prompts(url: str | None) -> None:
    """Your documents, each at its current version."""
    with connect(url) as api:
        rows = items(api.get("/api/prompts", params={"limit": 200}))
    table = Table("name", "version", "saved", "begins with")
    for row in rows:
        body = str(row.get("body") or "")
        version = int(row.get("version") or 0)
        first = next((line for line in body.splitlines() if line.strip()), "")
        if not version:
            first = "[dim]never saved[/]"
        elif not body:
            first = "[dim]cleared[/]"
        else:
            first = clip(first.lstrip("# "), 50)
        table.add_row(
            escape(str(row.get("name"))), str(version), when(row.get("created_at")), first
        )
    console.print(table)


@prompts.command()
@click.argument("name")
@click.option(
    "--source",
    is_flag=True,
    help="The template as written, not as Angie reads it.",
)
@click.option("--raw", is_flag=True, help="Print the text as it is (the default when piped).")
@url_option
def show(name: str, source: bool, raw: bool, url: str | None) -> None:
    """Print one document as Angie reads it: rendered for you (--source: the template)."""
    with connect(url) as api:
        if source:
            doc = api.get(f"/api/prompts/{name}")
        else:
            try:
                doc = api.get(f"/api/prompts/{name}", params={"rendered": "true"}, expect=(409,))
            except RequestFailed as err:
                fail(
                    f"{name} does not render: {err.message} "
                    f"(see it with --source, fix it with `angie prompts edit {name}`)"
                )
    body = str((doc.get("body") if source else doc.get("rendered")) or "")
    if raw or not console.is_terminal:
        click.echo(body, nl=not body.endswith("\n"))
        return
    what = "template" if source else "as Angie reads it"
    title = f"{escape(name)} [dim]version {doc.get('version')}, {what}[/]"
    console.print(Panel(Markdown(body or "*empty*"), title=title, title_align="left"))


def _keep(name: str, text: str) -> Path:
    """Save an edit Angie refused, so the work is not lost."""
    fd, path = tempfile.mkstemp(prefix=f"angie-{name}-", suffix=".md")
    with open(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return Path(path)


def _save(api: AngieClient, name: str, text: str) -> dict[str, Any] | str:
    """The saved document, or why Angie refused the text."""
    try:
        saved: dict[str, Any] = api.put(f"/api/prompts/{name}", {"body": text}, expect=(422,))
    except RequestFailed as err:
        return err.message
    return saved


@prompts.command()
@click.argument("name")
@url_option
def edit(name: str, url: str | None) -> None:
    """Edit a document in $VISUAL or $EDITOR and save it as a new version."""
    with connect(url) as api:
        doc = api.get(f"/api/prompts/{name}")
        original = str(doc.get("body") or "")
        text = original
        while True:
            edited = click.edit(text, extension=".md", require_save=True)
            if edited is None or edited.strip() == original.strip():
                console.print(f"no change to {escape(name)}")
                return
            outcome = _save(api, name, edited)
            if isinstance(outcome, dict):
                break
            console.print(f"[red]Angie refused it:[/] {escape(outcome)}")
            if sys.stdin.isatty() and Confirm.ask("Edit it again?", default=True, console=console):
                text = edited
                continue
            fail(f"{outcome} (your text is in {_keep(name, edited)})")
    if int(outcome.get("version") or 0) == int(doc.get("version") or 0):
        console.print(f"no change to {escape(name)}")
        return
    console.print(f"[green]✓[/] saved {escape(name)} version {outcome.get('version')}")


@prompts.command()
@click.argument("name")
@url_option
def reset(name: str, url: str | None) -> None:
    """Put a setup document back to its default text (the old one stays in the history)."""
    with connect(url) as api:
        doc = api.post(f"/api/prompts/{name}/reset")
    console.print(
        f"[green]✓[/] {escape(name)} is back to its default (version {doc.get('version')})"
    )


@prompts.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@url_option
def export(file: Path | None, url: str | None) -> None:
    """Write your documents as JSON {"documents": {name: text}} to FILE (or standard output)."""
    with connect(url) as api:
        data = api.get("/api/prompts/export")
    text = json.dumps({"documents": data.get("documents", {})}, indent=2, ensure_ascii=False)
    if file is None:
        click.echo(text)
        return
    try:
        file.write_text(text + "\n", encoding="utf-8")
    except OSError as err:
        fail(f"cannot write {file}: {err.strerror}")
    count = len(data.get("documents", {}))
    Console(stderr=True, highlight=False).print(f"[green]✓[/] {count} documents written to {file}")


@prompts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@url_option
def import_(file: Path, url: str | None) -> None:
    """Save each document of FILE (as written by export) as a new version; all or nothing."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        fail(f"cannot read {file}: {err}", code=2)
    except json.JSONDecodeError as err:
        fail(f"{file} is not valid JSON (line {err.lineno})", code=2)
    documents = data.get("documents") if isinstance(data, dict) else None
    if not isinstance(documents, dict) or not documents:
        fail(f'{file} should hold {{"documents": {{"name": "text", …}}}}', code=2)
    for name, body in documents.items():
        if not isinstance(body, str):
            fail(f"{file}: the document {name!r} should be text", code=2)
    with connect(url) as api:
        answer = api.post("/api/prompts/import", {"documents": documents})
    saved = answer.get("versions", {}) if isinstance(answer, dict) else {}
    shown = ", ".join(f"{escape(n)} v{v}" for n, v in saved.items())
    console.print(f"[green]✓[/] imported {len(saved)} documents: {shown}")
