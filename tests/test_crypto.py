"""Credentials are encrypted at rest with a key derived from ANGIE_SECRET_KEY."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from angie.db.credentials import CredentialStore
from angie.db.crypto import CredentialDecryptError, credential_box
from angie.db.engine import Database
from angie.db.models import Credential, User

KEY = "k" * 48
TOKEN = "xoxb-1234-secret-slack-token"


def test_round_trip() -> None:
    box = credential_box(KEY)
    assert box.decrypt(box.encrypt(TOKEN)) == TOKEN


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    assert TOKEN.encode() not in credential_box(KEY).encrypt(TOKEN)


def test_wrong_key_is_a_clear_error() -> None:
    token = credential_box(KEY).encrypt(TOKEN)
    with pytest.raises(CredentialDecryptError, match="ANGIE_SECRET_KEY changed"):
        credential_box("another-key-" * 4).decrypt(token)


def test_previous_key_still_decrypts_and_rotation_moves_to_the_new_one() -> None:
    old_token = credential_box(KEY).encrypt(TOKEN)
    rotated_box = credential_box("new-key-" * 6, KEY)
    rotated = rotated_box.rotate(old_token)
    assert credential_box("new-key-" * 6).decrypt(rotated) == TOKEN


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty secret"):
        credential_box("")


async def test_store_keeps_only_ciphertext_in_the_database(db: Database) -> None:
    async with db.session() as s:
        await CredentialStore(s, credential_box(KEY)).set("slack.bot_token", TOKEN)
    async with db.session() as s:
        row = (await s.scalars(select(Credential))).one()
        assert TOKEN.encode() not in row.ciphertext
        assert await CredentialStore(s, credential_box(KEY)).get("slack.bot_token") == TOKEN


async def test_store_separates_users_and_overwrites(db: Database) -> None:
    async with db.session() as s:
        user = User(email="sam@example.org", display_name="Sam")
        s.add(user)
        await s.flush()
        store = CredentialStore(s, credential_box(KEY))
        await store.set("hook.secret", "shared")
        await store.set("hook.secret", "mine", user_id=user.id)
        await store.set("hook.secret", "mine-2", user_id=user.id)
        assert await store.get("hook.secret") == "shared"
        assert await store.get("hook.secret", user_id=user.id) == "mine-2"
        assert await store.delete("hook.secret", user_id=user.id) is True
        assert await store.get("hook.secret", user_id=user.id) is None
        assert await store.delete("hook.secret", user_id=user.id) is False
