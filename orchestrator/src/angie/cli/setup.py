"""``angie setup``: the first-run interview (an account, then who you are and how Angie should
work for you), re-runnable to change the answers."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.prompt import Prompt

from angie import onboarding
from angie.accounts.setup_code import read_setup_code
from angie.cli import interview
from angie.cli.client import AngieClient, RequestFailed, connect, url_option
from angie.cli.context import CliContext, fail
from angie.cli.render import items
from angie.cli.session import remember, token_for
from angie.onboarding import TOPICS, AnswerError, Answers
from angie.settings import AngieSettings

__all__ = ("setup",)

console = Console(highlight=False)


def _local_zone() -> str | None:
    """This machine's IANA timezone, when it can be told (TZ, /etc/localtime, /etc/timezone)."""
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for candidate in candidates:
        try:
            return onboarding.check_timezone(candidate) if candidate else None
        except AnswerError:
            continue
    return None


# -- the account -------------------------------------------------------------------------------


def _local_setup_code(api: AngieClient) -> str | None:
    """The setup code of an Angie on this machine: in her data dir, found as she finds it
    (ANGIE_DATA_DIR, from the environment or the .env file), or in its ``demo`` folder when
    she runs a demo home."""
    if urlsplit(api.url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        return None
    from angie.demo import DEMO_DIR

    demo = api.get("/api/health").get("demo") is True
    found = click.get_current_context(silent=True)
    cli = found.find_object(CliContext) if found is not None else None
    try:
        settings = AngieSettings(_env_file=cli.env_file if cli is not None else ".env")
    except ValueError:  # a bad setting: `angie serve` says which; here there is no code
        return None
    return read_setup_code(settings.data_dir / DEMO_DIR if demo else settings.data_dir)


def _register(api: AngieClient, account: dict[str, str], interactive: bool) -> bool:
    """Make the account (the first one becomes the admin and needs the setup code); False when
    it exists already. Without a terminal a refusal raises :class:`RequestFailed`, except for a
    missing setup code, which ends the command saying where to put it."""
    body = {
        "email": account["email"],
        "password": account["password"],
        "display_name": account.get("display_name", ""),
    }
    if account.get("invite_code"):
        body["invite_code"] = account["invite_code"]
    else:
        setup_code = account.get("setup_code") or _local_setup_code(api)
        if setup_code:
            body["setup_code"] = setup_code
    while True:
        try:
            api.post("/api/auth/register", body, expect=(403, 409))
        except RequestFailed as err:
            if err.status == 409:
                return False  # logging in will tell whether the password fits
            needs_setup = "setup code" in err.message
            if not interactive:
                if needs_setup:
                    fail(
                        err.message
                        if account.get("setup_code")
                        else f"{err.message}: add account.setup_code to the answers file"
                    )
                raise
            if needs_setup:
                console.print(f"[yellow]{escape(err.message)}[/]")
                body["setup_code"] = Prompt.ask(
                    "Setup code (Angie printed it at start)", console=console
                ).strip()
                continue
            if "invite" not in err.message:
                fail(err.message)
            console.print(f"[yellow]{escape(err.message)}[/]")
            body["invite_code"] = Prompt.ask("Invite code", console=console).strip()
            continue
        console.print(f"[green]✓[/] account {escape(account['email'])} created")
        return True


def _new_password() -> str:
    while True:
        password = Prompt.ask(
            "Choose a password (8 characters or more)", password=True, console=console
        )
        if len(password) < 8:
            console.print("[red]That is shorter than 8 characters.[/]")
        elif Prompt.ask("Password again", password=True, console=console) != password:
            console.print("[red]The passwords differ.[/]")
        else:
            return password


def _ask_account(api: AngieClient) -> str:
    """Log in, or make an account and log in; returns a personal API token."""
    console.print(f"[bold]Hello! I'm Angie.[/] Let's sign you in to {api.url}.")
    email = Prompt.ask("Email", console=console).strip()
    password = Prompt.ask("Password", password=True, console=console)
    try:
        return token_for(api, email, password)[0]
    except RequestFailed:
        console.print("No account has that email and password yet: let's make one.")
    password = _new_password()
    name = Prompt.ask("Your name", console=console).strip()
    account = {"email": email, "password": password, "display_name": name}
    if not _register(api, account, interactive=True):
        fail(f"an account with {email} already exists, with another password")
    return token_for(api, email, password)[0]


def _from_file(api: AngieClient, account: dict[str, str], check_new: Callable[[], object]) -> str:
    """A personal API token for the answers file's account: logged in when it exists with that
    password, else made (``check_new`` first: a file that cannot set a new account up makes
    none)."""
    email = account["email"]
    try:
        return token_for(api, email, account["password"])[0]
    except RequestFailed:
        pass  # a wrong password or no such account: the login route does not say which
    check_new()
    try:
        made = _register(api, account, interactive=False)
    except RequestFailed as err:
        # An admin exists: either this account does too (the password is wrong) or it is new
        # and the invite is missing or refused; only an invite may tell which.
        hint = "" if account.get("invite_code") else ": add account.invite_code to the answers file"
        fail(
            f"the password for {email} is wrong (or, for a new account: {err.message}{hint})"
            if "invite" in err.message
            else err.message
        )
    if not made:
        fail(f"the password for {email} is wrong")
    try:
        return token_for(api, email, account["password"])[0]
    except RequestFailed as err:
        fail(f"cannot log in as {email}: {err.message}")


def _signed_in(
    url: str | None,
    account: dict[str, str] | None,
    interactive: bool,
    check_new: Callable[[], object],
) -> tuple[AngieClient, bool]:
    """A client with a working token (the saved one, or one from logging in or registering),
    and whether that token is new and still to be saved."""
    api = connect(url)
    if api.token:
        try:
            api.get("/api/me", expect=(401,))
            return api, False
        except RequestFailed:
            console.print("[yellow]Your saved token was refused; let's log in again.[/]")
    api.close()
    with AngieClient(api.url, None) as anonymous:
        if account is not None:
            token = _from_file(anonymous, account, check_new)
        elif interactive:
            token = _ask_account(anonymous)
        else:
            fail("you are not logged in: add an account section to the answers file", code=2)
    return AngieClient(api.url, token), True


def _documents(api: AngieClient) -> dict[str, str]:
    found: dict[str, str] = {}
    for doc in items(api.get("/api/prompts")):
        name = str(doc.get("name", ""))
        body = doc.get("body")
        if body is None:
            body = api.get(f"/api/prompts/{name}").get("body", "")
        found[name] = str(body or "")
    return found


def _save(api: AngieClient, answers: Answers) -> dict[str, Any]:
    with console.status("Saving your answers…"):
        for topic in TOPICS:
            body = onboarding.document(topic, answers[topic.name])
            api.put(f"/api/prompts/{topic.name}", {"body": body})
        profile = answers["profile"]
        me: dict[str, Any] = api.patch(
            "/api/me",
            {
                "display_name": profile["name"],
                "preferred_name": profile["address_as"] or None,
                "timezone": answers["schedule"]["timezone"],
            },
        )
    return me


def _rendered(api: AngieClient) -> dict[str, str]:
    """The setup documents as Angie reads them: rendered for this person, answers block hidden."""
    found: dict[str, str] = {}
    for topic in TOPICS:
        try:
            doc = api.get(f"/api/prompts/{topic.name}", params={"rendered": "true"}, expect=(409,))
        except RequestFailed:  # a document that does not render is shown as written
            doc = api.get(f"/api/prompts/{topic.name}")
            found[topic.name] = str(doc.get("body") or "")
            continue
        found[topic.name] = str(doc.get("rendered") or "")
    return found


def _show(documents: dict[str, str]) -> None:
    for name, body in documents.items():
        console.print(Panel(Markdown(body.strip()), title=name, title_align="left"))


@click.command()
@url_option
@click.option(
    "--answers",
    "answers_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Answer from this YAML or JSON file (account, profile, style, …); what it leaves "
    "out keeps your earlier answers.",
)
def setup(url: str | None, answers_file: Path | None) -> None:
    """Set Angie up for you: an account, then a short interview she works from.

    Run it again to change your answers; the earlier ones are the defaults.
    """
    data: Any = None
    if answers_file is not None:
        try:
            data = onboarding.mapping_from_file(answers_file, "topics to answers")
        except AnswerError as err:
            fail(str(err), code=2)
    elif not sys.stdin.isatty():
        fail("no terminal to ask on: use --answers FILE", code=2)
    where = answers_file.name if answers_file else ""
    account = None
    given: Answers = {}
    if data is not None:
        # Every key given is checked before Angie is touched: a bad file changes nothing.
        try:
            given, account = onboarding.parse(data, where)
        except AnswerError as err:
            fail(str(err), code=2)

    def merged(before: Answers) -> Answers:
        """The file's answers over the earlier ones; the missing ones end the command."""
        try:
            return onboarding.merge(given, before, where)
        except AnswerError as err:
            fail(str(err), code=2)

    api, fresh = _signed_in(url, account, data is None, lambda: merged({}))
    with api:
        if fresh and data is None:
            remember(api.url, str(api.token))
        me = api.get("/api/me")
        bodies = _documents(api)
        if data is not None:
            try:
                answers = onboarding.merge(given, onboarding.earlier(bodies, me), where)
            except AnswerError as err:
                if fresh:  # the new token goes too: a bad file leaves nothing behind
                    with contextlib.suppress(RequestFailed):
                        api.post("/api/auth/logout", expect=(401,))
                fail(str(err), code=2)
            if fresh:
                remember(api.url, str(api.token))
        else:
            answers = interview.ask_all(onboarding.defaults(bodies, me, _local_zone()), console)
        me = _save(api, answers)
        shown = _rendered(api)
        rules = api.get("/api/me/approval-rules")
    console.print()
    _show(shown)
    _show_rules(rules)
    who = escape(str(me.get("preferred_name") or me.get("display_name") or ""))
    console.print(f'[green]✓[/] All set, {who}. Talk to me with `angie ask "…"`.')


def _show_rules(found: dict[str, Any]) -> None:
    """Which autonomy answers became approval rules, and which made none (and why)."""
    made: dict[str, list[str]] = {}
    for rule in found.get("rules") or []:
        if rule.get("source") == "setup":
            verb = "without asking" if rule.get("decision") == "allow" else "always ask"
            made.setdefault(f"{rule.get('phrase')}: {verb}", []).append(str(rule.get("pattern")))
    for answer, patterns in made.items():
        console.print(f"[green]✓[/] {escape(answer)} → {escape(', '.join(patterns))}")
    for answer, why in (found.get("unused_answers") or {}).items():
        console.print(f"[yellow]•[/] {escape(str(answer))}: {escape(str(why))}")
