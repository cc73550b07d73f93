"""A demo home: Angie with simulated devices and accounts behind her real MCP servers.

``angie serve --demo`` runs, in its own process, the fake vendor service of every installed
server whose ``testing`` module offers a ``demo`` (a Hue bridge, a Home Assistant, a Spotify, a
GitHub on 127.0.0.1), and Angie in a data dir of her own with only those servers, configured
for the fakes whatever the environment or the .env file says about real ones.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from angie.mcp.manifests import discover
from angie.mcp.registry import ServerSpec, builtin_specs
from angie.settings import ENV_PREFIX, AngieSettings, load_settings

__all__ = ("DEMO_DIR", "DemoHome", "demo_environ", "demo_home", "demo_settings")

log = logging.getLogger(__name__)

#: The demo's data dir, inside the real one: its own database, secret key and setup code.
DEMO_DIR = "demo"

#: A server's demo: ``with demo(state_dir) as settings:`` runs its fake and gives the server's
#: ``ANGIE_<NAME>_*`` settings that reach it.
DemoService = Callable[[Path], AbstractContextManager[dict[str, str]]]


@dataclass(frozen=True, slots=True)
class DemoHome:
    """The running fakes' servers: their specs, and the environment their processes get."""

    specs: dict[str, ServerSpec]
    environ: dict[str, str]

    @property
    def names(self) -> list[str]:
        return sorted(self.specs)


def demo_settings(env_file: Path | None) -> AngieSettings:
    """The settings of a demo: the real ones (model, address, limits) with everything that holds
    or reaches real data moved to ``<data dir>/demo`` — SQLite there, no Redis, no mcpServers
    file, a secret key of its own — so nothing of the demo mixes with the real Angie's, and
    nothing is written to her data dir. Raises SettingsError for a bad setting."""
    own: dict[str, Any] = {
        "database_url": "",
        "redis_url": None,
        "secret_key": None,
        "env": "development",
    }
    try:
        real = AngieSettings(_env_file=env_file, **own)
    except ValidationError:
        return load_settings(env_file, **own)  # raises the SettingsError naming the setting
    data_dir = real.data_dir / DEMO_DIR
    return load_settings(env_file, data_dir=data_dir, mcp_config=data_dir / "mcp.json", **own)


def demo_environ(
    environ: Mapping[str, str], configured: Mapping[str, dict[str, str]]
) -> dict[str, str]:
    """What the demo's servers are started with: ``environ`` without any ANGIE_* setting (a
    real bridge, a real token), plus each server's demo settings, kept to its own prefix."""
    env = {k: v for k, v in environ.items() if not k.startswith(ENV_PREFIX)}
    for name, values in configured.items():
        prefix = f"{ENV_PREFIX}{name.upper()}_"
        env.update({k: v for k, v in values.items() if k.startswith(prefix)})
    return env


def _demo_of(module: str) -> DemoService | None:
    """The ``demo`` of a server package's ``testing`` module, or None when it has none."""
    if importlib.util.find_spec(f"{module}.testing") is None:
        return None  # a server with no simulated vendor (a mail server runs against real ones)
    try:
        testing = importlib.import_module(f"{module}.testing")
    except ImportError as err:
        log.warning("%s has no demo: its testing module cannot be imported (%s)", module, err)
        return None
    found = getattr(testing, "demo", None)
    return found if callable(found) else None


@contextmanager
def demo_home(data_dir: Path, environ: Mapping[str, str] | None = None) -> Iterator[DemoHome]:
    """Run every installed server's demo fake while the block runs (each keeps its files under
    ``data_dir/fakes/<name>``); yields the servers to start against them."""
    configured: dict[str, dict[str, str]] = {}
    with ExitStack() as running:
        for name, manifest in discover().items():
            demo = _demo_of(manifest.module)
            if demo is None:
                continue
            state_dir = data_dir / "fakes" / name
            state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            configured[name] = running.enter_context(demo(state_dir))
        yield DemoHome(
            specs=builtin_specs(configured),
            environ=demo_environ(os.environ if environ is None else environ, configured),
        )


#: What each demo server holds, for the lines shown at start.
_WHAT = {
    "hue": "Hue lights in the Living room, Kitchen and Bedroom, with scenes",
    "home_assistant": "Home Assistant with a thermostat, a front door lock and sensors",
    "spotify": "Spotify with a small library, playlists and a kitchen speaker",
    "github": "GitHub with octocat/Hello-World, its open issues and a pull request",
    "spam": "a spam scorer with a few allowed and blocked senders",
    "unifi": "a UniFi network: a Dream Machine, a switch, two access points and a few clients",
    "gcal": "Google Calendar with a week: a daily stand-up, a lunch and an invitation",
    "gmail": "Gmail with an inbox: a dinner invitation, a receipt and a newsletter",
    "outlook": "Outlook with an inbox: a meeting request, an invoice and a digest",
}


def demo_lines(home: DemoHome, settings: AngieSettings, setup_code: str | None) -> list[str]:
    """What ``angie serve --demo`` says once up: what is simulated, how to sign in, what to try."""
    lines = ["This is a demo home: simulated devices and accounts on 127.0.0.1, nothing real."]
    lines += [f"  - {_WHAT.get(name, name)}" for name in home.names]
    lines.append(f"Demo data is kept in {settings.data_dir}, apart from your own Angie's.")
    if setup_code:
        lines.append(f"Sign in: `angie setup` and the setup code {setup_code} when it asks.")
    else:
        lines.append("Sign in: `angie login` with the account you made in the demo.")
    lines.append("Then try (no language model needed for /tool):")
    if "hue" in home.specs:
        lines.append("  angie ask '/tool hue.list_lights {}'")
        lines.append(
            '  angie ask \'/tool hue.set_light {"name": "Bedside lamp", "brightness_percent": 30}\''
        )
    lines.append("  angie status")
    if settings.model:
        lines.append('  angie ask "dim the living room to 30%" (she asks your approval first)')
    else:
        lines.append(
            'With a model (ANGIE_MODEL) she understands plain words: "dim the living room to 30%".'
        )
    return lines
