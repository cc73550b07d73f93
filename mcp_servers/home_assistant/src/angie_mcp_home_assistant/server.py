"""The Home Assistant MCP server: entities, areas, services and history of one home for Angie."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastmcp import FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from angie_mcp_core.calls import call_blocking
from angie_mcp_core.server import ALWAYS_ASK, create_server
from angie_mcp_home_assistant.client import (
    MAX_HISTORY_HOURS,
    MAX_HISTORY_POINTS,
    SERVICE,
    HomeAssistantClient,
)
from angie_mcp_home_assistant.models import (
    EntityHistory,
    EntityState,
    EntitySummary,
    ServiceCallResult,
    ServiceDomain,
)
from angie_mcp_home_assistant.safety import ACTIONS, SafetyAction
from angie_mcp_home_assistant.settings import HomeAssistantSettings

__all__ = ("INSTRUCTIONS", "build")

INSTRUCTIONS = """\
Reads and controls one home through Home Assistant: its entities (lights, switches, sensors, \
thermostats, covers, locks, media players…), the areas (rooms) they are in, the services that \
act on them and their recent history. An entity is named by its id (domain.object, e.g. \
light.kitchen) or by its friendly name (e.g. 'Kitchen Light'), in any case; a wrong name gets \
an error suggesting close ones. To find things call list_areas and list_entities (filtered by \
domain and/or area); get_state gives one entity in full. Before call_service with extra data, \
call list_services for that domain to learn the service's fields and their ranges. Locks, \
alarm panels, covers (garage doors, gates, blinds), valves and sirens are operated only with \
operate_safety_device, one device per call, and only when the user asked for exactly that; the \
user is always asked to approve it. If a tool says Home Assistant is not configured or \
unreachable, call status."""

# Reads touch only this home's Home Assistant: a closed world.
_READS = ToolAnnotations(
    readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False
)
# A service can do anything Home Assistant can: run scripts, send notifications, shut off
# the heating. Not every call is harmful, but no annotation can say which ones are.
_ANY_SERVICE = ToolAnnotations(
    readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=True
)
# A lock, alarm or garage door: harm in the physical world, inside this home.
_SAFETY_DEVICE = ToolAnnotations(
    readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=False
)
_ACTIONS_TEXT = "; ".join(f"{domain}: {', '.join(acts)}" for domain, acts in ACTIONS.items())

EntityName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        description="An entity id such as 'sensor.living_room_temperature', or its friendly "
        "name such as 'Living Room Temperature' (any case).",
    ),
]
DomainName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_]+$",
        description="A domain: the part of an entity id before the dot, e.g. 'light', "
        "'switch', 'sensor', 'climate', 'cover', 'lock', 'media_player'.",
    ),
]


