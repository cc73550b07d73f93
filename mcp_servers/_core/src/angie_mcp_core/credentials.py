"""Sign-in by typed credentials: an app password, a personal access token.

Some vendors have no OAuth flow a home server can use (Yahoo's IMAP wants an app password,
GitHub a personal access token). Their servers list those fields in ``typed_credentials``; the
shared ``auth`` subcommand asks the person for them, checks them against the vendor before
keeping anything, and stores them as OAuth tokens are stored: encrypted in the server's token
file (``TokenFile``). At start, stored credentials win over the environment, so one person's
instance of a server (``angie mcp connect yahoo``) reads that person's mailbox even where the
household's environment names another; ``auth --revoke`` forgets them.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr, TypeAdapter, ValidationError

from angie_mcp_core.crypto import DecryptError
from angie_mcp_core.settings import ServerSettings
from angie_mcp_core.tokens import TokenFile

__all__ = ("CREDENTIALS", "credentials_command", "token_file_of", "with_stored_credentials")

#: Where the typed credentials sit in the token file's JSON document.
CREDENTIALS = "credentials"

#: Checks candidate settings against the vendor; returns who signed in, raises when refused.
Check = Callable[[Any], Coroutine[Any, Any, str]]


def token_file_of(settings: ServerSettings) -> TokenFile:
    """The server's token file (its ``token_file`` and ``token_key`` settings)."""
    path = getattr(settings, "token_file", None)
    if not isinstance(path, Path):
        raise TypeError(f"{type(settings).__name__} has typed credentials but no token_file")
    key = getattr(settings, "token_key", None)
    return TokenFile(
        path,
        key.get_secret_value() if isinstance(key, SecretStr) else None,
        key_name=settings.env_name("token_key"),
    )


def _validated(settings: ServerSettings, values: dict[str, str]) -> dict[str, Any]:
    """Each value as its field's type, so a stored app password is a ``SecretStr`` again."""
    fields = type(settings).model_fields
    typed: dict[str, Any] = {}
    for name, value in values.items():
        annotation = fields[name].annotation
        typed[name] = TypeAdapter(annotation).validate_python(value) if annotation else value
    return typed


def with_stored_credentials[S: ServerSettings](settings: S) -> S:
    """``settings`` with the credentials a person stored at sign-in, which win over the
    environment; unchanged when the server has none or nobody signed in yet.

    Raises :class:`DecryptError` when the token file cannot be read (a changed key).
    """
    fields = type(settings).typed_credentials
    if not fields:
        return settings
    stored = token_file_of(settings).load() or {}
    found = stored.get(CREDENTIALS) or {}
    values = {f: str(found[f]) for f in fields if isinstance(found, dict) and found.get(f)}
    if not values:
        return settings
    return settings.model_copy(update=_validated(settings, values))


def _ask(name: str, secret: bool, stdin: TextIO) -> str:
    """One value: hidden at a terminal when it is a secret; a line of standard input when
    another program runs the sign-in (Angie's CLI, a script)."""
    if stdin.isatty():
        prompt = f"{name}: "
        return (getpass.getpass(prompt) if secret else input(prompt)).strip()
    line = stdin.readline()
    if not line:
        raise EOFError(name)
    return line.strip()


def credentials_command(
    check: Check, *, service: str
) -> tuple[
    str, Callable[[argparse.ArgumentParser], None], Callable[[Any, argparse.Namespace], int]
]:
    """The ``auth`` subcommand of a server whose settings list ``typed_credentials``:
    ``check`` proves them with the vendor (e.g. an IMAP login) before they are kept."""

    def configure(parser: argparse.ArgumentParser) -> None:
        parser.description = (
            f"Sign in to {service}: asks for the credentials (hidden at a terminal; one per "
            "line on standard input otherwise), checks them with it, then stores them "
            "encrypted in the server's token file, where they win over the environment."
        )
        parser.add_argument("--revoke", action="store_true", help="forget the stored credentials")

    def run(settings: ServerSettings, args: argparse.Namespace) -> int:
        prog = f"{type(settings).__name__.removesuffix('Settings').lower()} auth"
        tokens = token_file_of(settings)
        if args.revoke:
            tokens.clear()
            print(
                f"Forgot the stored credentials. {service} keeps the app password or token "
                "itself: revoke it on its security page too."
            )
            return 0
        fields = type(settings).typed_credentials
        values: dict[str, str] = {}
        try:
            for name in fields:
                secret = isinstance(getattr(settings, name, None), SecretStr) or "password" in name
                values[name] = _ask(settings.env_name(name), secret, sys.stdin)
        except (EOFError, KeyboardInterrupt):
            print(f"{prog}: error: the sign-in was cancelled; nothing was stored", file=sys.stderr)
            return 1
        empty = [settings.env_name(n) for n, v in values.items() if not v]
        if empty:
            print(f"{prog}: error: {', '.join(empty)} cannot be empty", file=sys.stderr)
            return 2
        try:
            candidate = settings.model_copy(update=_validated(settings, values))
        except ValidationError as err:
            print(f"{prog}: error: {err.errors()[0]['msg']}", file=sys.stderr)
            return 2
        try:
            who = asyncio.run(check(candidate))
        except Exception as err:  # the vendor's refusal, in the kit's words
            print(f"{prog}: error: {service} refused the sign-in: {err}", file=sys.stderr)
            return 1
        try:
            tokens.save({CREDENTIALS: values, "saved_at": datetime.now(UTC).isoformat()})
        except (OSError, DecryptError) as err:
            print(f"{prog}: error: the credentials could not be stored: {err}", file=sys.stderr)
            return 1
        print(f"Signed in: {who}. The credentials are stored encrypted in {tokens.path}.")
        return 0

    return "auth", configure, run
