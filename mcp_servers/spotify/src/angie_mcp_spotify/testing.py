"""A fake Spotify (Web API under /v1 and the accounts service) on loopback, driven by spotipy.

Angie's own tests and demos drive the real Spotify server against it.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from angie_mcp_core.fakes import FakeService, Reply, Request
from angie_mcp_core.tokens import TokenFile
from angie_mcp_spotify.auth import SCOPES

__all__ = ("CLIENT_ID", "CLIENT_SECRET", "USER_ID", "FakeSpotify", "demo")

CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret-s3cr3t"
USER_ID = "ada"

_ARTISTS = {
    "artist01": ("Daft Punk", ["french house"]),
    "artist02": ("Norah Jones", ["jazz pop"]),
    "artist03": ("Miles Davis", ["jazz", "cool jazz"]),
    "artist04": ("Radiohead", ["alternative rock"]),
}
_ALBUMS = {
    "album01": ("Discovery", "artist01", "2001"),
    "album02": ("Come Away with Me", "artist02", "2002"),
    "album03": ("Kind of Blue", "artist03", "1959"),
    "album04": ("OK Computer", "artist04", "1997"),
}
_TRACKS = {
    "track01": ("One More Time", "album01", 320_000),
    "track02": ("Digital Love", "album01", 301_000),
    "track03": ("Harder, Better, Faster, Stronger", "album01", 224_000),
    "track04": ("Don't Know Why", "album02", 186_000),
    "track05": ("Come Away with Me", "album02", 198_000),
    "track06": ("Turn Me On", "album02", 154_000),
    "track07": ("So What", "album03", 562_000),
    "track08": ("Freddie Freeloader", "album03", 586_000),
    "track09": ("Blue in Green", "album03", 337_000),
    "track10": ("Airbag", "album04", 284_000),
    "track11": ("Paranoid Android", "album04", 383_000),
    "track12": ("Karma Police", "album04", 264_000),
}


def _reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer, or an empty one when ``body`` is None."""
    if body is None:
        return Reply(status, b"", dict(headers or {}))
    return Reply.json(status, body, headers)


