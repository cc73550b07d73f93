"""Stored prompts on SQLite and MariaDB: each person's documents and the household's overrides."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from angie.db.engine import Database
from angie.db.models import Prompt, PromptKind, User
from angie.prompts import (
    MAX_BODY_BYTES,
    ONBOARDING_DOCS,
    HouseholdPromptStore,
    PromptComposer,
    PromptContext,
    PromptError,
    PromptLibrary,
    PromptUser,
    UserPromptStore,
    prompts_dir,
)
from angie.prompts.versions import check_name

SHIPPED = PromptLibrary(prompts_dir())
NOW = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
CTX = PromptContext(
    user=PromptUser(name="Sam Lee", address_as="Sam", timezone="UTC"),
    now=NOW,
    timezone="UTC",
    channel="cli",
)


async def _user(db: Database, email: str = "sam@example.org") -> int:
    async with db.session() as s:
        user = User(email=email, display_name=email.split("@")[0])
        s.add(user)
        await s.flush()
        return user.id


async def _rows(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Prompt)) or 0)


def _small_library(tmp_path: Path) -> PromptLibrary:
    root = tmp_path / "prompts"
    root.mkdir()
    (root / "system.md").write_text("SYSTEM file for {{ user.name }}.\n", encoding="utf-8")
    (root / "angie.md").write_text("ANGIE file.\n", encoding="utf-8")
    return PromptLibrary(root)


async def test_each_changed_save_adds_the_next_version(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)

    versions = [
        await store.save(sam, "style", body, by=sam) for body in ("Short.", "Shorter.", "Brief.")
    ]

    assert versions == [1, 2, 3]
    current = await store.get(sam, "style")
    assert current is not None
    assert (current.version, current.body, current.created_by_id) == (3, "Brief.\n", sam)


async def test_saving_an_identical_body_is_a_no_op(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    await store.save(sam, "style", "Short.", by=sam)
    await store.save(sam, "style", "Warm.", by=sam)

    # The same text once it went through an editor: other line endings, a final newline.
    assert await store.save(sam, "style", "\r\nWarm.\r\n\r\n", by=None) == 2
    assert [v.version for v in await store.history(sam, "style")] == [1, 2]


async def test_saving_an_empty_document_that_never_existed_writes_nothing(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    assert await store.save(sam, "garden", "  \n", by=sam) == 0
    assert await _rows(db) == 0


async def test_history_is_oldest_first_with_who_saved_each_version(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    admin = await _user(db, "admin@example.org")
    await store.save(sam, "people", "Ann.", by=sam)
    await store.save(sam, "people", "Ann and Bo.", by=admin)

    history = await store.history(sam, "people")

    assert [(v.version, v.body, v.created_by_id) for v in history] == [
        (1, "Ann.\n", sam),
        (2, "Ann and Bo.\n", admin),
    ]


async def test_current_lists_the_latest_versions_in_composition_order(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    for name in ("recipes", "contact", "profile"):
        await store.save(sam, name, f"{name} 1", by=sam)
    await store.save(sam, "profile", "profile 2", by=sam)

    current = await store.current(sam)

    assert [(d.name, d.version, d.body) for d in current] == [
        ("profile", 2, "profile 2\n"),
        ("contact", 1, "contact 1\n"),
        ("recipes", 1, "recipes 1\n"),
    ]


async def test_a_cleared_document_is_left_out_of_current(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    await store.save(sam, "garden", "Tomatoes.", by=sam)
    await store.save(sam, "people", "Ann.", by=sam)

    assert await store.save(sam, "garden", "", by=sam) == 2

    assert [d.name for d in await store.current(sam)] == ["people"]
    cleared = await store.get(sam, "garden")
    assert cleared is not None
    assert (cleared.version, cleared.body) == (2, "")


async def test_users_cannot_see_each_others_documents(db: Database) -> None:
    store = UserPromptStore(db, SHIPPED)
    sam, ann = await _user(db), await _user(db, "ann@example.org")
    await store.save(sam, "profile", "Sam's.", by=sam)
    await store.save(ann, "profile", "Ann's.", by=ann)
    await store.save(ann, "profile", "Ann's, again.", by=ann)

    assert [(d.body, d.version) for d in await store.current(sam)] == [("Sam's.\n", 1)]
    assert [v.body for v in await store.history(sam, "profile")] == ["Sam's.\n"]
    assert await store.get(sam, "recipes") is None
    # Sam's next version follows Sam's own history, not Ann's.
    assert await store.save(sam, "profile", "Sam's, again.", by=sam) == 2


@pytest.mark.parametrize("name", ["Profile", "my profile", "-dash", "x" * 65, "../etc", ""])
def test_a_name_that_is_not_a_slug_is_refused(name: str) -> None:
    with pytest.raises(PromptError, match="is not a valid prompt name"):
        check_name(name)


@pytest.mark.parametrize("name", ["profile", "0-day", "a_b-c", "x" * 64])
def test_slugs_are_accepted_as_names(name: str) -> None:
    assert check_name(name) == name


async def test_save_refuses_a_name_that_is_not_a_slug(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    with pytest.raises(PromptError, match="'My Profile' is not a valid prompt name"):
        await store.save(sam, "My Profile", "Hi.", by=sam)
    assert await _rows(db) == 0


async def test_save_refuses_a_body_over_64_kib(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    with pytest.raises(PromptError, match=f"prompts are limited to {MAX_BODY_BYTES}"):
        await store.save(sam, "notes", "é" * (MAX_BODY_BYTES // 2 + 1), by=sam)


async def test_save_refuses_a_variable_no_context_provides(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    with pytest.raises(
        PromptError, match=r"^user prompt `profile` uses `nickname`, which is not defined$"
    ):
        await store.save(sam, "profile", "Call me {{ nickname }}.", by=sam)
    assert await _rows(db) == 0


async def test_export_then_import_round_trips(db: Database, tmp_path: Path) -> None:
    store = UserPromptStore(db, SHIPPED)
    sam, ann = await _user(db), await _user(db, "ann@example.org")
    await store.save(sam, "profile", "Sam, {{ user.address_as }} to friends.", by=sam)
    await store.save(sam, "recipes", "Soup: ✓ leeks", by=sam)

    paths = await store.export(sam, tmp_path / "out")

    assert sorted(p.name for p in paths) == ["profile.md", "recipes.md"]
    assert await store.import_(ann, tmp_path / "out", by=ann) == {"profile": 1, "recipes": 1}
    assert [(d.name, d.body) for d in await store.current(ann)] == [
        (d.name, d.body) for d in await store.current(sam)
    ]
    # Importing an untouched export changes nothing.
    assert await store.import_(sam, paths, by=sam) == {"profile": 1, "recipes": 1}


async def test_import_saves_each_file_as_a_new_version(db: Database, tmp_path: Path) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    await store.save(sam, "style", "Formal.", by=sam)
    (tmp_path / "style.md").write_text("Casual.\n", encoding="utf-8")

    assert await store.import_(sam, [tmp_path / "style.md"], by=sam) == {"style": 2}
    assert [v.body for v in await store.history(sam, "style")] == ["Formal.\n", "Casual.\n"]


@pytest.mark.parametrize(
    ("filename", "content", "error"),
    [
        ("Bad Name.md", b"Hi.", "is not a valid prompt name"),
        ("latin1.md", "caf\u00e9".encode("latin-1"), "is not UTF-8 text"),
        ("huge.md", b"x" * (MAX_BODY_BYTES + 1), f"larger than {MAX_BODY_BYTES} bytes"),
        ("broken.md", b"{% if user.name %}never closed", "has a template error on line 1"),
        ("notes.txt", b"Hi.", "is not a .md file"),
    ],
)
async def test_import_with_one_bad_file_writes_nothing(
    db: Database, tmp_path: Path, filename: str, content: bytes, error: str
) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    folder = tmp_path / "import"
    folder.mkdir()
    (folder / "a-good.md").write_text("Fine.", encoding="utf-8")
    (folder / filename).write_bytes(content)
    (folder / "z-good.md").write_text("Also fine.", encoding="utf-8")
    files = sorted(folder.iterdir())

    with pytest.raises(PromptError, match=re.escape(error)):
        await store.import_(sam, files, by=sam)

    assert await _rows(db) == 0


async def test_import_of_a_folder_without_documents_is_refused(
    db: Database, tmp_path: Path
) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    folder = tmp_path / "import"
    folder.mkdir()
    (folder / "notes.txt").write_text("Hi.", encoding="utf-8")
    with pytest.raises(PromptError, match=r"holds no \.md files"):
        await store.import_(sam, folder, by=sam)


async def test_first_use_writes_the_setup_documents(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)

    assert await store.ensure_defaults(sam) == list(ONBOARDING_DOCS)

    current = await store.current(sam)
    assert [d.name for d in current] == list(ONBOARDING_DOCS)
    assert all(d.version == 1 and d.created_by_id is None for d in current)
    assert current[0].body == SHIPPED.source("onboarding/profile.md").strip() + "\n"


async def test_first_use_happens_once(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    await store.ensure_defaults(sam)

    assert await store.ensure_defaults(sam) == []
    assert await _rows(db) == len(ONBOARDING_DOCS)


async def test_a_user_with_documents_gets_no_defaults(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    await store.save(sam, "recipes", "Soup.", by=sam)

    assert await store.ensure_defaults(sam) == []
    assert [d.name for d in await store.current(sam)] == ["recipes"]


async def test_reset_restores_setup_documents_and_keeps_the_others(db: Database) -> None:
    store, sam = UserPromptStore(db, SHIPPED), await _user(db)
    await store.ensure_defaults(sam)
    await store.save(sam, "style", "Terse, in German.", by=sam)
    await store.save(sam, "recipes", "Soup.", by=sam)

    versions = await store.reset(sam, by=sam)

    # Only the edited setup document needed a new version; the others already were defaults.
    assert versions == {name: 3 if name == "style" else 1 for name in ONBOARDING_DOCS}
    defaults = {n: b.strip() + "\n" for n, b in SHIPPED.onboarding_defaults().items()}
    current = {d.name: d.body for d in await store.current(sam)}
    assert current == {**defaults, "recipes": "Soup.\n"}
    assert [v.body for v in await store.history(sam, "style")][1] == "Terse, in German.\n"


async def test_household_override_wins_over_the_file(db: Database, tmp_path: Path) -> None:
    library = _small_library(tmp_path)
    household = HouseholdPromptStore(db, library)
    composer = PromptComposer(library, household)
    admin = await _user(db, "admin@example.org")

    assert (
        await household.save(PromptKind.ANGIE, "ANGIE edited for {{ user.name }}.", by=admin) == 1
    )

    assert await composer.compose_conversation(CTX, []) == (
        "SYSTEM file for Sam Lee.\n\nANGIE edited for Sam Lee."
    )


async def test_conversation_composes_the_stored_documents(db: Database, tmp_path: Path) -> None:
    library = _small_library(tmp_path)
    store, sam = UserPromptStore(db, library), await _user(db)
    await store.save(sam, "recipes", "Soup.", by=sam)
    await store.save(sam, "people", "Ann is {{ user.address_as }}'s sister.", by=sam)
    composer = PromptComposer(library, HouseholdPromptStore(db, library))

    text = await composer.compose_conversation(CTX, await store.current(sam))

    assert text == "SYSTEM file for Sam Lee.\n\nANGIE file.\n\nAnn is Sam's sister.\n\nSoup."


async def test_a_turn_reads_the_overrides_and_the_documents_together(
    db: Database, tmp_path: Path
) -> None:
    library = _small_library(tmp_path)
    store, household = UserPromptStore(db, library), HouseholdPromptStore(db, library)
    sam, ann = await _user(db), await _user(db, "ann@example.org")
    await store.save(sam, "recipes", "Soup.", by=sam)
    await store.save(sam, "people", "Ann is {{ user.address_as }}'s sister.", by=sam)
    await store.save(sam, "old", "Gone soon.", by=sam)
    await store.save(sam, "old", "", by=sam)
    await store.save(ann, "recipes", "Ann's cake.", by=ann)
    await household.save(PromptKind.ANGIE, "ANGIE edited, version 1.", by=None)
    await household.save(PromptKind.ANGIE, "ANGIE edited, version 2.", by=None)
    await household.save(PromptKind.SYSTEM, "SYSTEM edited.", by=None)
    await household.reset(PromptKind.SYSTEM, by=None)
    composer = PromptComposer(library, household)

    prompts = await store.for_conversation(sam)

    assert prompts.documents == await store.current(sam)
    assert prompts.household == await household.overrides()
    assert {kind: v.body for kind, v in prompts.household.items()} == {
        PromptKind.ANGIE: "ANGIE edited, version 2.\n"
    }
    assert [d.body for d in prompts.documents] == [
        "Ann is {{ user.address_as }}'s sister.\n",
        "Soup.\n",
    ]
    assert await composer.compose_conversation(CTX, prompts.documents, prompts.household) == (
        await composer.compose_conversation(CTX, await store.current(sam))
    )
    household_only = await store.for_conversation(None)
    assert (household_only.documents, household_only.household) == ([], prompts.household)


async def test_household_reset_goes_back_to_the_file_and_keeps_history(
    db: Database, tmp_path: Path
) -> None:
    library = _small_library(tmp_path)
    household = HouseholdPromptStore(db, library)
    composer = PromptComposer(library, household)
    await household.save(PromptKind.SYSTEM, "SYSTEM edited.", by=None)

    assert await household.reset(PromptKind.SYSTEM, by=None) == 2

    assert await household.current(PromptKind.SYSTEM) is None
    assert [v.body for v in await household.history(PromptKind.SYSTEM)] == ["SYSTEM edited.\n", ""]
    assert await composer.compose_conversation(CTX, []) == "SYSTEM file for Sam Lee.\n\nANGIE file."


async def test_household_reset_without_an_override_writes_nothing(db: Database) -> None:
    household = HouseholdPromptStore(db, SHIPPED)
    assert await household.reset(PromptKind.ANGIE, by=None) == 0
    assert await _rows(db) == 0


async def test_household_override_errors_name_the_override(db: Database, tmp_path: Path) -> None:
    library = _small_library(tmp_path)
    household = HouseholdPromptStore(db, library)
    await household.save(PromptKind.SYSTEM, "For {{ user.surname }}.", by=None)
    with pytest.raises(
        PromptError, match=r"^the household SYSTEM prompt \(version 1\) uses `user\.surname`"
    ):
        await PromptComposer(library, household).compose_conversation(CTX, [])


async def test_household_overrides_only_system_and_angie(db: Database) -> None:
    household = HouseholdPromptStore(db, SHIPPED)
    with pytest.raises(ValueError, match="not USER"):
        await household.save(PromptKind.USER, "Hi.", by=None)


async def test_a_users_document_named_system_does_not_override_anything(
    db: Database, tmp_path: Path
) -> None:
    library = _small_library(tmp_path)
    sam = await _user(db)
    await UserPromptStore(db, library).save(sam, "system", "Mine.", by=sam)
    assert await HouseholdPromptStore(db, library).current(PromptKind.SYSTEM) is None
