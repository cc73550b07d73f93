"""OAuth tokens at rest are encrypted in the server's own private file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from angie_mcp_core.crypto import DecryptError
from angie_mcp_core.tokens import TokenFile

TOKENS = {"access_token": "at-123", "refresh_token": "rt-very-secret", "expires_at": 1_900_000_000}


def test_round_trip(tmp_path: Path) -> None:
    store = TokenFile(tmp_path / "spotify" / "tokens.enc")
    store.save(TOKENS)
    assert TokenFile(tmp_path / "spotify" / "tokens.enc").load() == TOKENS


def test_nothing_stored_is_none(tmp_path: Path) -> None:
    assert TokenFile(tmp_path / "tokens.enc").load() is None


def test_file_and_key_are_private_and_the_file_holds_no_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "tokens.enc"
    TokenFile(path).save(TOKENS)
    assert b"rt-very-secret" not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.with_suffix(".key").stat().st_mode) == 0o600


def test_configured_secret_is_used_instead_of_a_key_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.enc"
    TokenFile(path, "a-configured-secret-key").save(TOKENS)
    assert not path.with_suffix(".key").exists()
    assert TokenFile(path, "a-configured-secret-key").load() == TOKENS


def test_wrong_key_says_to_sign_in_again(tmp_path: Path) -> None:
    path = tmp_path / "tokens.enc"
    TokenFile(path, "first-key-xxxxxxxx").save(TOKENS)
    with pytest.raises(DecryptError, match="sign in again"):
        TokenFile(path, "second-key-xxxxxxx", key_name="ANGIE_SPOTIFY_TOKEN_KEY").load()


def test_clear_removes_the_tokens(tmp_path: Path) -> None:
    store = TokenFile(tmp_path / "tokens.enc")
    store.save(TOKENS)
    store.clear()
    assert store.load() is None


def test_the_file_is_decrypted_again_only_when_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tokens.enc"
    tokens = TokenFile(path, "k" * 32)
    tokens.save({"token": "a"})
    box = tokens._get_box()
    opened: list[bytes] = []
    decrypt = box.decrypt

    def counted(data: bytes) -> str:
        opened.append(data)
        return decrypt(data)

    monkeypatch.setattr(box, "decrypt", counted)
    assert tokens.load() == {"token": "a"}
    assert tokens.load() == {"token": "a"}
    assert opened == []  # what it saved itself is known
    # Another process (a sign-in by the auth command) replaces the file: read again, once.
    TokenFile(path, "k" * 32).save({"token": "b"})
    assert tokens.load() == {"token": "b"}
    assert tokens.load() == {"token": "b"}
    assert len(opened) == 1
    # A copy: changing what was loaded changes nothing stored.
    loaded = tokens.load()
    assert loaded is not None
    loaded["token"] = "changed"
    assert tokens.load() == {"token": "b"}
    path.unlink()
    assert tokens.load() is None
