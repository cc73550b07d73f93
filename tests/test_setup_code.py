"""The first account needs the one-time setup code Angie shows at start (console and
``<data dir>/setup-code``): nobody who merely reaches her port becomes her admin."""

from __future__ import annotations

import logging
import re
import stat
from pathlib import Path

import pytest
from api_support import PASSWORD, ApiHarness, api_harness, count_rows, error_message, make_api_angie
from fakes.brain import Brain

from angie.accounts.setup_code import ALPHABET, SETUP_CODE_FILE, new_setup_code, normalise
from angie.db.models import User

REGISTER = "/api/auth/register"
SAM = {"email": "sam@home.test", "password": PASSWORD}


def _file(api: ApiHarness) -> Path:
    return api.angie.settings.data_dir / SETUP_CODE_FILE


def test_a_code_is_three_groups_of_four_unambiguous_characters() -> None:
    codes = {new_setup_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}", code)
    assert not set("01OIL") & set(ALPHABET)


async def test_the_first_account_without_the_setup_code_is_refused(api: ApiHarness) -> None:
    refused = await api.client.post(REGISTER, json=SAM)

    message = error_message(refused, 403)
    assert message == (
        f"the first account needs the setup code Angie printed at start (also in {_file(api)})"
    )
    assert await count_rows(api, User) == 0
    assert _file(api).exists()


async def test_a_wrong_setup_code_is_refused(api: ApiHarness) -> None:
    refused = await api.client.post(REGISTER, json={**SAM, "setup_code": "AAAA-BBBB-CCCC"})

    assert error_message(refused, 403).startswith("the setup code is wrong")
    assert await count_rows(api, User) == 0


async def test_the_code_from_the_file_makes_the_admin_and_is_then_gone(api: ApiHarness) -> None:
    path = _file(api)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    code = path.read_text().strip()
    typed = normalise(code).lower()  # as typed by hand: no dashes, lower case

    made = await api.client.post(REGISTER, json={**SAM, "setup_code": typed})

    assert made.status_code == 201, made.text
    assert made.json()["is_admin"] is True
    assert not path.exists()
    # Later accounts still need an invite, whatever code they bring.
    lee = {"email": "lee@home.test", "password": PASSWORD, "setup_code": code}
    assert "invite" in error_message(await api.client.post(REGISTER, json=lee), 403)


async def test_each_start_without_an_account_shows_a_new_code(
    sqlite_url: str, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="angie.accounts.setup_code"):
        async with api_harness(make_api_angie(sqlite_url, data_dir, Brain())) as api:
            first = _file(api).read_text().strip()
        async with api_harness(make_api_angie(sqlite_url, data_dir, Brain())) as api:
            second = _file(api).read_text().strip()
            assert api.angie.services.setup.code == second

    assert first != second
    shown = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(second in line and str(data_dir / SETUP_CODE_FILE) in line for line in shown)


async def test_a_start_with_an_account_shows_no_code(sqlite_url: str, data_dir: Path) -> None:
    async with api_harness(make_api_angie(sqlite_url, data_dir, Brain())) as api:
        await api.signup("sam")
    (data_dir / SETUP_CODE_FILE).write_text("LEFT-OVER-CODE\n")

    async with api_harness(make_api_angie(sqlite_url, data_dir, Brain())) as api:
        assert api.angie.services.setup.code is None
        assert not _file(api).exists()
