"""The web UI's typed client is generated from Angie's current OpenAPI schema: a route or model
that changed without `make web-schema` fails here."""

from __future__ import annotations

from pathlib import Path

from angie.api.schema_file import openapi_text, schema_stamp

FRONTEND = Path(__file__).resolve().parents[1] / "frontend"


def test_the_committed_openapi_schema_is_the_apps() -> None:
    committed = (FRONTEND / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_text(), (
        "frontend/openapi.json is not Angie's current schema: run `make web-schema`"
    )


def test_the_typed_client_was_generated_from_the_committed_schema() -> None:
    committed = (FRONTEND / "openapi.json").read_text(encoding="utf-8")
    generated = (FRONTEND / "src" / "api" / "schema.d.ts").read_text(encoding="utf-8")
    assert generated.splitlines()[0] == schema_stamp(committed), (
        "frontend/src/api/schema.d.ts was not generated from frontend/openapi.json: "
        "run `make web-schema`"
    )
