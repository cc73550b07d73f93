"""Write ``frontend/openapi.json`` from Angie's app and generate the typed client's
``src/api/schema.d.ts`` from it (``make web-schema``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from angie.api.schema_file import openapi_text, schema_stamp

FRONTEND = Path(__file__).resolve().parents[1]


def main() -> None:
    text = openapi_text()
    (FRONTEND / "openapi.json").write_text(text, encoding="utf-8")
    target = FRONTEND / "src" / "api" / "schema.d.ts"
    target.parent.mkdir(parents=True, exist_ok=True)
    generator = FRONTEND / "node_modules" / ".bin" / "openapi-typescript"
    subprocess.run(  # noqa: S603 - our own generator, installed by npm ci
        [str(generator), "openapi.json", "-o", str(target)], cwd=FRONTEND, check=True
    )
    generated = target.read_text(encoding="utf-8")
    target.write_text(f"{schema_stamp(text)}\n{generated}", encoding="utf-8")


if __name__ == "__main__":
    main()