def build(settings: HomeAssistantSettings) -> FastMCP:
    """The Home Assistant server; it starts and lists its tools even before it is configured."""
    timeout = settings.timeout

    # Made on first use and kept: its HTTP connections are reused across tool calls. Without
    # the settings it still builds, and every call raises NotConfiguredError naming them.
    @functools.cache
    def home() -> HomeAssistantClient:
        return HomeAssistantClient(settings)

    async def probe() -> str:
        return await call_blocking(SERVICE, timeout, home().probe)

    mcp = create_server("home_assistant", settings, instructions=INSTRUCTIONS, probe=probe)

    @mcp.tool(annotations=_READS)
    async def list_entities(
        domain: Annotated[
            DomainName | None,
            Field(description="Only entities of this domain, e.g. 'light'; omit for all."),
        ] = None,
        area: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=100,
                description="Only entities in this area (room), by id or name, e.g. "
                "'living_room' or 'Living Room'; see list_areas. Omit for every area.",
            ),
        ] = None,
    ) -> list[EntitySummary]:
        """List the home's entities with their current state, sorted by entity id.

        Use it to find the entity for a request ("the kitchen lights", "bedroom humidity")
        or to answer "what is on?". Filter by domain and/or area to keep the answer short; a
        whole home can have hundreds of entities. Each item has entity_id, friendly name,
        domain, state (e.g. 'on', 'off', '21.5', 'heat', 'unavailable') and the unit of a
        sensor's state. An unknown domain or area gets an error suggesting close ones.
        """
        return await call_blocking(SERVICE, timeout, home().list_entities, domain, area)

    @mcp.tool(annotations=_READS)
    async def list_areas() -> list[str]:
        """List the ids of the areas (rooms) defined in Home Assistant, e.g. 'kitchen'.

        Use it to learn which rooms exist before filtering list_entities by area.
        """
        return await call_blocking(SERVICE, timeout, home().list_areas)

    @mcp.tool(annotations=_READS)
    async def get_state(entity: EntityName) -> EntityState:
        """Get one entity's current state with every attribute Home Assistant reports.

        Use it to answer "is the coffee maker on?", "how warm is the living room?" or to
        check what a call_service did. Attributes hold the details: a light's brightness
        (0-255) and colour, a thermostat's target temperature, min_temp/max_temp and
        hvac_modes, a sensor's device_class. last_changed is when the state itself last
        changed (UTC).
        """
        return await call_blocking(SERVICE, timeout, home().get_state, entity)

    @mcp.tool(annotations=_ANY_SERVICE)
    async def call_service(
        domain: Annotated[
            DomainName,
            Field(description="The service's domain, e.g. 'light', 'switch', 'climate'."),
        ],
        service: Annotated[
            str,
            Field(
                min_length=1,
                max_length=64,
                pattern=r"^[A-Za-z0-9_]+$",
                description="The service within the domain, e.g. 'turn_on', 'turn_off', "
                "'toggle', 'set_temperature'; see list_services.",
            ),
        ],
        entity_ids: Annotated[
            list[EntityName],
            Field(
                max_length=50,
                description="The entities to act on, by id or friendly name, e.g. "
                "['light.kitchen']; an empty list only for services that target no entity.",
            ),
        ],
        data: Annotated[
            dict[str, Any] | None,
            Field(
                description="Extra service fields, e.g. {'brightness_pct': 50} (0-100 %), "
                "{'rgb_color': [255, 80, 0]} (each 0-255), {'color_temp_kelvin': 2700}, "
                "{'transition': 2} (seconds), {'temperature': 21} (the thermostat's unit), "
                "{'hvac_mode': 'heat'}. Never put entity_id here. Omit when none are needed.",
            ),
        ] = None,
    ) -> ServiceCallResult:
        """Call a Home Assistant service (an action) on entities: this changes the house.

        Use it to switch, dim or recolour lights, turn switches on or off, set a thermostat,
        open covers and so on: domain 'light', service 'turn_on', entity_ids
        ['light.kitchen'], data {'brightness_pct': 40}. The 'homeassistant' domain's
        turn_on/turn_off/toggle act on entities of any domain. Call list_services first when
        unsure of a service's name or fields; values outside a field's range, or entities the
        service would ignore, are refused before anything happens.

        It refuses locks, alarm panels, covers (garage doors, gates, blinds), valves and
        sirens, whatever the domain (homeassistant.turn_on too): use operate_safety_device for
        those. Turning off cameras is sensitive too: only when the user asked for exactly that.

        Returns the service that ran, the entity ids it acted on and the states that changed
        during the call (empty when nothing changed or a device reports its state later; then
        check with get_state).
        """
        return await call_blocking(
            SERVICE, timeout, home().call_service, domain, service, entity_ids, data
        )

    @mcp.tool(annotations=_SAFETY_DEVICE, meta=ALWAYS_ASK)
    async def operate_safety_device(
        entity: Annotated[
            str,
            Field(
                min_length=1,
                max_length=255,
                description="One lock, alarm panel, cover (garage door, gate, blind), valve or "
                "siren, by entity id ('lock.front_door') or friendly name ('Front Door').",
            ),
        ],
        action: Annotated[
            SafetyAction,
            Field(description=f"What to do; each domain has its own actions: {_ACTIONS_TEXT}."),
        ],
        position: Annotated[
            int | None,
            Field(
                ge=0,
                le=100,
                description="Only with set_position: 0 (closed) to 100 (fully open), percent.",
            ),
        ] = None,
        code: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=32,
                description="The alarm or lock code, when the device needs one (e.g. to "
                "disarm) and the user gave it; omit otherwise.",
            ),
        ] = None,
    ) -> ServiceCallResult:
        """Lock or unlock a door, arm or disarm the alarm, open or close a garage door, gate,
        blind or valve, or sound or silence a siren: one device per call.

        The user is always asked to approve each call, so only call it when they asked for
        exactly this action on exactly this device, and say what you did. Find the entity
        first with list_entities (domain 'lock', 'alarm_control_panel', 'cover', 'valve' or
        'siren'). An action the device does not have is refused with the ones it has.

        Returns the service that ran and the states that changed (a lock's 'locked' or
        'unlocked', an alarm's 'disarmed' or 'armed_away', a cover's 'open' or 'closed' and its
        current_position); empty when the device reports its state later, then check with
        get_state.
        """
        return await call_blocking(
            SERVICE, timeout, home().operate_safety_device, entity, action, position, code
        )

    @mcp.tool(annotations=_READS)
    async def list_services(
        domain: Annotated[
            DomainName | None,
            Field(
                description="Only this domain's services, e.g. 'light'; omit for every "
                "domain (a long answer)."
            ),
        ] = None,
    ) -> list[ServiceDomain]:
        """List the services (actions) Home Assistant offers and the data each one accepts.

        Use it before call_service to learn a service's exact name and fields. Each service
        has its description, target_domains (the entity domains it acts on; empty when any)
        and fields with description, required, example, min/max and unit for numbers, and
        options for fixed choices (e.g. hvac_mode: off, heat, cool, auto).
        """
        return await call_blocking(SERVICE, timeout, home().list_services, domain)

    @mcp.tool(annotations=_READS)
    async def get_history(
        entity: EntityName,
        hours: Annotated[
            float,
            Field(
                gt=0,
                le=MAX_HISTORY_HOURS,
                description=f"How far back to look, in hours: more than 0, at most "
                f"{MAX_HISTORY_HOURS:g} (30 days). Default 24.",
            ),
        ] = 24,
        max_points: Annotated[
            int,
            Field(
                ge=1,
                le=MAX_HISTORY_POINTS,
                description=f"Most points to return, 1-{MAX_HISTORY_POINTS}; the newest are "
                "kept. Default 100.",
            ),
        ] = 100,
    ) -> EntityHistory:
        """Get the states one entity took over the last hours, oldest first.

        Use it for "when did the front door last open?", "how did the living room
        temperature change today?" or "was the heating on overnight?". Each point is a state
        and when it began (UTC); repeats are merged, so the first point is the state in
        effect when the window opened. truncated is true when older points were dropped to
        keep max_points.
        """
        return await call_blocking(SERVICE, timeout, home().get_history, entity, hours, max_points)

    return mcp
