"""Smoke test of the built binary: ``angie serve`` starts and stops as a deploy relies on.

It runs ``dist/angie serve`` (or the binary named) on a free loopback port with a fresh data
dir and HOME and no other ANGIE_* settings, waits for ``/api/health`` and ``/api/ready`` to
answer 200 and every built-in MCP server of mcp_servers/ to be up (each one a process of the
binary itself, ``angie mcp-server NAME``), checks that ``/api/docs`` and the Swagger UI files it
loads come from the binary itself (no CDN), sends SIGTERM and expects exit code 0 within the
grace. It also fails on any traceback or ERROR line in the binary's output: the daemon logs some
start-up failures (a broken MCP manifest, a module the bundle lacks behind a lazy import) and
carries on. Then it runs ``angie mcp serve hue --transport http`` alone and speaks MCP to it
(initialize, tools/list) with its bearer token, and checks that a wrong token gets a 401.
Standard library only, so CI runs it with any Python 3.

    python3 packaging/smoke.py [dist/angie]   # SMOKE_START_TIMEOUT, SMOKE_GRACE in seconds
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

START_TIMEOUT = float(os.environ.get("SMOKE_START_TIMEOUT", "90"))
# The built-in servers the binary must run: every package folder of mcp_servers/ but the kit.
MCP_SERVERS = Path(__file__).resolve().parents[1] / "mcp_servers"
BUILTIN_SERVERS = sorted(
    path.name
    for path in MCP_SERVERS.iterdir()
    if path.name != "_core" and (path / "pyproject.toml").is_file()
)
# Angie.stop() gives running tasks 30 s and uvicorn 10 s; an idle binary stops in about 1 s.
GRACE = float(os.environ.get("SMOKE_GRACE", "45"))
BAD_LINES = ("Traceback (most recent call last)", " ERROR ", " CRITICAL ")
# The files the docs page loads: <script src=...> and <link href=...>.
_ASSETS = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)["']""")


class SmokeError(Exception):
    """The binary did not do what a deploy relies on."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get(url: str) -> tuple[int, Any]:
    """Status and JSON body of a GET; (0, None) while nothing listens."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - a loopback http URL
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as err:
        return err.code, None
    except OSError:
        return 0, None


def fetch(url: str) -> tuple[int, str, bytes]:
    """Status, content type and body of a GET that is expected to answer."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - a loopback http URL
            return answer.status, answer.headers.get("content-type", ""), answer.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("content-type", ""), b""
    except OSError as err:
        raise SmokeError(f"GET {url} failed: {err}") from None


def check_docs(origin: str) -> str:
    """The docs page answers and every file it loads comes from Angie with its content type."""
    status, kind, body = fetch(f"{origin}/api/docs")
    if status != 200 or not kind.startswith("text/html"):
        raise SmokeError(f"/api/docs answered {status} ({kind or 'no content type'})")
    assets = _ASSETS.findall(body.decode("utf-8", errors="replace"))
    foreign = [url for url in assets if not url.startswith("/api/")]
    if foreign or not any(url.endswith(".js") for url in assets):
        raise SmokeError(f"/api/docs loads {assets}; expected Angie's own Swagger UI files")
    expected = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for url in assets:
        status, kind, body = fetch(origin + url)
        want = next((t for suffix, t in expected.items() if url.endswith(suffix)), "")
        if status != 200 or not body or not kind.startswith(want):
            raise SmokeError(f"{url} answered {status} ({kind or 'no content type'})")
    return ", ".join(url.rsplit("/", 1)[-1] for url in assets)


def wait_for(url: str, angie: subprocess.Popen[bytes], deadline: float) -> Any:
    """The body of the first 200 from ``url``; fails if Angie exits or the deadline passes."""
    while time.monotonic() < deadline:
        status, body = get(url)
        if status == 200:
            return body
        if angie.poll() is not None:
            raise SmokeError(f"angie serve exited with {angie.returncode} before {url} answered")
        time.sleep(0.5)
    raise SmokeError(f"{url} did not answer 200 within {START_TIMEOUT:.0f} s (last: {status})")


def check_ready(url: str, angie: subprocess.Popen[bytes], deadline: float) -> str:
    """What ready reports, checked: the database answers and every built-in MCP server runs.

    Ready answers 200 while servers are still starting, so this asks again until none is.
    """
    while True:
        body = wait_for(url, angie, deadline)
        if not isinstance(body, dict) or body.get("status") != "ready":
            raise SmokeError(f"/api/ready answered 200 with {body!r}")
        servers = body.get("servers", {})
        if "starting" not in servers.values() or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    missing = sorted(set(BUILTIN_SERVERS) - set(servers))
    if missing:
        raise SmokeError(f"/api/ready: the binary runs no {', '.join(missing)} MCP server")
    down = {name: health for name, health in servers.items() if health != "healthy"}
    if down:
        raise SmokeError(f"/api/ready: MCP servers not healthy: {down}")
    return ", ".join(servers)


def mcp_post(url: str, token: str, message: dict[str, Any], session: str | None) -> Any:
    """POST one JSON-RPC message to a streamable-HTTP MCP endpoint; returns the status, the
    session id it gives and the JSON-RPC answer (from a JSON body or an event stream)."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
    }
    if session:
        headers["Mcp-Session-Id"] = session
    request = urllib.request.Request(  # noqa: S310 - a loopback http URL
        url, data=json.dumps(message).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:  # noqa: S310
            session = answer.headers.get("mcp-session-id") or session
            kind, body = answer.headers.get("content-type", ""), answer.read().decode()
            status = answer.status
    except urllib.error.HTTPError as err:
        return err.code, session, None
    except OSError as err:
        raise SmokeError(f"POST {url} failed: {err}") from None
    if not body.strip():
        return status, session, None
    if kind.startswith("text/event-stream"):
        data = [line[5:].strip() for line in body.splitlines() if line.startswith("data:")]
        body = next((item for item in data if '"id"' in item), "")
    return status, session, json.loads(body) if body else None


def check_server(binary: Path, workdir: Path, env: dict[str, str]) -> str:
    """``angie mcp serve hue --transport http`` answers MCP with its token and only with it."""
    port = free_port()
    token = secrets.token_urlsafe(32)
    url = f"http://127.0.0.1:{port}/mcp"
    env = {**env, "ANGIE_HUE_TOKEN": token}
    log_path = workdir / "hue.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - the binary under test
            [str(binary), "mcp", "serve", "hue", "--transport", "http", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while get(url)[0] == 0:
                if server.poll() is not None:
                    raise SmokeError(f"angie mcp serve hue exited with {server.returncode}")
                if time.monotonic() >= deadline:
                    raise SmokeError(f"angie mcp serve hue did not listen within {START_TIMEOUT} s")
                time.sleep(0.5)
            hello = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "angie-smoke", "version": "1"},
                },
            }
            refused, _, _ = mcp_post(url, "not-the-token-" + "x" * 20, hello, None)
            if refused != 401:
                raise SmokeError(f"the hue server answered {refused} to a wrong token, not 401")
            status, session, answer = mcp_post(url, token, hello, None)
            name = (answer or {}).get("result", {}).get("serverInfo", {}).get("name")
            if status != 200 or not name:
                raise SmokeError(f"the hue server answered initialize with {status}: {answer}")
            initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            mcp_post(url, token, initialized, session)
            listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
            status, _, answer = mcp_post(url, token, listing, session)
            tools = [tool["name"] for tool in (answer or {}).get("result", {}).get("tools", [])]
            if status != 200 or not tools:
                raise SmokeError(f"the hue server answered tools/list with {status}: {answer}")
        except BaseException:
            print(log_path.read_text(errors="replace"), file=sys.stderr)
            raise
        finally:
            server.terminate()
            try:
                server.wait(GRACE)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return f"{name}: {len(tools)} tools, a wrong token gets 401"


