"""The HTTP client the CLI commands talk to Angie's API with; every failure becomes one clear line.

Where: ``--url``, then ``ANGIE_URL``, then the address saved by ``angie login``, then where
``angie serve`` listens by the same settings (``ANGIE_HOST``/``ANGIE_PORT``, from the
environment or ``.env``; http://127.0.0.1:8000 by default). Who: ``ANGIE_TOKEN``, or the
saved token when talking to the saved address (a saved token is never sent to another server).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version as dist_version
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Self
from urllib.parse import urlsplit

import click

from angie.cli.context import fail
from angie.cli.login_store import LoginStoreError, SavedLogin, load_login

if TYPE_CHECKING:
    import httpx

__all__ = (
    "DEFAULT_URL",
    "TOKEN_ENV",
    "URL_ENV",
    "AngieClient",
    "RequestFailed",
    "ServerEvent",
    "check_url",
    "connect",
    "saved_login",
    "url_option",
)

DEFAULT_URL = "http://127.0.0.1:8000"
URL_ENV = "ANGIE_URL"
TOKEN_ENV = "ANGIE_TOKEN"  # noqa: S105 - the variable's name, not a token

url_option: Callable[[Any], Any] = click.option(
    "--url",
    metavar="URL",
    help="Angie's address (default: ANGIE_URL, the one you logged in to, http://127.0.0.1:8000).",
)


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One server-sent event of a chat stream: its name and its JSON data."""

    name: str
    data: dict[str, Any]


class RequestFailed(Exception):
    """An answer the caller said it handles itself (see ``expect``), with the API's reason."""

    def __init__(self, status: int, code: str, message: str, request_id: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id


def saved_login() -> SavedLogin:
    try:
        return load_login()
    except LoginStoreError as err:
        fail(str(err), code=2)


def check_url(url: str) -> str:
    """The address without a trailing slash; anything but http(s)://host is refused."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        fail(f"{url!r} is not an address of Angie: use http://host:port or https://host", code=2)
    return url


def served_url() -> str:
    """Where ``angie serve`` on this machine listens, by its own settings (a wildcard bind
    address is reached on loopback)."""
    from pydantic import ValidationError

    from angie.settings import AngieSettings
    from angie_mcp_core.edge import WILDCARD_BINDS

    try:
        # Only the address is read: nothing is generated or written, as load_settings would.
        settings = AngieSettings(_env_file=".env")
    except ValidationError:
        return DEFAULT_URL
    host = settings.host.strip()
    if host in WILDCARD_BINDS:
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def connect(url: str | None = None, *, token: str | None = None) -> AngieClient:
    """A client for the address and token in effect (see the module docstring)."""
    config = saved_login()
    base = check_url(url or os.environ.get(URL_ENV, "").strip() or config.url or served_url())
    if token is None:
        token = os.environ.get(TOKEN_ENV, "").strip() or None
    if token is None and config.token and config.url and check_url(config.url) == base:
        token = config.token
    return AngieClient(base, token)


class AngieClient:
    """Synchronous calls to one Angie; failures exit with one line unless ``expect``-ed."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self.url = url
        self.token = token
        headers = {"User-Agent": f"angie-cli/{dist_version('angie')}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- plain requests ------------------------------------------------------------------------

    def get(self, path: str, *, params: Any = None, expect: Collection[int] = ()) -> Any:
        return self.request("GET", path, params=params, expect=expect)

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        expect: Collection[int] = (),
        timeout: float | None = None,
    ) -> Any:
        return self.request("POST", path, body=body, expect=expect, timeout=timeout)

    def put(self, path: str, body: Any, *, expect: Collection[int] = ()) -> Any:
        return self.request("PUT", path, body=body, expect=expect)

    def patch(self, path: str, body: Any, *, expect: Collection[int] = ()) -> Any:
        return self.request("PATCH", path, body=body, expect=expect)

    def delete(self, path: str, *, expect: Collection[int] = ()) -> Any:
        return self.request("DELETE", path, expect=expect)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Any = None,
        expect: Collection[int] = (),
        timeout: float | None = None,
    ) -> Any:
        """The decoded JSON answer (None for an empty one); a failure exits with one line,
        except the statuses in ``expect``, raised as :class:`RequestFailed`."""
        import httpx

        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = httpx.Timeout(timeout, connect=5.0)
        try:
            response = self._http.request(method, path, json=body, params=params, **extra)
        except httpx.TransportError as err:
            self._unreachable(err)
        if not response.is_success:
            self._refuse(response, expect)
        return self._decode(response)

    # -- streams -------------------------------------------------------------------------------

    @contextmanager
    def events(
        self, path: str, body: Any, *, expect: Collection[int] = (), timeout: float = 600.0
    ) -> Iterator[Iterator[ServerEvent]]:
        """POST ``body`` and read the answer as server-sent events, as they arrive."""
        import httpx

        wait = httpx.Timeout(connect=5.0, read=timeout, write=30.0, pool=5.0)
        try:
            with self._http.stream(
                "POST", path, json=body, timeout=wait, headers={"Accept": "text/event-stream"}
            ) as response:
                if not response.is_success:
                    response.read()
                    self._refuse(response, expect)
                yield _parse_events(response.iter_lines())
        except httpx.TransportError as err:
            self._unreachable(err)

    # -- failures ------------------------------------------------------------------------------

    def _decode(self, response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            fail(f"{self.url} did not answer like Angie (not JSON); is that her address?")

    def _unreachable(self, err: Exception) -> NoReturn:
        import httpx

        if isinstance(err, httpx.ConnectError | httpx.ConnectTimeout):
            fail(f"Angie is not running at {self.url} (start her with `angie serve`)")
        if isinstance(err, httpx.TimeoutException):
            fail(f"Angie at {self.url} did not answer in time; see `angie status`")
        fail(f"cannot talk to Angie at {self.url}: {err or type(err).__name__}")

    def _refuse(self, response: httpx.Response, expect: Collection[int]) -> NoReturn:
        failure = _failure(response)
        if failure.status in expect:
            raise failure
        if failure.status == 401:
            if self.token:
                fail("your token was refused; run `angie login`")
            if not response.request.url.path.startswith("/api/auth/"):
                fail("you are not logged in; run `angie login` (or `angie setup` the first time)")
        if failure.status >= 500:
            fail(f"Angie hit an error (request {failure.request_id or 'without an id'})")
        fail(failure.message)


def _failure(response: httpx.Response) -> RequestFailed:
    request_id = response.headers.get("x-request-id")
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        reason = f"{response.status_code} {response.reason_phrase}".strip()
        message = f"{response.request.url.host} answered {reason}; is that Angie's address?"
        return RequestFailed(response.status_code, "error", message, request_id)
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    return RequestFailed(
        response.status_code, str(error.get("code", "error")), error["message"], request_id
    )


def _parse_events(lines: Iterable[str]) -> Iterator[ServerEvent]:
    """Server-sent events (the ``event:``/``data:`` lines up to a blank one) with JSON data."""
    name, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield ServerEvent(name, _data("\n".join(data)))
            name, data = "message", []
        elif line.startswith(":"):
            continue  # a comment: the server keeping the connection alive
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
    if data:
        yield ServerEvent(name, _data("\n".join(data)))


def _data(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {"text": raw}
    return value if isinstance(value, dict) else {"value": value}
