"""The MCP servers installed here, found by their ``angie.servers`` entry points.

A server package registers ``MANIFEST`` (an :class:`~angie_mcp_core.manifest.ServerManifest`),
so adding a server to Angie is adding its folder: no table here names it.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import TYPE_CHECKING

from angie_mcp_core.manifest import ENTRY_POINT_GROUP, ServerManifest

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ("discover", "manifests_from")

log = logging.getLogger(__name__)


def manifests_from(found: Iterable[EntryPoint]) -> dict[str, ServerManifest]:
    """The manifests behind ``found``, by name; a broken one is logged with its name and skipped."""
    manifests: dict[str, ServerManifest] = {}
    for point in sorted(found, key=lambda p: p.name):
        try:
            manifest = point.load()
        except Exception:  # a broken package must not stop Angie from starting
            log.exception(
                "MCP server %r: its manifest (%s) cannot be loaded", point.name, point.value
            )
            continue
        if not isinstance(manifest, ServerManifest):
            log.error("MCP server %r: %s is not a ServerManifest", point.name, point.value)
        elif manifest.name != point.name:
            log.error(
                "MCP server %r: its manifest is named %r; the entry point must use the same name",
                point.name,
                manifest.name,
            )
        elif manifest.name in manifests:
            log.error("MCP server %r is installed twice; using the first", point.name)
        else:
            manifests[manifest.name] = manifest
    return manifests


@cache
def discover() -> Mapping[str, ServerManifest]:
    """Every installed server's manifest by name (read once per process)."""
    return MappingProxyType(manifests_from(entry_points(group=ENTRY_POINT_GROUP)))
