"""The Spotify Web API through spotipy: sign-in, search, playback, devices and playlists."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

import requests
import spotipy

from angie_mcp_core.errors import InvalidArgumentError, NotConfiguredError, NotFoundError
from angie_mcp_core.vendor import VendorClient
from angie_mcp_spotify.auth import SCOPES, HeadlessOAuth, quiet_spotipy_debug_logs
from angie_mcp_spotify.errors import SERVICE, NotSignedInError, translated
from angie_mcp_spotify.models import (
    Device,
    NowPlaying,
    PlaybackChange,
    Playlist,
    PlaylistChange,
    SearchResults,
    Track,
)
from angie_mcp_spotify.settings import SpotifySettings

__all__ = (
    "ACCOUNTS_URL",
    "API_URL",
    "MAX_SEARCH_LIMIT",
    "SCOPES",
    "SEARCH_TYPES",
    "SERVICE",
    "NotSignedInError",
    "SpotifyClient",
)

API_URL: Final = "https://api.spotify.com/v1/"
ACCOUNTS_URL: Final = "https://accounts.spotify.com"
SEARCH_TYPES: Final = ("track", "album", "artist", "playlist")
# Spotify cut the search page size from 50 to 10 for development-mode apps in February 2026.
MAX_SEARCH_LIMIT: Final = 10
# POST /playlists/{id}/items takes at most this many URIs per request.
_PLAYLIST_BATCH: Final = 100
_PLAYLIST_PAGE: Final = 50
_MAX_PLAYLISTS: Final = 1000

_PLAYABLE: Final = frozenset({"track", "episode", "album", "playlist", "artist", "show"})
_QUEUEABLE: Final = frozenset({"track", "episode"})
_URI = re.compile(r"^spotify:(?P<kind>[a-z]+):(?P<id>[0-9A-Za-z]+)$")
_URL = re.compile(
    r"^(?:https?://)?open\.spotify\.com/(?:intl-[\w-]+/)?(?P<kind>[a-z]+)/(?P<id>[0-9A-Za-z]+)"
    r"/?(?:\?.*)?$"
)


def _parse_uri(value: str, kinds: frozenset[str]) -> tuple[str, str]:
    """``(kind, "spotify:kind:id")`` for a Spotify URI or open.spotify.com link of ``kinds``."""
    text = value.strip()
    match = _URI.match(text) or _URL.match(text)
    if match is None or match["kind"] not in kinds:
        raise InvalidArgumentError(
            f"{value!r} is not a Spotify URI or link of a {', '.join(sorted(kinds))}; expected "
            "e.g. spotify:track:4uLU6hMCjMI75M1A2tKUQC or https://open.spotify.com/track/…"
        )
    return match["kind"], f"spotify:{match['kind']}:{match['id']}"


class SpotifyClient(VendorClient):
    """One Spotify account, reached with the app's credentials and the account's stored token.

    ``token_cache`` is any :class:`spotipy.cache_handler.CacheHandler`; it holds the account's
    access and refresh tokens, and spotipy saves refreshed tokens back through it. It is
    required because spotipy's default writes a ``.cache`` file in the working directory.
    Methods block; call them from async code with ``angie_mcp_core.calls.call_blocking``.
    """

    def __init__(
        self,
        settings: SpotifySettings,
        token_cache: spotipy.CacheHandler,
        *,
        api_url: str = API_URL,
        accounts_url: str = ACCOUNTS_URL,
    ) -> None:
        quiet_spotipy_debug_logs()
        self._settings = settings
        self._cache = token_cache
        # Our own session: spotipy's retrying adapter sleeps on 429/5xx and then reports every
        # exhausted retry as a 429 without Retry-After. A plain adapter does not retry at all.
        self._session = requests.Session()
        self._oauth: HeadlessOAuth | None = None
        self._sp: Any = None
        if settings.missing():
            return
        assert settings.client_id is not None
        assert settings.client_secret is not None
        self._oauth = HeadlessOAuth(
            accounts_url=accounts_url.rstrip("/"),
            client_id=settings.client_id,
            client_secret=settings.client_secret.get_secret_value(),
            redirect_uri=settings.redirect_uri,
            cache_handler=token_cache,
            requests_session=self._session,
            requests_timeout=settings.timeout,
        )
        # retries/status_retries/backoff_factor only shape a session spotipy builds itself;
        # they are set anyway so nothing retries if the session argument is ever dropped.
        self._sp = spotipy.Spotify(
            auth_manager=self._oauth,
            requests_session=self._session,
            requests_timeout=settings.timeout,
            retries=0,
            status_retries=0,
            backoff_factor=0,
        )
        self._sp.prefix = api_url.rstrip("/") + "/"

    def close(self) -> None:
        self._session.close()

    # -- sign-in -----------------------------------------------------------------------------

    def authorize_url(self, state: str) -> str:
        """The Spotify page the user opens to let Angie use their account."""
        if not state:
            raise InvalidArgumentError("Pass a random, non-empty state to check the redirect.")
        url: str = self._require_oauth().get_authorize_url(state=state)
        return url

    @staticmethod
    def code_from_redirect(url: str, state: str) -> str:
        """The authorization code in the URL Spotify redirected the browser to."""
        try:
            got_state, code = spotipy.SpotifyOAuth.parse_auth_response_url(url)
        except spotipy.SpotifyOauthError as err:
            raise InvalidArgumentError(
                f"{SERVICE} did not authorize Angie ({err.error}); open the authorize URL again."
            ) from err
        if got_state != state:
            raise InvalidArgumentError(
                "The redirect's state does not match this sign-in; open the authorize URL again."
            )
        if not code:
            raise InvalidArgumentError("The redirect URL carries no authorization code.")
        return str(code)

    def exchange_code(self, code: str) -> None:
        """Trade an authorization code for tokens and store them through the token cache."""
        oauth = self._require_oauth()
        with translated(self._settings):
            try:
                oauth.get_access_token(code=code, as_dict=False, check_cache=False)
            except spotipy.SpotifyOauthError as err:
                if err.error != "invalid_grant":
                    raise
                raise InvalidArgumentError(
                    f"{SERVICE} did not accept the authorization code ({err.error_description}). "
                    "Codes work once and expire within minutes: open the authorize URL again."
                ) from err

    def is_signed_in(self) -> bool:
        """Whether a refreshable token is stored (it is not checked with Spotify)."""
        token = self._cache.get_cached_token()
        return bool(token and token.get("refresh_token"))

    def probe(self) -> str:
        """Who Angie is signed in as, e.g. ``Spotify account Ada (ada, premium)``."""
        sp = self._spotify()
        with translated(self._settings):
            me = sp.me()
        name = me.get("display_name") or me.get("id")
        return f"{SERVICE} account {name} ({me.get('id')}, {me.get('product') or 'unknown plan'})"

    # -- search and player -------------------------------------------------------------------

    def search(
        self, query: str, types: Sequence[str] = SEARCH_TYPES, limit: int = 5
    ) -> SearchResults:
        """Tracks, albums, artists and playlists matching ``query``, ``limit`` of each."""
        query = query.strip()
        if not query:
            raise InvalidArgumentError("Pass something to search for.")
        if isinstance(types, str):  # "track,album", as Spotify itself spells it
            types = [t.strip() for t in types.split(",") if t.strip()]
        unknown = sorted(set(types) - set(SEARCH_TYPES))
        if unknown or not types:
            raise InvalidArgumentError(
                f"Search types must be some of {', '.join(SEARCH_TYPES)}; got {list(types)}."
            )
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise InvalidArgumentError(f"The limit must be a whole number, not {limit!r}.")
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise InvalidArgumentError(
                f"The limit must be from 1 to {MAX_SEARCH_LIMIT} per type, not {limit}."
            )
        sp = self._spotify()
        with translated(self._settings):
            found = sp.search(q=query, limit=limit, type=",".join(dict.fromkeys(types)))
        return SearchResults.from_api(query, found or {})

    def now_playing(self) -> NowPlaying:
        """The player's state; an idle player gives ``is_playing=False`` and ``track=None``."""
        sp = self._spotify()
        with translated(self._settings):
            state = sp.current_playback(additional_types="track,episode")
        return NowPlaying.from_api(state)

    def play(
        self, uri: str | None = None, query: str | None = None, device: str | None = None
    ) -> PlaybackChange:
        """Play a track/album/playlist/artist URI or link, a search's first track, or resume.

        ``device`` is a device's name (case-insensitive); without it the active device plays.
        """
        if uri and query:
            raise InvalidArgumentError("Pass either a URI or a search query to play, not both.")
        if query is not None and not query.strip():
            raise InvalidArgumentError("The search query to play is empty.")
        kind, target = _parse_uri(uri, _PLAYABLE) if uri else (None, None)
        sp = self._spotify()
        device_id, device_name = self._device_id(device)
        track = self._first_track(query) if query else None
        if track is not None:
            kind, target = "track", track.uri
        with translated(self._settings):
            if target is None:
                sp.start_playback(device_id=device_id)
            elif kind in _QUEUEABLE:
                sp.start_playback(device_id=device_id, uris=[target])
            else:
                sp.start_playback(device_id=device_id, context_uri=target)
        where = f" on {device_name}" if device_name else ""
        if target is None:
            return PlaybackChange(
                action="resume", detail=f"Resumed playback{where}.", device=device_name
            )
        what = track.describe() if track is not None else target
        return PlaybackChange(
            action="play",
            detail=f"Playing {what}{where}.",
            device=device_name,
            uri=target,
            track=track,
        )

    def pause(self, device: str | None = None) -> PlaybackChange:
        """Pause playback on the active (or the named) device."""
        sp = self._spotify()
        device_id, device_name = self._device_id(device)
        with translated(self._settings):
            sp.pause_playback(device_id=device_id)
        return PlaybackChange(action="pause", detail="Paused playback.", device=device_name)

    def next_track(self, device: str | None = None) -> PlaybackChange:
        """Skip to the next track (queued tracks come first)."""
        sp = self._spotify()
        device_id, device_name = self._device_id(device)
        with translated(self._settings):
            sp.next_track(device_id=device_id)
        return PlaybackChange(
            action="next", detail="Skipped to the next track.", device=device_name
        )

    def previous_track(self, device: str | None = None) -> PlaybackChange:
        """Go back to the previous track."""
        sp = self._spotify()
        device_id, device_name = self._device_id(device)
        with translated(self._settings):
            sp.previous_track(device_id=device_id)
        return PlaybackChange(
            action="previous", detail="Went back to the previous track.", device=device_name
        )

    def set_volume(self, percent: int, device: str | None = None) -> PlaybackChange:
        """Set the volume, 0 to 100, of the active (or the named) device."""
        # spotipy drops out-of-range values with only a log line; refuse them loudly instead.
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            raise InvalidArgumentError(
                f"Volume must be a whole number from 0 to 100, not {percent}."
            )
        sp = self._spotify()
        device_id, device_name = self._device_id(device)
        with translated(self._settings):
            sp.volume(percent, device_id=device_id)
        where = f" on {device_name}" if device_name else ""
        return PlaybackChange(
            action="volume",
            detail=f"Set the volume to {percent}%{where}.",
            device=device_name,
            volume_percent=percent,
        )

    def add_to_queue(self, uri: str | None = None, query: str | None = None) -> PlaybackChange:
        """Queue a track/episode URI or link, or a search's first track, after the current one."""
        if bool(uri) == bool(query and query.strip()):
            raise InvalidArgumentError(
                "Pass exactly one of a track URI or a search query to queue."
            )
        target = _parse_uri(uri, _QUEUEABLE)[1] if uri else None
        sp = self._spotify()
        track = self._first_track(query) if query else None
        if track is not None:
            target = track.uri
        with translated(self._settings):
            sp.add_to_queue(target)
        what = track.describe() if track is not None else target
        return PlaybackChange(action="queue", detail=f"Queued {what}.", uri=target, track=track)

    # -- devices and playlists ---------------------------------------------------------------

    def devices(self) -> list[Device]:
        """The devices Spotify can play on right now."""
        sp = self._spotify()
        with translated(self._settings):
            found = sp.devices()
        return [Device.from_api(d) for d in (found or {}).get("devices") or []]

    def transfer_playback(self, device: str, play: bool = True) -> PlaybackChange:
        """Move playback to the named device (case-insensitive); ``play`` starts it there."""
        if not device.strip():
            raise InvalidArgumentError("Name the device to move playback to.")
        sp = self._spotify()
        device_id, device_name = self._device_id(device)
        with translated(self._settings):
            sp.transfer_playback(device_id, force_play=play)
        return PlaybackChange(
            action="transfer", detail=f"Moved playback to {device_name}.", device=device_name
        )

    def playlists(self) -> list[Playlist]:
        """The playlists the user owns or follows."""
        return [Playlist.from_api(p) for p in self._all_playlists(self._spotify())]

    def create_playlist(self, name: str, description: str = "", public: bool = False) -> Playlist:
        """Create a playlist in the user's library; private unless ``public``."""
        name = name.strip()
        if not name:
            raise InvalidArgumentError("A playlist needs a name.")
        sp = self._spotify()
        with translated(self._settings):
            created = sp.current_user_playlist_create(
                name, public=public, collaborative=False, description=description
            )
        return Playlist.from_api(created)

    def add_to_playlist(self, playlist: str, uris: Sequence[str]) -> PlaylistChange:
        """Append tracks/episodes to a playlist given by name (case-insensitive), id or URI."""
        if isinstance(uris, str):
            uris = [uris]
        if not uris:
            raise InvalidArgumentError("Pass at least one track URI to add.")
        items = [_parse_uri(u, _QUEUEABLE)[1] for u in uris]
        if not playlist.strip():
            raise InvalidArgumentError("Name the playlist to add to.")
        sp = self._spotify()
        playlist_id, playlist_name = self._playlist_ref(sp, playlist.strip())
        snapshot: str | None = None
        with translated(self._settings):
            for start in range(0, len(items), _PLAYLIST_BATCH):
                answer = sp.playlist_add_items(playlist_id, items[start : start + _PLAYLIST_BATCH])
                snapshot = (answer or {}).get("snapshot_id")
        return PlaylistChange(
            playlist_id=playlist_id,
            playlist_name=playlist_name,
            added=len(items),
            snapshot_id=snapshot,
        )

    # -- internals ---------------------------------------------------------------------------

    def _require_oauth(self) -> HeadlessOAuth:
        if self._oauth is None:
            raise NotConfiguredError(SERVICE, self._settings.missing())
        return self._oauth

    def _spotify(self) -> Any:
        """The spotipy client, once the app is configured and an account signed in."""
        self._require_oauth()
        if not self.is_signed_in():
            raise NotSignedInError()
        return self._sp

    def _first_track(self, query: str) -> Track:
        with translated(self._settings):
            found = self._sp.search(q=query.strip(), limit=1, type="track")
        tracks = SearchResults.from_api(query, found or {}).tracks
        if not tracks:
            raise NotFoundError("track matching", query)
        return tracks[0]

    def _device_id(self, name: str | None) -> tuple[str | None, str | None]:
        """``(id, name)`` of the device called ``name``; ``(None, None)`` for the active one."""
        if name is None or not name.strip():
            return None, None
        known = self.devices()
        wanted = name.strip().casefold()
        for device in known:
            if wanted in (device.name.casefold(), device.id.casefold()):
                return device.id, device.name
        raise NotFoundError("device", name, [d.name for d in known])

    def _all_playlists(self, sp: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        with translated(self._settings):
            page = sp.current_user_playlists(limit=_PLAYLIST_PAGE)
            while page:
                found.extend(item for item in page.get("items") or [] if item)
                if not page.get("next") or len(found) >= _MAX_PLAYLISTS:
                    break
                page = sp.next(page)
        return found

    def _playlist_ref(self, sp: Any, ref: str) -> tuple[str, str]:
        """``(id, name)`` of the user's playlist named, or with the id or URI, ``ref``."""
        mine = self._all_playlists(sp)
        for item in mine:
            if ref in (item["id"], item["uri"]):
                return item["id"], item["name"]
        named = [p for p in mine if str(p.get("name", "")).casefold() == ref.casefold()]
        if len(named) > 1:
            ids = ", ".join(p["id"] for p in named)
            raise InvalidArgumentError(
                f"Several playlists are named {ref!r} (ids {ids}); pass the id of the one you mean."
            )
        if named:
            return named[0]["id"], named[0]["name"]
        match = _URI.match(ref) or _URL.match(ref)
        if match is not None and match["kind"] == "playlist":
            # Someone else's playlist the user may still add to (a collaborative one).
            return match["id"], ref
        raise NotFoundError("playlist", ref, [p["name"] for p in mine if p.get("name")])