class FakeSpotify(FakeService):
    """In-memory Spotify: a catalog, two devices, a player state machine, playlists, OAuth.

    Failure injection: ``fail_next(status, times, headers, message, reason, path)`` answers the
    next matching requests with an error; ``delay`` holds every answer that many seconds
    (``release()`` lets held and later requests through at once). ``requests`` records
    ``(method, path)`` of every request received.
    """

    def __init__(self) -> None:
        super().__init__()
        self.premium = True
        self.max_page = 50
        self.token_lifetime = 3600
        self.access_tokens: dict[str, float] = {}  # token -> expires at (epoch seconds)
        self.refresh_tokens: set[str] = set()
        self.codes: dict[str, str] = {}  # authorization code -> redirect_uri it was sent to
        self.refreshes = 0
        self.devices: list[dict[str, Any]] = [
            {"id": "kitchen0speaker", "name": "Kitchen speaker", "type": "Speaker", "volume": 40},
            {"id": "macbook0air", "name": "MacBook", "type": "Computer", "volume": 70},
        ]
        self.active_device: str | None = "macbook0air"
        self.is_playing = False
        self.context_uri: str | None = "spotify:album:album03"
        self.context_tracks: list[str] = ["track07", "track08", "track09"]
        self.index = 0
        self.current: str | None = "track07"
        self.queue: list[str] = []
        self.progress_ms = 12_000
        self.playlists: list[dict[str, Any]] = [
            self._new_playlist("pl0roadtrip", "Road Trip", "Songs for the car", True),
            self._new_playlist("pl0focus", "Focus", "", False),
        ]
        self.playlists[0]["tracks"] = ["track01", "track02", "track06"]
        self.playlists[1]["tracks"] = ["track07", "track09"]

    # -- lifecycle and test controls ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.url

    @property
    def requests(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.log]

    def fail_next(
        self,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        *,
        message: str | None = None,
        reason: str | None = None,
        path: str = "/v1/",
    ) -> None:
        """Answer the next ``times`` requests whose path starts with ``path`` with ``status``."""
        body: dict[str, Any]
        if path.startswith("/api/token"):
            body = {"error": message or "server_error"}
        else:
            body = {"error": {"status": status, "message": message or "Boom"}}
            if reason:
                body["error"]["reason"] = reason
        self.inject(_reply(status, body, headers), times=times, path=path)

    def deactivate(self) -> None:
        """No device active, as when Spotify is closed everywhere."""
        with self.lock:
            self.active_device = None
            self.is_playing = False

    def token_info(self, lifetime: float | None = None, scope: str | None = None) -> dict[str, Any]:
        """A token as spotipy stores it after signing in, valid here for ``lifetime`` seconds."""
        access, refresh = self._issue(lifetime), f"rt-{secrets.token_hex(8)}"
        self.refresh_tokens.add(refresh)
        expires_at = int(self.access_tokens[access])
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": expires_at - int(time.time()),
            "expires_at": expires_at,
            "refresh_token": refresh,
            "scope": " ".join(sorted(SCOPES)) if scope is None else scope,
        }

    def device(self, name: str) -> dict[str, Any]:
        return next(d for d in self.devices if d["name"] == name)

    def playlist(self, name: str) -> dict[str, Any]:
        return next(p for p in self.playlists if p["name"] == name)

    # -- HTTP plumbing -----------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        query = {k: v[-1] for k, v in request.query.items()}
        auth = request.headers.get("authorization", "")
        return self._route(request.method, request.path, query, request.body, auth)

    @staticmethod
    def _error(status: int, message: str, reason: str | None = None) -> Reply:
        error: dict[str, Any] = {"status": status, "message": message}
        if reason:
            error["reason"] = reason
        return _reply(status, {"error": error})

    def _route(self, method: str, path: str, query: dict[str, str], raw: bytes, auth: str) -> Reply:
        if path == "/authorize" and method == "GET":
            return self._authorize(query)
        if path == "/api/token" and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
            return self._token(form, auth)
        if not path.startswith("/v1/"):
            return self._error(404, "Service not found")
        expires_at = self.access_tokens.get(auth.removeprefix("Bearer "))
        if expires_at is None:
            return self._error(401, "Invalid access token")
        if expires_at <= time.time():
            return self._error(401, "The access token expired")
        body = json.loads(raw) if raw else None
        return self._api(method, path.removeprefix("/v1").rstrip("/"), query, body)

    # -- accounts service --------------------------------------------------------------------

    def _issue(self, lifetime: float | None = None) -> str:
        token = f"at-{secrets.token_hex(12)}"
        life = self.token_lifetime if lifetime is None else lifetime
        self.access_tokens[token] = time.time() + life
        return token

    def _authorize(self, query: dict[str, str]) -> Reply:
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return _reply(400, {"error": "invalid_client"})
        code = f"code-{secrets.token_hex(6)}"
        self.codes[code] = query["redirect_uri"]
        params = {"code": code} | ({"state": query["state"]} if "state" in query else {})
        return _reply(302, None, {"Location": f"{query['redirect_uri']}?{urlencode(params)}"})

    def _token(self, form: dict[str, str], auth: str) -> Reply:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if auth != f"Basic {expected}":
            return _reply(400, {"error": "invalid_client", "error_description": "Invalid client"})
        grant = form.get("grant_type")
        if grant == "authorization_code":
            if self.codes.pop(form.get("code", ""), None) != form.get("redirect_uri"):
                return _reply(
                    400,
                    {"error": "invalid_grant", "error_description": "Invalid authorization code"},
                )
            refresh = f"rt-{secrets.token_hex(8)}"
            self.refresh_tokens.add(refresh)
            return _reply(200, self._token_body() | {"refresh_token": refresh})
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return _reply(
                    400, {"error": "invalid_grant", "error_description": "Refresh token revoked"}
                )
            self.refreshes += 1
            return _reply(200, self._token_body())  # Spotify often keeps the old refresh token.
        return _reply(400, {"error": "unsupported_grant_type"})

    def _token_body(self) -> dict[str, Any]:
        return {
            "access_token": self._issue(),
            "token_type": "Bearer",
            "scope": " ".join(SCOPES),
            "expires_in": self.token_lifetime,
        }

    # -- Web API -----------------------------------------------------------------------------

    def _api(self, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        if path == "/me" and method == "GET":
            return _reply(200, {"id": USER_ID, "display_name": "Ada", "product": "premium"})
        if path == "/search" and method == "GET":
            return self._search(query)
        if path == "/me/playlists":
            return self._my_playlists(query) if method == "GET" else self._create_playlist(body)
        if path.startswith("/playlists/") and path.endswith("/items") and method == "POST":
            return self._add_items(path.split("/")[2], query, body)
        if path == "/me/player/devices" and method == "GET":
            return _reply(200, {"devices": [self._device_json(d) for d in self.devices]})
        if path == "/me/player" and method == "GET":
            return self._playback()
        if path.startswith("/me/player"):
            if not self.premium:
                return self._error(
                    403, "Player command failed: Premium required", "PREMIUM_REQUIRED"
                )
            return self._player(method, path, query, body)
        return self._error(404, "Service not found")

    def _player(self, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        if path == "/me/player" and method == "PUT":
            device_id = (body or {}).get("device_ids", [None])[0]
            if not any(d["id"] == device_id for d in self.devices):
                return self._error(404, "Device not found")
            self.active_device = device_id
            self.is_playing = bool((body or {}).get("play")) or self.is_playing
            return _reply(204)
        device_id = query.get("device_id")
        if device_id is not None:
            if not any(d["id"] == device_id for d in self.devices):
                return self._error(404, "Device not found")
        elif self.active_device is None:
            return self._error(
                404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE"
            )
        target: str = device_id or self.active_device or ""
        action = (method, path)
        if action == ("PUT", "/me/player/play"):
            return self._play(target, body or {})
        if action == ("PUT", "/me/player/pause"):
            if not self.is_playing:
                return self._error(403, "Player command failed: Restriction violated", "UNKNOWN")
            self.is_playing = False
        elif action == ("POST", "/me/player/next"):
            self._advance(1)
        elif action == ("POST", "/me/player/previous"):
            self._advance(-1)
        elif action == ("PUT", "/me/player/volume"):
            volume = int(query.get("volume_percent", "-1"))
            if not 0 <= volume <= 100:
                return self._error(400, "Invalid volume")
            next(d for d in self.devices if d["id"] == target)["volume"] = volume
        elif action == ("POST", "/me/player/queue"):
            track = query.get("uri", "").removeprefix("spotify:track:")
            if track not in _TRACKS:
                return self._error(400, "Invalid track uri")
            self.queue.append(track)
        else:
            return self._error(404, "Service not found")
        return _reply(204)

    def _play(self, device_id: str, body: dict[str, Any]) -> Reply:
        if "uris" in body:
            tracks = [u.removeprefix("spotify:track:") for u in body["uris"]]
            if not tracks or any(t not in _TRACKS for t in tracks):
                return self._error(400, "Invalid track uri")
            self.context_uri, self.context_tracks = None, tracks
        elif "context_uri" in body:
            tracks = self._context(body["context_uri"])
            if not tracks:
                return self._error(400, "Invalid context uri")
            self.context_uri, self.context_tracks = body["context_uri"], tracks
        elif self.current is None:
            return self._error(404, "Player command failed: Nothing to resume")
        if "uris" in body or "context_uri" in body:
            self.index, self.current, self.progress_ms = 0, self.context_tracks[0], 0
        self.active_device, self.is_playing = device_id, True
        return _reply(204)

    def _context(self, uri: str) -> list[str]:
        kind, _, ident = uri.removeprefix("spotify:").partition(":")
        if kind == "album":
            return [t for t, (_, album, _) in _TRACKS.items() if album == ident]
        if kind == "artist":
            return [t for t, (_, album, _) in _TRACKS.items() if _ALBUMS[album][1] == ident]
        if kind == "playlist":
            return next((list(p["tracks"]) for p in self.playlists if p["id"] == ident), [])
        return []

    def _advance(self, step: int) -> None:
        if step > 0 and self.queue:
            self.current = self.queue.pop(0)
        else:
            self.index = (self.index + step) % len(self.context_tracks)
            self.current = self.context_tracks[self.index]
        self.progress_ms = 0

    def _playback(self) -> Reply:
        if self.active_device is None:
            return _reply(204)
        device = next(d for d in self.devices if d["id"] == self.active_device)
        context = None
        if self.context_uri:
            context = {"type": self.context_uri.split(":")[1], "uri": self.context_uri}
        return _reply(
            200,
            {
                "device": self._device_json(device),
                "repeat_state": "off",
                "shuffle_state": False,
                "context": context,
                "timestamp": int(time.time() * 1000),
                "progress_ms": self.progress_ms,
                "is_playing": self.is_playing,
                "item": self._track_json(self.current) if self.current else None,
                "currently_playing_type": "track",
                "actions": {"disallows": {}},
            },
        )

    def _search(self, query: dict[str, str]) -> Reply:
        limit = int(query.get("limit", "10"))
        if not 1 <= limit <= 10:
            return self._error(400, "Invalid limit")
        words = query.get("q", "").casefold().split()

        def hit(*texts: str) -> bool:
            haystack = " ".join(texts).casefold()
            return all(w in haystack for w in words)

        found: dict[str, list[dict[str, Any]]] = {
            "track": [
                self._track_json(t)
                for t, (name, album, _) in _TRACKS.items()
                if hit(name, _ALBUMS[album][0], _ARTISTS[_ALBUMS[album][1]][0])
            ],
            "album": [
                self._album_json(a)
                for a, (name, artist, _) in _ALBUMS.items()
                if hit(name, _ARTISTS[artist][0])
            ],
            "artist": [self._artist_json(a, full=True) for a in _ARTISTS if hit(_ARTISTS[a][0])],
            "playlist": [self._playlist_json(p) for p in self.playlists if hit(p["name"])],
        }
        answer = {}
        for kind in query.get("type", "track").split(","):
            items = found[kind]
            answer[f"{kind}s"] = self._page(
                f"/v1/search?type={kind}", items[:limit], limit, 0, len(items)
            )
        return _reply(200, answer)

    def _my_playlists(self, query: dict[str, str]) -> Reply:
        limit = min(int(query.get("limit", "20")), self.max_page)
        offset = int(query.get("offset", "0"))
        items = [self._playlist_json(p) for p in self.playlists[offset : offset + limit]]
        return _reply(
            200, self._page("/v1/me/playlists", items, limit, offset, len(self.playlists))
        )

    def _create_playlist(self, body: dict[str, Any]) -> Reply:
        if not body or not body.get("name"):
            return self._error(400, "Missing required field: name")
        playlist = self._new_playlist(
            f"pl0{secrets.token_hex(4)}",
            body["name"],
            body.get("description", ""),
            body.get("public", True),
        )
        self.playlists.append(playlist)
        return _reply(201, self._playlist_json(playlist))

    def _add_items(self, playlist_id: str, query: dict[str, str], body: Any) -> Reply:
        playlist = next((p for p in self.playlists if p["id"] == playlist_id), None)
        if playlist is None:
            return self._error(404, "Resource not found")
        uris = body.get("uris", []) if isinstance(body, dict) else body or []
        tracks = [u.removeprefix("spotify:track:") for u in uris]
        if not tracks or len(tracks) > 100 or any(t not in _TRACKS for t in tracks):
            return self._error(400, "Invalid track uri")
        position = int(query["position"]) if "position" in query else len(playlist["tracks"])
        playlist["tracks"][position:position] = tracks
        playlist["snapshot_id"] = secrets.token_hex(6)
        return _reply(201, {"snapshot_id": playlist["snapshot_id"]})

    # -- JSON shapes -------------------------------------------------------------------------

    def _page(
        self, path: str, items: list[Any], limit: int, offset: int, total: int
    ) -> dict[str, Any]:
        sep = "&" if "?" in path else "?"
        after = offset + limit
        return {
            "href": f"{self.base_url}{path}{sep}offset={offset}&limit={limit}",
            "items": items,
            "limit": limit,
            "next": f"{self.base_url}{path}{sep}offset={after}&limit={limit}"
            if after < total
            else None,
            "offset": offset,
            "previous": None,
            "total": total,
        }

    @staticmethod
    def _new_playlist(ident: str, name: str, description: str, public: bool) -> dict[str, Any]:
        snapshot = secrets.token_hex(6)
        return {
            "id": ident,
            "name": name,
            "description": description,
            "public": public,
            "tracks": [],
            "snapshot_id": snapshot,
        }

    def _playlist_json(self, playlist: dict[str, Any]) -> dict[str, Any]:
        ident = playlist["id"]
        return {
            "collaborative": False,
            "description": playlist["description"],
            "href": f"{self.base_url}/v1/playlists/{ident}",
            "id": ident,
            "images": [],
            "name": playlist["name"],
            "owner": {
                "id": USER_ID,
                "display_name": "Ada",
                "type": "user",
                "uri": f"spotify:user:{USER_ID}",
            },
            "public": playlist["public"],
            "snapshot_id": playlist["snapshot_id"],
            "items": {
                "href": f"{self.base_url}/v1/playlists/{ident}/items",
                "total": len(playlist["tracks"]),
            },
            "type": "playlist",
            "uri": f"spotify:playlist:{ident}",
        }

    def _artist_json(self, ident: str, full: bool = False) -> dict[str, Any]:
        name, genres = _ARTISTS[ident]
        data: dict[str, Any] = {
            "id": ident,
            "name": name,
            "type": "artist",
            "uri": f"spotify:artist:{ident}",
        }
        if full:
            data |= {"genres": genres, "images": []}
        return data

    def _album_json(self, ident: str) -> dict[str, Any]:
        name, artist, year = _ALBUMS[ident]
        return {
            "album_type": "album",
            "artists": [self._artist_json(artist)],
            "id": ident,
            "images": [],
            "name": name,
            "release_date": year,
            "release_date_precision": "year",
            "total_tracks": sum(1 for _, album, _ in _TRACKS.values() if album == ident),
            "type": "album",
            "uri": f"spotify:album:{ident}",
        }

    def _track_json(self, ident: str) -> dict[str, Any]:
        name, album, duration = _TRACKS[ident]
        return {
            "album": self._album_json(album),
            "artists": [self._artist_json(_ALBUMS[album][1])],
            "disc_number": 1,
            "duration_ms": duration,
            "explicit": False,
            "id": ident,
            "is_local": False,
            "name": name,
            "type": "track",
            "uri": f"spotify:track:{ident}",
        }

    def _device_json(self, device: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": device["id"],
            "is_active": device["id"] == self.active_device,
            "is_private_session": False,
            "is_restricted": False,
            "name": device["name"],
            "type": device["type"],
            "volume_percent": device["volume"],
            "supports_volume": True,
        }


@contextmanager
def demo(state_dir: Path) -> Iterator[dict[str, str]]:
    """A demo home's Spotify (a small library, two playlists, a kitchen speaker) on 127.0.0.1
    while the block runs, signed in: its tokens are stored encrypted in ``state_dir`` as
    `angie-mcp-spotify auth` would; yields the server's settings that reach it."""
    with FakeSpotify() as fake:
        token_file = state_dir / "tokens.enc"
        TokenFile(token_file).save(fake.token_info())
        yield {
            "ANGIE_SPOTIFY_CLIENT_ID": CLIENT_ID,
            "ANGIE_SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
            "ANGIE_SPOTIFY_API_URL": f"{fake.base_url}/v1/",
            "ANGIE_SPOTIFY_ACCOUNTS_URL": fake.base_url,
            "ANGIE_SPOTIFY_TOKEN_FILE": str(token_file),
        }
