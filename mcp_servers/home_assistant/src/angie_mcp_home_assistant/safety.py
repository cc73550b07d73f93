"""The safety tier: devices that guard the home (locks, alarms, covers and garage doors, valves,
sirens). They are operated only through ``operate_safety_device``, one entity per call, which
is annotated so Angie always asks the user first; ``call_service`` refuses them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from angie_mcp_core.errors import InvalidArgumentError

__all__ = ("ACTIONS", "SAFETY_DOMAINS", "SafetyAction", "refuse_safety_targets", "safety_service")

SafetyAction = Literal[
    "lock",
    "unlock",
    "open",
    "close",
    "stop",
    "set_position",
    "arm_home",
    "arm_away",
    "arm_night",
    "arm_vacation",
    "disarm",
    "trigger",
    "turn_on",
    "turn_off",
]

#: Each safety domain's actions and the Home Assistant service each one calls.
ACTIONS: dict[str, dict[str, str]] = {
    "lock": {"lock": "lock", "unlock": "unlock", "open": "open"},
    "alarm_control_panel": {
        "arm_home": "alarm_arm_home",
        "arm_away": "alarm_arm_away",
        "arm_night": "alarm_arm_night",
        "arm_vacation": "alarm_arm_vacation",
        "disarm": "alarm_disarm",
        "trigger": "alarm_trigger",
    },
    # Garage doors and gates are covers (device_class garage, gate, door); blinds too, and
    # the domain's services cannot tell them apart, so every cover is in the tier.
    "cover": {
        "open": "open_cover",
        "close": "close_cover",
        "stop": "stop_cover",
        "set_position": "set_cover_position",
    },
    "valve": {
        "open": "open_valve",
        "close": "close_valve",
        "stop": "stop_valve",
        "set_position": "set_valve_position",
    },
    "siren": {"turn_on": "turn_on", "turn_off": "turn_off"},
}
SAFETY_DOMAINS = frozenset(ACTIONS)

_TOOL = "operate_safety_device"


def safety_service(entity_id: str, action: str) -> tuple[str, str]:
    """The (domain, service) that performs ``action`` on a safety-tier entity."""
    domain = entity_id.split(".", 1)[0]
    if domain not in ACTIONS:
        raise InvalidArgumentError(
            f"{entity_id} is not a safety device ({', '.join(sorted(SAFETY_DOMAINS))}); "
            "use call_service for it."
        )
    actions = ACTIONS[domain]
    if action not in actions:
        raise InvalidArgumentError(
            f"{entity_id} is a {domain}: its actions are {', '.join(actions)}, not {action!r}."
        )
    return domain, actions[action]


def refuse_safety_targets(domain: str, service: str, entity_ids: Iterable[str]) -> None:
    """Refuse a ``call_service`` that would act on a safety device, naming the tool to use."""
    wanted = domain.strip().lower()
    if wanted in SAFETY_DOMAINS:
        raise InvalidArgumentError(
            f"{wanted}.{service} acts on a safety device ({', '.join(sorted(SAFETY_DOMAINS))}); "
            f"call_service does not operate those: use {_TOOL}, which asks the user first."
        )
    for entity_id in entity_ids:
        if entity_id.split(".", 1)[0] in SAFETY_DOMAINS:
            raise InvalidArgumentError(
                f"{entity_id} is a safety device; call_service does not operate it, even "
                f"through {wanted}.{service}: use {_TOOL}, which asks the user first."
            )
