"""What the Spotify tools return: small typed views of Spotify's objects, without tokens.

``from_api`` builds each from the Web API's JSON as spotipy returns it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Self

from pydantic import BaseModel, Field

__all__ = (
    "Album",
    "Artist",
    "Device",
    "NowPlaying",
    "PlaybackChange",
    "Playlist",
    "PlaylistChange",
    "SearchResults",
    "Track",
)


def _names(items: Sequence[dict[str, Any] | None] | None) -> list[str]:
    return [i["name"] for i in items or () if i and i.get("name")]


class Artist(BaseModel):
    uri: str = Field(description="Spotify URI, e.g. spotify:artist:…; pass it to play.")
    name: str
    genres: list[str] = []

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        return cls(uri=data["uri"], name=data["name"], genres=data.get("genres") or [])


class Album(BaseModel):
    uri: str = Field(description="Spotify URI, e.g. spotify:album:…; pass it to play.")
    name: str
    artists: list[str] = []
    release_date: str | None = None
    total_tracks: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        return cls(
            uri=data["uri"],
            name=data["name"],
            artists=_names(data.get("artists")),
            release_date=data.get("release_date"),
            total_tracks=data.get("total_tracks"),
        )


class Track(BaseModel):
    uri: str = Field(description="Spotify URI, e.g. spotify:track:…; pass it to play or queue.")
    name: str
    artists: list[str] = []
    album: str | None = None
    duration_ms: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        # Episodes come through the same fields, with a show where a track has an album.
        album = data.get("album") or data.get("show") or {}
        artists = _names(data.get("artists"))
        if not artists and album.get("publisher"):
            artists = [album["publisher"]]
        return cls(
            uri=data["uri"],
            name=data["name"],
            artists=artists,
            album=album.get("name"),
            duration_ms=data.get("duration_ms"),
        )

    def describe(self) -> str:
        """``'Karma Police' by Radiohead``."""
        by = f" by {', '.join(self.artists)}" if self.artists else ""
        return f"{self.name!r}{by}"


class Playlist(BaseModel):
    id: str
    uri: str = Field(description="Spotify URI, e.g. spotify:playlist:…; pass it to play.")
    name: str
    description: str = ""
    public: bool | None = None
    owner: str | None = Field(default=None, description="Display name (or id) of the owner.")
    tracks_total: int | None = Field(default=None, description="Number of items in it.")

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        owner = data.get("owner") or {}
        # February 2026 renamed the playlist's `tracks` field to `items`; accept both.
        contents = data.get("items") or data.get("tracks") or {}
        return cls(
            id=data["id"],
            uri=data["uri"],
            name=data["name"],
            description=data.get("description") or "",
            public=data.get("public"),
            owner=owner.get("display_name") or owner.get("id"),
            tracks_total=contents.get("total") if isinstance(contents, dict) else None,
        )


class SearchResults(BaseModel):
    query: str
    tracks: list[Track] = []
    albums: list[Album] = []
    artists: list[Artist] = []
    playlists: list[Playlist] = []

    @classmethod
    def from_api(cls, query: str, found: dict[str, Any]) -> Self:
        def items(key: str) -> list[dict[str, Any]]:
            # Spotify returns null entries for items it cannot show (e.g. removed playlists).
            return [i for i in (found.get(key) or {}).get("items") or [] if i]

        return cls(
            query=query,
            tracks=[Track.from_api(i) for i in items("tracks")],
            albums=[Album.from_api(i) for i in items("albums")],
            artists=[Artist.from_api(i) for i in items("artists")],
            playlists=[Playlist.from_api(i) for i in items("playlists")],
        )


class Device(BaseModel):
    id: str
    name: str
    type: str = Field(description="Computer, Smartphone, Speaker, TV, …")
    is_active: bool = Field(description="Whether Spotify plays on it now.")
    volume_percent: int | None = None
    supports_volume: bool = True
    is_restricted: bool = Field(
        default=False, description="True when the device accepts no commands from the Web API."
    )

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Self:
        return cls(
            # Restricted devices may come without an id.
            id=data.get("id") or "",
            name=data.get("name") or "",
            type=data.get("type") or "Unknown",
            is_active=bool(data.get("is_active")),
            volume_percent=data.get("volume_percent"),
            supports_volume=data.get("supports_volume", True),
            is_restricted=bool(data.get("is_restricted")),
        )


class NowPlaying(BaseModel):
    """The player's state; ``track`` and ``device`` are None when nothing is playing."""

    is_playing: bool = Field(description="True while audio plays; False when paused or idle.")
    track: Track | None = Field(default=None, description="None when nothing is loaded.")
    progress_ms: int | None = None
    device: Device | None = Field(default=None, description="None when no device is active.")
    context_uri: str | None = Field(
        default=None, description="The album, playlist or artist being played from."
    )
    shuffle: bool | None = None
    repeat: Literal["off", "track", "context"] | None = None

    @classmethod
    def from_api(cls, state: dict[str, Any] | None) -> Self:
        """From GET /me/player; ``None`` (its 204 No Content) means no device is active."""
        if not state:
            return cls(is_playing=False)
        item, device = state.get("item"), state.get("device")
        return cls(
            is_playing=bool(state.get("is_playing")),
            track=Track.from_api(item) if item else None,
            progress_ms=state.get("progress_ms"),
            device=Device.from_api(device) if device else None,
            context_uri=(state.get("context") or {}).get("uri"),
            shuffle=state.get("shuffle_state"),
            repeat=state.get("repeat_state"),
        )


class PlaybackChange(BaseModel):
    """What a player command did."""

    action: Literal["play", "resume", "pause", "next", "previous", "volume", "queue", "transfer"]
    detail: str = Field(description="One sentence saying what happened.")
    device: str | None = Field(default=None, description="The device's name, when one was named.")
    uri: str | None = Field(default=None, description="The item played or queued.")
    track: Track | None = Field(default=None, description="The track, when a search picked it.")
    volume_percent: int | None = None


class PlaylistChange(BaseModel):
    playlist_id: str
    playlist_name: str
    added: int = Field(description="How many items were added.")
    snapshot_id: str | None = Field(default=None, description="The playlist's new version.")
