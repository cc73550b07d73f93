"""`angie-mcp-gcal auth`: the loopback installed-app flow against the fake's consent page and
token endpoint, driven as a person would (open the printed URL, Google redirects back)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from angie_mcp_gcal.settings import GcalSettings
from angie_mcp_gcal.testing import CLIENT_ID, CLIENT_SECRET, EVENTS, READONLY, FakeGoogleCalendar

from angie_mcp_core.google.account import token_file

URL = re.compile(r"(http://\S+/auth\?\S+)")


def run_auth(
    fake: FakeGoogleCalendar, settings: GcalSettings, *, writes: bool
) -> tuple[int, str, str]:
    state = settings.token_path().parent
    state.mkdir(parents=True, exist_ok=True)
    assert settings.token_key is not None
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(state),
        "PYTHONUNBUFFERED": "1",
        "ANGIE_GCAL_CLIENT_ID": CLIENT_ID,
        "ANGIE_GCAL_CLIENT_SECRET": CLIENT_SECRET,
        "ANGIE_GCAL_AUTH_URI": fake.auth_uri,
        "ANGIE_GCAL_TOKEN_URI": fake.token_uri,
        "ANGIE_GCAL_API_URL": fake.api_url,
        "ANGIE_GCAL_TOKEN_FILE": str(settings.token_path()),
        "ANGIE_GCAL_TOKEN_KEY": settings.token_key.get_secret_value(),
        "ANGIE_GCAL_WRITES": "true" if writes else "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "angie_mcp_gcal", "auth", "--no-browser"],
        env=env, cwd=state, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if found := URL.search(line):
            # The "browser": Google's consent page redirects to the command's loopback page.
            with httpx.Client(follow_redirects=True, timeout=30) as browser:
                page = browser.get(found.group(1))
            assert page.status_code == 200, page.text
            break
    out, err = process.communicate(timeout=30)
    return process.returncode, "".join(seen) + out, err


@pytest.mark.parametrize(("writes", "scopes"), [(False, [READONLY]), (True, [READONLY, EVENTS])])
def test_auth_asks_only_for_the_scopes_the_enabled_tools_need(
    fake: FakeGoogleCalendar,
    make_settings: Callable[..., GcalSettings],
    writes: bool,
    scopes: list[str],
) -> None:
    settings = make_settings(writes=writes)
    code, out, err = run_auth(fake, settings, writes=writes)
    assert code == 0, err
    assert "Connected to Google Calendar." in out
    consent = next(r for r in fake.log if r.path == "/auth")
    asked = parse_qs(urlsplit(consent.target).query)
    assert sorted(asked["scope"][0].split()) == sorted(scopes)
    assert asked["access_type"] == ["offline"]
    stored = token_file(settings).load()
    assert stored is not None
    assert sorted(stored["scopes"]) == sorted(scopes)
    assert stored["refresh_token"].encode() not in settings.token_path().read_bytes()


def test_auth_without_the_client_settings_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "angie_mcp_gcal", "auth", "--no-browser"],
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert "ANGIE_GCAL_CLIENT_ID" in line
