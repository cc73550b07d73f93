"""The Spotify MCP server through MCP: in memory, over stdio and over HTTP, against the fake."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from angie_mcp_spotify.server import build
from angie_mcp_spotify.settings import SpotifySettings
from angie_mcp_spotify.token_cache import EncryptedCacheHandler
from fastmcp import Client
from fastmcp.exceptions import ToolError
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from angie_mcp_core.testing import serve_http

BEARER = "spotify-bearer-token-0123456789"
READS = {"status", "search", "now_playing", "list_devices", "list_playlists"}
WRITES = {
    "play",
    "pause",
    "next_track",
    "previous_track",
    "set_volume",
    "add_to_queue",
    "transfer_playback",
    "create_playlist",
    "add_to_playlist",
}


async def call(settings: SpotifySettings, tool: str, **arguments: Any) -> Any:
    """The structured result of one tool call on a fresh in-memory server."""
    async with Client(build(settings)) as client:
        result = await client.call_tool(tool, arguments)
    return result.structured_content


# -- tools, annotations and status -----------------------------------------------------------


async def test_lists_every_tool_with_a_docstring_and_honest_annotations(
    signed_in: SpotifySettings,
) -> None:
    async with Client(build(signed_in)) as client:
        tools = {t.name: t for t in await client.list_tools()}
    assert set(tools) == READS | WRITES
    for name, tool in tools.items():
        assert len(tool.description or "") > 40, name
        assert tool.annotations is not None, name
        assert tool.annotations.read_only_hint is (name in READS), name
        assert tool.annotations.destructive_hint is False, name


async def test_tool_arguments_are_described(signed_in: SpotifySettings) -> None:
    async with Client(build(signed_in)) as client:
        tools = await client.list_tools()
    for tool in tools:
        for name, schema in tool.input_schema.get("properties", {}).items():
            assert schema.get("description"), f"{tool.name}.{name}"


async def test_status_reports_configured_and_the_signed_in_account(
    signed_in: SpotifySettings,
) -> None:
    status = await call(signed_in, "status")
    assert (status["configured"], status["upstream_reachable"]) == (True, True)
    assert status["upstream"] == "Spotify account Ada (ada, premium)"


async def test_status_when_not_signed_in_says_to_run_auth(
    server_settings: SpotifySettings,
) -> None:
    status = await call(server_settings, "status")
    assert (status["configured"], status["upstream_reachable"]) == (True, False)
    assert "angie-mcp-spotify auth" in status["error"]


async def test_unconfigured_server_lists_its_tools(tmp_path: Path) -> None:
    settings = SpotifySettings(_env_file=None, token_file=tmp_path / "tokens.enc")
    async with Client(build(settings)) as client:
        tools = await client.list_tools()
    assert {t.name for t in tools} == READS | WRITES


async def test_unconfigured_status_names_the_missing_env_vars(tmp_path: Path) -> None:
    settings = SpotifySettings(_env_file=None, token_file=tmp_path / "tokens.enc")
    status = await call(settings, "status")
    assert status["configured"] is False
    assert status["missing_settings"] == ["ANGIE_SPOTIFY_CLIENT_ID", "ANGIE_SPOTIFY_CLIENT_SECRET"]
    assert status["upstream_reachable"] is None


async def test_unconfigured_tool_call_says_how_to_configure(tmp_path: Path) -> None:
    settings = SpotifySettings(_env_file=None, token_file=tmp_path / "tokens.enc")
    with pytest.raises(ToolError, match="set ANGIE_SPOTIFY_CLIENT_ID, ANGIE_SPOTIFY_CLIENT_SECRET"):
        await call(settings, "list_devices")


async def test_tool_call_before_sign_in_says_to_run_auth(
    fake_spotify: Any, server_settings: SpotifySettings
) -> None:
    with pytest.raises(ToolError, match="Run `angie-mcp-spotify auth`"):
        await call(server_settings, "now_playing")
    assert fake_spotify.requests == []


# -- every tool's happy path -----------------------------------------------------------------


async def test_search_returns_structured_results(signed_in: SpotifySettings) -> None:
    found = await call(signed_in, "search", query="kind of blue")
    assert set(found) == {"query", "tracks", "albums", "artists", "playlists"}
    assert found["albums"][0] == {
        "uri": "spotify:album:album03",
        "name": "Kind of Blue",
        "artists": ["Miles Davis"],
        "release_date": "1959",
        "total_tracks": 3,
    }
    assert [t["name"] for t in found["tracks"]] == [
        "So What",
        "Freddie Freeloader",
        "Blue in Green",
    ]


async def test_search_returns_only_the_kinds_and_number_asked_for(
    signed_in: SpotifySettings,
) -> None:
    found = await call(signed_in, "search", query="daft punk", types=["track"], limit=2)
    assert [t["name"] for t in found["tracks"]] == ["One More Time", "Digital Love"]
    assert found["albums"] == found["artists"] == found["playlists"] == []


async def test_now_playing_reports_the_track_and_device(
    fake_spotify: Any, signed_in: SpotifySettings
) -> None:
    fake_spotify.is_playing = True
    state = await call(signed_in, "now_playing")
    assert state["is_playing"] is True
    assert (state["track"]["name"], state["device"]["name"]) == ("So What", "MacBook")
    assert state["progress_ms"] == 12_000


async def test_play_uri_starts_that_track(fake_spotify: Any, signed_in: SpotifySettings) -> None:
    change = await call(signed_in, "play", uri="spotify:track:track11")
    assert change["action"] == "play"
    assert (fake_spotify.current, fake_spotify.is_playing) == ("track11", True)


async def test_play_query_on_a_device_plays_the_best_match_there(
    fake_spotify: Any, signed_in: SpotifySettings
) -> None:
    change = await call(signed_in, "play", query="karma police", device="kitchen speaker")
    assert change["track"]["uri"] == "spotify:track:track12"
    assert change["device"] == "Kitchen speaker"
    assert (fake_spotify.current, fake_spotify.active_device) == ("track12", "kitchen0speaker")


async def test_pause_stops_playback(fake_spotify: Any, signed_in: SpotifySettings) -> None:
    fake_spotify.is_playing = True
    assert (await call(signed_in, "pause"))["action"] == "pause"
    assert fake_spotify.is_playing is False


async def test_next_track_skips(fake_spotify: Any, signed_in: SpotifySettings) -> None:
    await call(signed_in, "next_track")
    assert fake_spotify.current == "track08"


async def test_previous_track_goes_back(fake_spotify: Any, signed_in: SpotifySettings) -> None:
    await call(signed_in, "previous_track")
    assert fake_spotify.current == "track09"


async def test_set_volume_on_a_named_device(fake_spotify: Any, signed_in: SpotifySettings) -> None:
    change = await call(signed_in, "set_volume", percent=25, device="Kitchen speaker")
    assert change["volume_percent"] == 25
    assert fake_spotify.device("Kitchen speaker")["volume"] == 25


async def test_add_to_queue_by_query(fake_spotify: Any, signed_in: SpotifySettings) -> None:
    change = await call(signed_in, "add_to_queue", query="digital love")
    assert change["uri"] == "spotify:track:track02"
    assert fake_spotify.queue == ["track02"]


async def test_list_devices_returns_them_with_the_active_one(signed_in: SpotifySettings) -> None:
    devices = (await call(signed_in, "list_devices"))["result"]
    assert [(d["name"], d["is_active"]) for d in devices] == [
        ("Kitchen speaker", False),
        ("MacBook", True),
    ]


async def test_transfer_playback_moves_to_the_device(
    fake_spotify: Any, signed_in: SpotifySettings
) -> None:
    fake_spotify.deactivate()
    change = await call(signed_in, "transfer_playback", device="KITCHEN SPEAKER")
    assert change["device"] == "Kitchen speaker"
    assert (fake_spotify.active_device, fake_spotify.is_playing) == ("kitchen0speaker", True)


async def test_list_playlists_returns_the_library(signed_in: SpotifySettings) -> None:
    playlists = (await call(signed_in, "list_playlists"))["result"]
    assert [(p["name"], p["tracks_total"]) for p in playlists] == [("Road Trip", 3), ("Focus", 2)]


async def test_create_playlist_adds_a_private_one(
    fake_spotify: Any, signed_in: SpotifySettings
) -> None:
    created = await call(signed_in, "create_playlist", name="Dinner", description="Quiet")
    assert (created["name"], created["public"]) == ("Dinner", False)
    assert fake_spotify.playlist("Dinner")["id"] == created["id"]


async def test_add_to_playlist_appends_the_tracks(
    fake_spotify: Any, signed_in: SpotifySettings
) -> None:
    uris = ["spotify:track:track12", "https://open.spotify.com/track/track10"]
    change = await call(signed_in, "add_to_playlist", playlist="road trip", uris=uris)
    assert (change["playlist_name"], change["added"]) == ("Road Trip", 2)
    assert fake_spotify.playlist("Road Trip")["tracks"][-2:] == ["track12", "track10"]


async def test_expired_token_is_refreshed_and_saved_encrypted(
    fake_spotify: Any, server_settings: SpotifySettings, store_sign_in: Any
) -> None:
    stale = store_sign_in(fake_spotify, lifetime=-5)
    await call(server_settings, "list_devices")
    stored = EncryptedCacheHandler.from_settings(server_settings).get_cached_token()
    assert stored is not None
    assert stored["access_token"] != stale["access_token"]
    assert fake_spotify.refreshes == 1


# -- errors the model sees -------------------------------------------------------------------


async def test_unknown_device_suggests_the_close_name(signed_in: SpotifySettings) -> None:
    with pytest.raises(ToolError, match=r"No device named 'kitchen speakr'\. Did you mean"):
        await call(signed_in, "pause", device="kitchen speakr")


async def test_volume_150_is_rejected_by_the_schema_before_spotify(
    fake_spotify: Any, signed_in: SpotifySettings
) -> None:
    with pytest.raises(ToolError, match="less than or equal to 100"):
        await call(signed_in, "set_volume", percent=150)
    assert fake_spotify.requests == []


async def test_search_limit_above_ten_is_rejected_by_the_schema(
    fake_spotify: Any, signed_in: SpotifySettings
) -> None:
    with pytest.raises(ToolError, match="less than or equal to 10"):
        await call(signed_in, "search", query="jazz", limit=11)
    assert fake_spotify.requests == []


async def test_no_active_device_says_to_transfer_playback(
    fake_spotify: Any, signed_in: SpotifySettings
) -> None:
    fake_spotify.deactivate()
    with pytest.raises(ToolError, match="transfer playback"):
        await call(signed_in, "next_track")


@pytest.mark.parametrize(
    ("status", "headers", "message"),
    [
        (401, {}, r"Spotify failed \(HTTP 401\): it rejected Angie's credentials\. Run `angie"),
        (429, {"Retry-After": "7"}, r"Spotify is rate limiting requests\. Try again in 7 seconds"),
        (500, {}, r"Spotify failed \(HTTP 500\)"),
    ],
)
async def test_vendor_error_reaches_the_model_and_the_server_keeps_serving(
    fake_spotify: Any,
    signed_in: SpotifySettings,
    status: int,
    headers: dict[str, str],
    message: str,
) -> None:
    fake_spotify.fail_next(status, headers=headers)
    async with Client(build(signed_in)) as client:
        with pytest.raises(ToolError, match=message):
            await client.call_tool("list_devices", {})
        result = await client.call_tool("list_devices", {})
    assert len(result.structured_content["result"]) == 2


async def test_slow_spotify_times_out_within_the_configured_timeout(
    fake_spotify: Any, signed_in: SpotifySettings
) -> None:
    fake_spotify.delay = 60
    answered = fake_spotify.answered
    quick = signed_in.model_copy(update={"timeout": 0.3})
    with pytest.raises(ToolError, match=r"Spotify did not answer within 0\.3 seconds"):
        await call(quick, "now_playing")
    assert fake_spotify.answered == answered, "the tool waited for Spotify instead of timing out"
    fake_spotify.release()


# -- over stdio and HTTP, in subprocesses ----------------------------------------------------


async def test_official_sdk_client_over_stdio(
    fake_spotify: Any, server_env: Any, tmp_path: Path
) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "angie_mcp_spotify"],
        env=server_env(fake_spotify, tmp_path / "state"),
        cwd=tmp_path,
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = await session.list_tools()
        result = await session.call_tool("now_playing", {})
    assert {t.name for t in tools.tools} == READS | WRITES
    assert result.structured_content is not None
    assert result.structured_content["track"]["name"] == "So What"


@pytest.fixture(scope="module")
def http_server(
    module_fake: Any, server_env: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    home = tmp_path_factory.mktemp("http-server")
    env = server_env(module_fake, home / "state", ANGIE_SPOTIFY_TOKEN=BEARER)
    with serve_http([sys.executable, "-m", "angie_mcp_spotify"], env=env, cwd=home) as url:
        yield url


def test_http_without_a_bearer_token_is_401(http_server: str) -> None:
    response = httpx.post(http_server, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == 401


def test_http_with_a_wrong_bearer_token_is_401(http_server: str) -> None:
    response = httpx.post(
        http_server,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Authorization": "Bearer not-the-token-at-all"},
    )
    assert response.status_code == 401


async def test_official_sdk_client_over_http_with_the_token(http_server: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {BEARER}"}) as http,
        streamable_http_client(http_server, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("list_devices", {})
    assert result.structured_content is not None
    assert [d["name"] for d in result.structured_content["result"]] == [
        "Kitchen speaker",
        "MacBook",
    ]
