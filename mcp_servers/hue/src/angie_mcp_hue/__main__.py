"""`angie-mcp-hue`: serve the Hue tools, or `pair` with a bridge to get its API key."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from angie_mcp_core.errors import InvalidArgumentError, NotConfiguredError, ServerToolError
from angie_mcp_core.runner import main as run_main
from angie_mcp_hue.client import HueClient
from angie_mcp_hue.server import build
from angie_mcp_hue.settings import HueSettings, bare_host

__all__ = ("main",)

PROG = "angie-mcp-hue"


def _configure_pair(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Get an API key from the Hue bridge: press the round link button on top of the "
        "bridge, then run this within 30 seconds."
    )
    # Its own dest: the top-level --host is the HTTP bind address.
    parser.add_argument(
        "--host",
        dest="bridge_host",
        metavar="HOST",
        help="the bridge's IP address or host name (default: ANGIE_HUE_BRIDGE_HOST)",
    )


def _pair(settings: HueSettings, args: argparse.Namespace) -> int:
    """Print the new key and the environment lines to stdout; problems go to stderr."""
    try:
        username = HueClient(settings).pair(args.bridge_host)
    except InvalidArgumentError as err:  # the link button has not been pressed
        print(f"{PROG} pair: {err}", file=sys.stderr)
        return 1
    except NotConfiguredError as err:
        print(f"{PROG} pair: error: {err}", file=sys.stderr)
        return 2
    except ServerToolError as err:
        print(f"{PROG} pair: error: {err}", file=sys.stderr)
        return 1
    host = bare_host(args.bridge_host) if args.bridge_host else settings.bridge_host
    print(f"Paired with the Hue bridge at {host}. Its new username (API key) is:")
    print(username)
    print("Put this in the server's environment (keep it secret):")
    if args.bridge_host:
        print(f"{settings.env_name('bridge_host')}={host}")
    print(f"{settings.env_name('username')}={username}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(
        build, HueSettings, argv, prog=PROG, commands=[("pair", _configure_pair, _pair)]
    )


if __name__ == "__main__":
    sys.exit(main())
