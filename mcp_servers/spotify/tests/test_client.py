"""SpotifyClient through the real spotipy against the fake Spotify of angie_mcp_spotify.testing."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import spotipy
from angie_mcp_spotify.client import SCOPES, NotSignedInError, SpotifyClient
from angie_mcp_spotify.settings import SpotifySettings

from angie_mcp_core.calls import call_blocking
from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    NotFoundError,
    RateLimitedError,
    UnauthorizedError,
    UpstreamError,
    UpstreamTimeoutError,
)

CLIENT_SECRET = "fake-client-secret-s3cr3t"


def make_client(fake: Any, settings: SpotifySettings, cache: Any) -> SpotifyClient:
    return SpotifyClient(
        settings, cache, api_url=f"{fake.base_url}/v1/", accounts_url=fake.base_url
    )


def sign_in(fake: Any, client: SpotifyClient) -> None:
    """The browser's part of the flow: open the authorize URL, follow it to the redirect."""
    url = client.authorize_url("state-123")
    with requests.get(url, allow_redirects=False, timeout=5) as answer:
        location = answer.headers["Location"]
    client.exchange_code(SpotifyClient.code_from_redirect(location, "state-123"))


# -- sign-in ---------------------------------------------------------------------------------


def test_authorize_url_points_at_accounts_service_with_scopes_and_state(
    fake_spotify: Any, client: SpotifyClient
) -> None:
    url = urlsplit(client.authorize_url("xyz"))
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fake_spotify.base_url}/authorize"
    assert query["state"] == ["xyz"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8888/callback"]
    assert set(query["scope"][0].split()) == set(SCOPES)


def test_sign_in_stores_access_and_refresh_token_through_the_cache(
    fake_spotify: Any, settings: SpotifySettings
) -> None:
    cache = spotipy.MemoryCacheHandler()
    with make_client(fake_spotify, settings, cache) as client:
        assert not client.is_signed_in()
        sign_in(fake_spotify, client)
        assert client.is_signed_in()
        assert [d.name for d in client.devices()] == ["Kitchen speaker", "MacBook"]
    assert cache.token_info["access_token"] in fake_spotify.access_tokens
    assert cache.token_info["refresh_token"] in fake_spotify.refresh_tokens


def test_sign_in_never_writes_a_cache_file_in_the_working_directory(
    fake_spotify: Any, settings: SpotifySettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with make_client(fake_spotify, settings, spotipy.MemoryCacheHandler()) as client:
        sign_in(fake_spotify, client)
        client.devices()
    assert list(tmp_path.iterdir()) == []


def test_code_from_redirect_rejects_a_different_state() -> None:
    with pytest.raises(InvalidArgumentError, match="state"):
        SpotifyClient.code_from_redirect("http://127.0.0.1:8888/callback?code=c&state=evil", "s")


def test_code_from_redirect_reports_a_denied_authorization() -> None:
    with pytest.raises(InvalidArgumentError, match="access_denied"):
        SpotifyClient.code_from_redirect(
            "http://127.0.0.1:8888/callback?error=access_denied&state=s", "s"
        )


def test_exchange_code_rejects_a_used_code(fake_spotify: Any, settings: SpotifySettings) -> None:
    with make_client(fake_spotify, settings, spotipy.MemoryCacheHandler()) as client:
        with pytest.raises(InvalidArgumentError, match="authorize URL again"):
            client.exchange_code("code-never-issued")
        assert not client.is_signed_in()


def test_exchange_code_with_a_wrong_client_secret_names_the_env_vars(
    fake_spotify: Any, settings: SpotifySettings
) -> None:
    wrong = SpotifySettings(_env_file=None, client_id=settings.client_id, client_secret="nope")
    with (
        make_client(fake_spotify, wrong, spotipy.MemoryCacheHandler()) as client,
        pytest.raises(UnauthorizedError) as caught,
    ):
        client.exchange_code("code-x")
    assert "ANGIE_SPOTIFY_CLIENT_SECRET" in str(caught.value)
    assert "nope" not in str(caught.value)


def test_expired_access_token_is_refreshed_transparently(
    fake_spotify: Any, settings: SpotifySettings
) -> None:
    stale = fake_spotify.token_info(lifetime=-5)
    cache = spotipy.MemoryCacheHandler(dict(stale))
    with make_client(fake_spotify, settings, cache) as client:
        assert len(client.devices()) == 2
    assert fake_spotify.refreshes == 1
    assert cache.token_info["access_token"] != stale["access_token"]
    assert cache.token_info["refresh_token"] == stale["refresh_token"]


def test_short_lived_tokens_from_sign_in_are_refreshed_before_use(
    fake_spotify: Any, settings: SpotifySettings
) -> None:
    # spotipy refreshes a token with under 60 s to live, so 30 s tokens refresh on every call.
    fake_spotify.token_lifetime = 30
    with make_client(fake_spotify, settings, spotipy.MemoryCacheHandler()) as client:
        sign_in(fake_spotify, client)
        assert len(client.devices()) == 2
        assert len(client.devices()) == 2
    assert fake_spotify.refreshes >= 2


def test_revoked_refresh_token_asks_to_sign_in_again(
    fake_spotify: Any, settings: SpotifySettings
) -> None:
    stale = fake_spotify.token_info(lifetime=-5)
    fake_spotify.refresh_tokens.clear()
    with (
        make_client(fake_spotify, settings, spotipy.MemoryCacheHandler(stale)) as client,
        pytest.raises(NotSignedInError, match="angie-mcp-spotify auth"),
    ):
        client.devices()


def test_no_stored_token_raises_not_signed_in_without_any_request(
    fake_spotify: Any, settings: SpotifySettings
) -> None:
    with (
        make_client(fake_spotify, settings, spotipy.MemoryCacheHandler()) as client,
        pytest.raises(NotConfiguredError, match="angie-mcp-spotify auth"),
    ):
        client.now_playing()
    assert fake_spotify.requests == []


def test_token_lacking_a_scope_raises_not_signed_in_instead_of_prompting(
    fake_spotify: Any, settings: SpotifySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("spotipy tried to interact with a user")

    monkeypatch.setattr("builtins.input", refuse)
    monkeypatch.setattr("webbrowser.open", refuse)
    token = fake_spotify.token_info(scope="user-read-email")
    with (
        make_client(fake_spotify, settings, spotipy.MemoryCacheHandler(token)) as client,
        pytest.raises(NotSignedInError, match="lacks permissions"),
    ):
        client.devices()


def test_missing_configuration_lists_the_env_vars(
    fake_spotify: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANGIE_SPOTIFY_CLIENT_ID", raising=False)
    monkeypatch.delenv("ANGIE_SPOTIFY_CLIENT_SECRET", raising=False)
    settings = SpotifySettings(_env_file=None)
    with make_client(fake_spotify, settings, spotipy.MemoryCacheHandler()) as client:
        with pytest.raises(NotConfiguredError) as caught:
            client.devices()
        with pytest.raises(NotConfiguredError):
            client.authorize_url("s")
    assert "ANGIE_SPOTIFY_CLIENT_ID, ANGIE_SPOTIFY_CLIENT_SECRET" in str(caught.value)
    assert fake_spotify.requests == []


# -- search and status -----------------------------------------------------------------------


def test_probe_names_the_signed_in_account(client: SpotifyClient) -> None:
    assert client.probe() == "Spotify account Ada (ada, premium)"


def test_search_returns_tracks_albums_artists_and_playlists(client: SpotifyClient) -> None:
    found = client.search("blue")
    assert [t.name for t in found.tracks] == ["So What", "Freddie Freeloader", "Blue in Green"]
    assert found.tracks[0].artists == ["Miles Davis"]
    assert found.tracks[0].album == "Kind of Blue"
    assert [a.name for a in found.albums] == ["Kind of Blue"]
    assert found.artists == []
    assert found.playlists == []
    assert client.search("road").playlists[0].tracks_total == 3
    assert client.search("radiohead", types=["artist"]).artists[0].genres == ["alternative rock"]


def test_search_returns_at_most_limit_per_type(client: SpotifyClient) -> None:
    found = client.search("daft punk", types=["track"], limit=2)
    assert [t.name for t in found.tracks] == ["One More Time", "Digital Love"]


@pytest.mark.parametrize("limit", [0, 11])
def test_search_rejects_limit_out_of_range_without_a_request(
    fake_spotify: Any, client: SpotifyClient, limit: int
) -> None:
    with pytest.raises(InvalidArgumentError, match="from 1 to 10"):
        client.search("jazz", limit=limit)
    assert fake_spotify.requests == []


def test_search_rejects_an_unknown_type(fake_spotify: Any, client: SpotifyClient) -> None:
    with pytest.raises(InvalidArgumentError, match="podcast"):
        client.search("jazz", types=["podcast"])
    assert fake_spotify.requests == []


# -- player ----------------------------------------------------------------------------------


def test_now_playing_reports_track_device_and_progress(
    fake_spotify: Any, client: SpotifyClient
) -> None:
    fake_spotify.is_playing = True
    state = client.now_playing()
    assert state.is_playing
    assert state.track is not None
    assert (state.track.name, state.track.artists, state.track.album) == (
        "So What",
        ["Miles Davis"],
        "Kind of Blue",
    )
    assert state.progress_ms == 12_000
    assert state.device is not None
    assert state.device.name == "MacBook"
    assert state.context_uri == "spotify:album:album03"


def test_now_playing_with_nothing_active_is_an_empty_result(
    fake_spotify: Any, client: SpotifyClient
) -> None:
    fake_spotify.deactivate()
    state = client.now_playing()
    assert not state.is_playing
    assert state.track is None
    assert state.device is None


def test_play_track_uri_starts_that_track(fake_spotify: Any, client: SpotifyClient) -> None:
    change = client.play(uri="spotify:track:track11")
    assert change.action == "play"
    assert (fake_spotify.current, fake_spotify.is_playing) == ("track11", True)
    assert client.now_playing().track.name == "Paranoid Android"  # type: ignore[union-attr]


def test_play_open_spotify_link_to_an_album_plays_the_album(
    fake_spotify: Any, client: SpotifyClient
) -> None:
    client.play(uri="https://open.spotify.com/album/album04?si=abc")
    assert fake_spotify.context_uri == "spotify:album:album04"
    assert fake_spotify.current == "track10"


def test_play_query_plays_the_first_search_hit(fake_spotify: Any, client: SpotifyClient) -> None:
    change = client.play(query="karma police")
    assert change.track is not None
    assert change.track.uri == "spotify:track:track12"
    assert "Karma Police" in change.detail
    assert fake_spotify.current == "track12"


def test_play_on_a_device_named_in_another_case_moves_playback_there(
    fake_spotify: Any, client: SpotifyClient
) -> None:
    change = client.play(uri="spotify:playlist:pl0focus", device="kitchen SPEAKER")
    assert change.device == "Kitchen speaker"
    assert fake_spotify.active_device == "kitchen0speaker"
    assert (fake_spotify.current, fake_spotify.is_playing) == ("track07", True)


def test_play_without_arguments_resumes(fake_spotify: Any, client: SpotifyClient) -> None:
    assert client.play().action == "resume"
    assert (fake_spotify.current, fake_spotify.is_playing) == ("track07", True)


def test_play_rejects_uri_and_query_together(fake_spotify: Any, client: SpotifyClient) -> None:
    with pytest.raises(InvalidArgumentError, match="not both"):
        client.play(uri="spotify:track:track01", query="one more time")
    assert fake_spotify.requests == []


def test_play_rejects_a_malformed_uri_without_a_request(
    fake_spotify: Any, client: SpotifyClient
) -> None:
    with pytest.raises(InvalidArgumentError, match="not a Spotify URI"):
        client.play(uri="spotify:user:ada")
    assert fake_spotify.requests == []


def test_play_on_an_unknown_device_suggests_the_close_name(client: SpotifyClient) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'Kitchen speaker'"):
        client.play(device="kitchen speakr")


def test_play_query_without_hits_is_not_found(client: SpotifyClient) -> None:
    with pytest.raises(NotFoundError, match="zzzz"):
        client.play(query="zzzz")


def test_play_with_no_active_device_says_to_start_or_transfer(
    fake_spotify: Any, client: SpotifyClient
) -> None:
    fake_spotify.deactivate()
    with pytest.raises(InvalidArgumentError, match="transfer playback"):
        client.play(uri="spotify:track:track01")


def test_pause_stops_playback(fake_spotify: Any, client: SpotifyClient) -> None:
    fake_spotify.is_playing = True
    assert client.pause().action == "pause"
    assert not fake_spotify.is_playing


def test_pause_when_already_paused_is_a_clear_refusal(client: SpotifyClient) -> None:
    with pytest.raises(InvalidArgumentError, match="already paused"):
        client.pause()


def test_next_track_advances_within_the_album(fake_spotify: Any, client: SpotifyClient) -> None:
    client.next_track()
    assert fake_spotify.current == "track08"


def test_previous_track_goes_back(fake_spotify: Any, client: SpotifyClient) -> None:
    client.next_track()
    client.next_track()
    client.previous_track()
    assert fake_spotify.current == "track08"


def test_set_volume_changes_the_active_device(fake_spotify: Any, client: SpotifyClient) -> None:
    change = client.set_volume(35)
    assert change.volume_percent == 35
    assert fake_spotify.device("MacBook")["volume"] == 35


def test_set_volume_on_a_named_device(fake_spotify: Any, client: SpotifyClient) -> None:
    client.set_volume(0, device="Kitchen Speaker")
    assert fake_spotify.device("Kitchen speaker")["volume"] == 0
    assert fake_spotify.device("MacBook")["volume"] == 70


@pytest.mark.parametrize("percent", [-1, 101])
def test_set_volume_rejects_out_of_range_without_a_request(
    fake_spotify: Any, client: SpotifyClient, percent: int
) -> None:
    with pytest.raises(InvalidArgumentError, match="0 to 100"):
        client.set_volume(percent)
    assert fake_spotify.requests == []


def test_add_to_queue_plays_the_track_next(fake_spotify: Any, client: SpotifyClient) -> None:
    change = client.add_to_queue(uri="spotify:track:track03")
    assert change.uri == "spotify:track:track03"
    assert fake_spotify.queue == ["track03"]
    client.next_track()
    assert fake_spotify.current == "track03"


def test_add_to_queue_by_query(fake_spotify: Any, client: SpotifyClient) -> None:
    client.add_to_queue(query="digital love")
    assert fake_spotify.queue == ["track02"]


def test_add_to_queue_rejects_an_album(fake_spotify: Any, client: SpotifyClient) -> None:
    with pytest.raises(InvalidArgumentError, match="episode, track"):
        client.add_to_queue(uri="spotify:album:album01")
    assert fake_spotify.requests == []


# -- devices ---------------------------------------------------------------------------------


def test_devices_lists_both_with_the_active_one(client: SpotifyClient) -> None:
    devices = {d.name: d for d in client.devices()}
    assert set(devices) == {"Kitchen speaker", "MacBook"}
    assert devices["MacBook"].is_active
    assert devices["Kitchen speaker"].volume_percent == 40


def test_transfer_playback_by_name_in_another_case(
    fake_spotify: Any, client: SpotifyClient
) -> None:
    fake_spotify.deactivate()
    change = client.transfer_playback("KITCHEN speaker")
    assert change.device == "Kitchen speaker"
    assert (fake_spotify.active_device, fake_spotify.is_playing) == ("kitchen0speaker", True)


def test_transfer_playback_to_an_unknown_device_suggests_the_close_name(
    client: SpotifyClient,
) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'MacBook'"):
        client.transfer_playback("macbok")


# -- playlists -------------------------------------------------------------------------------


def test_playlists_lists_mine_across_pages(fake_spotify: Any, client: SpotifyClient) -> None:
    fake_spotify.max_page = 1
    playlists = client.playlists()
    assert [(p.name, p.tracks_total, p.public) for p in playlists] == [
        ("Road Trip", 3, True),
        ("Focus", 2, False),
    ]
    assert playlists[0].owner == "Ada"


def test_create_playlist_adds_a_private_playlist(fake_spotify: Any, client: SpotifyClient) -> None:
    created = client.create_playlist("Dinner", description="Quiet evenings")
    assert (created.name, created.description, created.public) == (
        "Dinner",
        "Quiet evenings",
        False,
    )
    assert fake_spotify.playlist("Dinner")["id"] == created.id
    assert "Dinner" in [p.name for p in client.playlists()]


def test_add_to_playlist_by_name_in_another_case(fake_spotify: Any, client: SpotifyClient) -> None:
    change = client.add_to_playlist("road TRIP", ["spotify:track:track12", "spotify:track:track10"])
    assert (change.playlist_name, change.added) == ("Road Trip", 2)
    assert fake_spotify.playlist("Road Trip")["tracks"][-2:] == ["track12", "track10"]
    assert change.snapshot_id == fake_spotify.playlist("Road Trip")["snapshot_id"]


def test_add_to_playlist_by_id(fake_spotify: Any, client: SpotifyClient) -> None:
    client.add_to_playlist("pl0focus", ["https://open.spotify.com/track/track08"])
    assert fake_spotify.playlist("Focus")["tracks"] == ["track07", "track09", "track08"]


def test_add_to_playlist_unknown_name_suggests_the_close_name(client: SpotifyClient) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'Road Trip'"):
        client.add_to_playlist("road trp", ["spotify:track:track01"])


def test_add_to_playlist_rejects_a_bad_uri_without_a_request(
    fake_spotify: Any, client: SpotifyClient
) -> None:
    with pytest.raises(InvalidArgumentError, match="not a Spotify URI"):
        client.add_to_playlist("Focus", ["karma police"])
    assert fake_spotify.requests == []


# -- vendor failures -------------------------------------------------------------------------


def test_rejected_token_is_unauthorized_and_names_the_env_var(
    fake_spotify: Any, client: SpotifyClient, token_cache: Any
) -> None:
    fake_spotify.fail_next(401, message="Invalid access token")
    with pytest.raises(UnauthorizedError) as caught:
        client.devices()
    message = str(caught.value)
    assert "ANGIE_SPOTIFY_CLIENT_ID" in message
    assert "angie-mcp-spotify auth" in message
    assert token_cache.token_info["access_token"] not in message
    assert token_cache.token_info["refresh_token"] not in message
    assert CLIENT_SECRET not in message


def test_premium_required_is_a_clear_error(fake_spotify: Any, client: SpotifyClient) -> None:
    fake_spotify.premium = False
    with pytest.raises(UpstreamError, match="Premium") as caught:
        client.next_track()
    assert caught.value.status == 403


def test_not_found_is_an_upstream_404(fake_spotify: Any, client: SpotifyClient) -> None:
    with pytest.raises(UpstreamError, match="Resource not found") as caught:
        client.add_to_playlist("spotify:playlist:someoneelses", ["spotify:track:track01"])
    assert caught.value.status == 404


def test_rate_limit_fails_at_once_with_retry_after(
    fake_spotify: Any, client: SpotifyClient
) -> None:
    fake_spotify.fail_next(429, headers={"Retry-After": "7"}, message="API rate limit exceeded")
    with pytest.raises(RateLimitedError, match="7 seconds") as caught:
        client.devices()
    assert caught.value.retry_after == 7
    assert len(fake_spotify.requests) == 1


def test_server_error_is_upstream_error_without_retries(
    fake_spotify: Any, client: SpotifyClient
) -> None:
    fake_spotify.fail_next(500, times=5, message="Server error")
    with pytest.raises(UpstreamError) as caught:
        client.now_playing()
    assert caught.value.status == 500
    assert len(fake_spotify.requests) == 1


def test_accounts_service_outage_during_refresh_is_upstream_error(
    fake_spotify: Any, settings: SpotifySettings
) -> None:
    fake_spotify.fail_next(503, path="/api/token")
    stale = fake_spotify.token_info(lifetime=-5)
    with (
        make_client(fake_spotify, settings, spotipy.MemoryCacheHandler(stale)) as client,
        pytest.raises(UpstreamError) as caught,
    ):
        client.devices()
    assert caught.value.status == 503


def test_connection_refused_is_upstream_error(fake_spotify: Any, client: SpotifyClient) -> None:
    fake_spotify.stop()
    with pytest.raises(UpstreamError, match="could not connect"):
        client.devices()


def test_slow_answer_past_the_request_timeout_is_a_timeout(
    fake_spotify: Any, settings: SpotifySettings, token_cache: Any
) -> None:
    fake_spotify.delay = 60
    answered = fake_spotify.answered
    quick = settings.model_copy(update={"timeout": 0.3})
    with (
        make_client(fake_spotify, quick, token_cache) as client,
        pytest.raises(UpstreamTimeoutError),
    ):
        client.devices()
    assert fake_spotify.answered == answered
    fake_spotify.release()


async def test_slow_upstream_times_out_in_call_blocking(
    fake_spotify: Any, client: SpotifyClient
) -> None:
    fake_spotify.delay = 60
    answered = fake_spotify.answered
    with pytest.raises(UpstreamTimeoutError, match=r"0\.3 seconds"):
        await call_blocking("Spotify", 0.3, client.devices)
    assert fake_spotify.answered == answered
    fake_spotify.release()
