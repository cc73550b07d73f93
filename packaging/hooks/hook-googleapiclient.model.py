# Replaces the hook of pyinstaller-hooks-contrib, which bundles every discovery document of
# google-api-python-client (110 MB, some 500 APIs). The gmail and gcal servers build their
# service from the document that ships with the library (static_discovery=True), so the binary
# needs those and no others: the (name, version) of every `build("name", "version", ...)` call
# and of every `GoogleService(api="name", version="version", ...)` (the kit's Google account
# builds from those) in mcp_servers/. A server of a new API is bundled its document without a
# change here.

import ast
from pathlib import Path

from PyInstaller.utils.hooks import collect_data_files, copy_metadata

_MCP_SERVERS = Path(__file__).resolve().parents[2] / "mcp_servers"  # packaging/hooks/ -> root


def _documents():
    names = set()
    for path in sorted(_MCP_SERVERS.glob("*/src/**/*.py")):
        for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id == "build" and len(node.args) >= 2:
                name, version = node.args[0], node.args[1]
            elif node.func.id == "GoogleService":
                given = {k.arg: k.value for k in node.keywords}
                name, version = given.get("api"), given.get("version")
            else:
                continue
            if isinstance(name, ast.Constant) and isinstance(version, ast.Constant):
                names.add(f"{name.value}.{version.value}.json")
    if not names:
        # An empty list would bundle every document: better to fail the build.
        raise SystemExit("no Google API is built in mcp_servers/: the hook found nothing")
    return sorted(names)


datas = copy_metadata("google_api_python_client")
datas += collect_data_files(
    "googleapiclient.discovery_cache", includes=[f"documents/{name}" for name in _documents()]
)
