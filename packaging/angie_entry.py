"""Entry script of the PyInstaller binary: the same ``angie`` command as the console script, plus
``angie mcp-server NAME [ARGS…]``, which runs one of the bundled built-in MCP servers.

Outside the binary Angie starts a built-in server as ``python -m <its package>``; the binary has
no Python to give ``-m`` to, so its supervisor starts the binary itself with ``mcp-server NAME``
(see ``angie.mcp.registry``). That entry is handled here, before the CLI is imported: a server
process then loads its own package and the MCP kit, not Angie's commands, the web app or the
model libraries, and starts as fast as the console script ``angie-mcp-NAME`` does. ARGS are the
server's own (``serve --transport http``, ``pair``, ``auth``), as ``angie-mcp-NAME`` takes them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

SERVER_ENTRY = "mcp-server"
LAUNCHER_ENTRY = "mcp-launcher"  # angie.mcp.forked.FROZEN_ENTRY


def serve_builtin(argv: Sequence[str]) -> int:
    """Run the built-in server ``argv[0]`` with the arguments after it; returns its exit code."""
    from importlib import import_module

    from angie.mcp.manifests import discover

    found = discover()
    known = ", ".join(sorted(found)) or "none"
    if not argv or argv[0].startswith("-"):
        print(f"usage: angie {SERVER_ENTRY} NAME [ARGS…] (NAME: {known})", file=sys.stderr)
        return 2
    name = argv[0]
    if name not in found:
        print(
            f"angie {SERVER_ENTRY}: no built-in MCP server named {name!r} in this binary "
            f"(known: {known})",
            file=sys.stderr,
        )
        return 2
    # The package's command line, as its console script runs it (angie_mcp_hue.__main__:main).
    server_main = import_module(f"{found[name].module}.__main__").main
    code: int = server_main(list(argv[1:]))
    return code


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == SERVER_ENTRY:
        sys.exit(serve_builtin(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == LAUNCHER_ENTRY:
        # The pre-forked launcher (angie.mcp.launcher): it imports the bundled servers once and
        # forks each of them, instead of the binary unpacking and starting itself per server.
        from angie.mcp.launcher import main as launch

        sys.exit(launch(sys.argv[2:]))
    from angie.cli import main

    main()
