"""The Spotify MCP server: search, playback, queue, devices and playlists of one account."""

from __future__ import annotations

from typing import Annotated, Literal

from fastmcp import FastMCP
from pydantic import Field

from angie_mcp_core.calls import call_blocking
from angie_mcp_core.server import READ_ONLY, WRITE, create_server
from angie_mcp_spotify.client import (
    ACCOUNTS_URL,
    API_URL,
    MAX_SEARCH_LIMIT,
    SEARCH_TYPES,
    SERVICE,
    SpotifyClient,
)
from angie_mcp_spotify.models import (
    Device,
    NowPlaying,
    PlaybackChange,
    Playlist,
    PlaylistChange,
    SearchResults,
)
from angie_mcp_spotify.settings import SpotifySettings
from angie_mcp_spotify.token_cache import EncryptedCacheHandler

__all__ = ("build", "create_client")

INSTRUCTIONS = """\
Controls one person's Spotify account: search the catalog, see what is playing, control \
playback (play, pause, skip, volume, queue) on their devices, move playback between devices, \
and list, create and add to their playlists. Items are Spotify URIs (spotify:track:…) or \
open.spotify.com links; get them from search. play and add_to_queue also take a plain query \
and use the best matching track. Devices are named as in the Spotify app and matched \
case-insensitively; omit the device to use the one playing now. If a player tool says no \
device is active, call list_devices and transfer_playback. Controlling playback needs \
Spotify Premium; search and playlists work without. If a tool says Spotify is not \
configured or not signed in, call status and tell the user what it says."""

SearchType = Literal["track", "album", "artist", "playlist"]

DeviceName = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=100,
        description="The device's name as in the Spotify app, e.g. 'Kitchen speaker' (any "
        "case), or its id from list_devices; omit to use the device playing now.",
    ),
]
ItemUri = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=300,
        description="A Spotify URI or open.spotify.com link, e.g. 'spotify:track:…', from "
        "search. Not together with query.",
    ),
]
TrackQuery = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=200,
        description="Words to search for, e.g. 'karma police radiohead'; the first matching "
        "track is used. Not together with uri.",
    ),
]


def create_client(settings: SpotifySettings) -> SpotifyClient:
    """The account's client, its tokens in the encrypted token file the settings name."""
    return SpotifyClient(
        settings,
        EncryptedCacheHandler.from_settings(settings),
        api_url=settings.api_url or API_URL,
        accounts_url=settings.accounts_url or ACCOUNTS_URL,
    )


