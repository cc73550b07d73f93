"""What the Home Assistant tools return: entities, service calls, service catalogues, history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

__all__ = (
    "EntityHistory",
    "EntityState",
    "EntitySummary",
    "HistoryPoint",
    "ServiceCallResult",
    "ServiceDomain",
    "ServiceField",
    "ServiceInfo",
)


class EntitySummary(BaseModel):
    """One entity in a listing: enough to pick it and read its state."""

    entity_id: str = Field(description="Home Assistant id, e.g. light.kitchen.")
    name: str = Field(description="Friendly name shown in Home Assistant.")
    domain: str = Field(description="The part before the dot: light, switch, sensor, climate…")
    state: str = Field(description="Current state, e.g. on, off, 21.5, heat, unavailable.")
    unit: str | None = Field(default=None, description="Unit of a sensor's state, e.g. °C or %.")


class EntityState(EntitySummary):
    """One entity in full, with every attribute Home Assistant reports."""

    attributes: dict[str, Any] = Field(default_factory=dict)
    last_changed: datetime = Field(description="When the state last changed (UTC).")
    last_updated: datetime | None = Field(
        default=None, description="When the state or an attribute last changed (UTC)."
    )


class ServiceCallResult(BaseModel):
    """The outcome of calling a service."""

    service: str = Field(description="The service that ran, as domain.service.")
    entity_ids: list[str] = Field(description="The entities it was called on.")
    changed: list[EntityState] = Field(
        description="States that changed during the call; empty when nothing changed or the "
        "device reports its new state later."
    )


class ServiceField(BaseModel):
    """One piece of data a service accepts."""

    name: str
    description: str | None = None
    required: bool = False
    example: Any | None = None
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    options: list[str] | None = Field(default=None, description="The allowed values, if fixed.")


class ServiceInfo(BaseModel):
    """One service of a domain, e.g. light.turn_on."""

    service: str = Field(description="The service name within its domain, e.g. turn_on.")
    name: str | None = None
    description: str | None = None
    target_domains: list[str] = Field(
        default_factory=list, description="Entity domains it acts on; empty when not restricted."
    )
    fields: list[ServiceField] = Field(default_factory=list)


class ServiceDomain(BaseModel):
    """A domain (integration) and the services it offers."""

    domain: str
    services: list[ServiceInfo]


class HistoryPoint(BaseModel):
    """A state an entity took and when."""

    state: str
    at: datetime = Field(description="When the entity took this state (UTC).")


class EntityHistory(BaseModel):
    """An entity's recent states, oldest first."""

    entity_id: str
    name: str
    unit: str | None = None
    hours: float = Field(description="How far back the history goes.")
    points: list[HistoryPoint]
    truncated: bool = Field(
        default=False, description="True when older points were dropped to respect max_points."
    )
