"""Angie's OpenAPI schema as the web UI's typed client is generated from it
(``frontend/openapi.json``)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

__all__ = ("openapi_text", "schema_stamp")


def openapi_text() -> str:
    """The schema of an Angie on default settings, as the file holds it (stable key order)."""
    # Imported here: building the app pulls in the whole of Angie.
    from angie.api.app import create_app
    from angie.services import build_services
    from angie.settings import AngieSettings

    with tempfile.TemporaryDirectory(prefix="angie-openapi-") as folder:
        data_dir = Path(folder)
        settings = AngieSettings(
            _env_file=None,
            data_dir=data_dir,
            database_url=f"sqlite+aiosqlite:///{data_dir / 'schema.db'}",
        )
        document = create_app(build_services(settings, specs={})).openapi()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def schema_stamp(openapi: str) -> str:
    """The first line of ``src/api/schema.d.ts``: which schema it was generated from."""
    digest = hashlib.sha256(openapi.encode()).hexdigest()
    return f"// Generated from openapi.json (sha256 {digest}) by `make web-schema`; do not edit."