def build(settings: SpotifySettings) -> FastMCP:
    """The Spotify server; it starts and lists its tools before it is configured or signed in."""
    # Built without touching the network or the token file; it checks both when a tool runs.
    spotify = create_client(settings)
    timeout = settings.timeout

    async def probe() -> str:
        return await call_blocking(SERVICE, timeout, spotify.probe)

    mcp = create_server("spotify", settings, instructions=INSTRUCTIONS, probe=probe)

    @mcp.tool(annotations=READ_ONLY)
    async def search(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="What to look for: words from a title, artist or album, e.g. "
                "'kind of blue'. Spotify's filters work too, e.g. 'artist:Radiohead year:1997'.",
            ),
        ],
        types: Annotated[
            list[SearchType] | None,
            Field(
                min_length=1,
                description="Which kinds of item to return; omit for all of track, album, "
                "artist and playlist.",
            ),
        ] = None,
        limit: Annotated[
            int,
            Field(ge=1, le=MAX_SEARCH_LIMIT, description="Results per kind, 1 to 10."),
        ] = 5,
    ) -> SearchResults:
        """Search Spotify's catalog for tracks, albums, artists and playlists.

        Use it to find the URI of something to play, queue or add to a playlist, or to
        answer questions about music. Returns up to `limit` of each kind, best match first;
        each item has its uri, name and artists (tracks and albums also their album or
        release date, artists their genres).
        """
        return await call_blocking(
            SERVICE, timeout, spotify.search, query, list(types or SEARCH_TYPES), limit
        )

    @mcp.tool(annotations=READ_ONLY)
    async def now_playing() -> NowPlaying:
        """Tell what Spotify is playing now, where, and how far into the track.

        Use it for "what's this song?" or to check a change. Returns is_playing (false when
        paused or idle), the track (null when nothing is loaded), progress_ms, the device,
        the album or playlist it plays from (context_uri), shuffle and repeat.
        """
        return await call_blocking(SERVICE, timeout, spotify.now_playing)

    @mcp.tool(annotations=WRITE)
    async def play(
        uri: ItemUri = None, query: TrackQuery = None, device: DeviceName = None
    ) -> PlaybackChange:
        """Start playing a track, album, playlist or artist, or resume what was paused.

        Give uri (from search) to play that item, or query to play the best matching track,
        or neither to resume. With device, playback moves to that device first. Returns what
        now plays and where. Needs Spotify Premium.
        """
        return await call_blocking(SERVICE, timeout, spotify.play, uri, query, device)

    @mcp.tool(annotations=WRITE)
    async def pause(device: DeviceName = None) -> PlaybackChange:
        """Pause playback; play with no arguments resumes it. Needs Spotify Premium.

        Fails with a clear message when nothing is playing.
        """
        return await call_blocking(SERVICE, timeout, spotify.pause, device)

    @mcp.tool(annotations=WRITE)
    async def next_track(device: DeviceName = None) -> PlaybackChange:
        """Skip to the next track (queued tracks come first). Needs Spotify Premium."""
        return await call_blocking(SERVICE, timeout, spotify.next_track, device)

    @mcp.tool(annotations=WRITE)
    async def previous_track(device: DeviceName = None) -> PlaybackChange:
        """Go back to the previous track. Needs Spotify Premium."""
        return await call_blocking(SERVICE, timeout, spotify.previous_track, device)

    @mcp.tool(annotations=WRITE)
    async def set_volume(
        percent: Annotated[
            int, Field(ge=0, le=100, description="Volume in percent, 0 (silent) to 100 (full).")
        ],
        device: DeviceName = None,
    ) -> PlaybackChange:
        """Set the playback volume of a Spotify device. Needs Spotify Premium.

        Use list_devices to see the current volumes; some devices (e.g. phones) do not allow
        it and say so. Returns the volume set.
        """
        return await call_blocking(SERVICE, timeout, spotify.set_volume, percent, device)

    @mcp.tool(annotations=WRITE)
    async def add_to_queue(uri: ItemUri = None, query: TrackQuery = None) -> PlaybackChange:
        """Queue a track or episode to play after the current one. Needs Spotify Premium.

        Give exactly one of uri (a track or episode; albums and playlists cannot be queued)
        or query (the best matching track is queued). Returns the queued item.
        """
        return await call_blocking(SERVICE, timeout, spotify.add_to_queue, uri, query)

    @mcp.tool(annotations=READ_ONLY)
    async def list_devices() -> list[Device]:
        """List the devices Spotify can play on now (phones, computers, speakers, TVs).

        Use it to learn device names for the other tools or to see which one is active.
        Each has its name, type, is_active, volume_percent and whether it takes commands.
        A device only appears while the Spotify app runs on it.
        """
        return await call_blocking(SERVICE, timeout, spotify.devices)

    @mcp.tool(annotations=WRITE)
    async def transfer_playback(
        device: Annotated[
            str,
            Field(
                min_length=1,
                max_length=100,
                description="The device to move to, by its name in the Spotify app (any "
                "case) or its id from list_devices.",
            ),
        ],
        play: Annotated[
            bool, Field(description="true to start playing there, false to keep the state.")
        ] = True,
    ) -> PlaybackChange:
        """Move playback to another device, e.g. from the phone to the kitchen speaker.

        Also the way to wake Spotify up when no device is active. Needs Spotify Premium.
        """
        return await call_blocking(SERVICE, timeout, spotify.transfer_playback, device, play)

    @mcp.tool(annotations=READ_ONLY)
    async def list_playlists() -> list[Playlist]:
        """List the playlists in the user's library (their own and the ones they follow).

        Each has its id, uri (pass it to play), name, description, public, owner and
        tracks_total.
        """
        return await call_blocking(SERVICE, timeout, spotify.playlists)

    @mcp.tool(annotations=WRITE)
    async def create_playlist(
        name: Annotated[
            str, Field(min_length=1, max_length=100, description="The new playlist's name.")
        ],
        description: Annotated[
            str, Field(max_length=300, description="A short description; may be empty.")
        ] = "",
        public: Annotated[
            bool, Field(description="true to show it on the user's profile; private otherwise.")
        ] = False,
    ) -> Playlist:
        """Create an empty playlist in the user's library; add tracks with add_to_playlist.

        Spotify allows several playlists with one name, so check list_playlists first when
        the user may mean an existing one. Returns the new playlist with its id.
        """
        return await call_blocking(
            SERVICE, timeout, spotify.create_playlist, name, description, public
        )

    @mcp.tool(annotations=WRITE)
    async def add_to_playlist(
        playlist: Annotated[
            str,
            Field(
                min_length=1,
                max_length=300,
                description="The playlist's name in the user's library (any case), or its "
                "id or URI.",
            ),
        ],
        uris: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=300)]],
            Field(
                min_length=1,
                max_length=500,
                description="Track or episode URIs or open.spotify.com links, from search, "
                "in the order to append them.",
            ),
        ],
    ) -> PlaylistChange:
        """Append tracks or episodes to the end of a playlist; nothing is removed.

        Returns the playlist's id and name and how many items were added.
        """
        return await call_blocking(SERVICE, timeout, spotify.add_to_playlist, playlist, uris)

    return mcp