def smoke(binary: Path, workdir: Path) -> None:
    home, data = workdir / "home", workdir / "data"
    home.mkdir()
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    base = f"{origin}/api"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(workdir),
        "ANGIE_DATA_DIR": str(data),
        "ANGIE_PORT": str(port),
    }
    log_path = workdir / "angie.log"
    started = time.monotonic()
    # cwd is the fresh dir too, so a developer's .env is not read.
    with log_path.open("wb") as log:
        angie = subprocess.Popen(  # noqa: S603 - the binary under test
            [str(binary), "serve"], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_for(f"{base}/health", angie, started + START_TIMEOUT)
            up = time.monotonic() - started
            ready = check_ready(f"{base}/ready", angie, started + START_TIMEOUT)
            print(f"smoke: health and ready answer 200 after {up:.1f} s")
            print(
                f"smoke: every built-in MCP server healthy after "
                f"{time.monotonic() - started:.1f} s ({ready})"
            )
            print(f"smoke: /api/docs and its files answer 200 ({check_docs(origin)})")
            angie.send_signal(signal.SIGTERM)
            stopping = time.monotonic()
            try:
                code = angie.wait(GRACE)
            except subprocess.TimeoutExpired:
                late = f"angie serve did not exit within {GRACE:.0f} s of SIGTERM"
                raise SmokeError(late) from None
            if code != 0:
                raise SmokeError(f"angie serve exited with {code} after SIGTERM")
            print(f"smoke: SIGTERM -> exit 0 in {time.monotonic() - stopping:.1f} s")
        except BaseException:
            if angie.poll() is None:
                angie.kill()
                angie.wait()
            print(log_path.read_text(errors="replace"), file=sys.stderr)
            raise
    output = log_path.read_text(errors="replace")
    bad = [line for line in output.splitlines() if any(mark in line for mark in BAD_LINES)]
    if bad:
        print(output, file=sys.stderr)
        raise SmokeError(f"angie serve logged errors: {bad[0]}")
    print(f"smoke: angie mcp serve hue speaks MCP over HTTP ({check_server(binary, workdir, env)})")


def main() -> int:
    binary = Path(sys.argv[1] if len(sys.argv) > 1 else "dist/angie").resolve()
    if not os.access(binary, os.X_OK):
        print(f"smoke: {binary} is not an executable; run `make build` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="angie-smoke-") as workdir:
        try:
            smoke(binary, Path(workdir))
        except SmokeError as err:
            print(f"smoke: FAILED: {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
