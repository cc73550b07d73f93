"""Home Assistant's REST API through the homeassistant-api SDK, vendor errors made the kit's.

Blocking (niquests underneath): the tools run these methods with ``call_blocking``.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import niquests
from homeassistant_api import Client, Domain, Entity, Service, State
from homeassistant_api.errors import HomeassistantAPIError, RequestTimeoutError
from homeassistant_api.models.domains import ServiceField as SDKServiceField
from homeassistant_api.models.domains import ServiceFieldCollection
from pydantic import ValidationError

from angie_mcp_core.errors import (
    InvalidArgumentError,
    NotConfiguredError,
    NotFoundError,
    UpstreamError,
    UpstreamTimeoutError,
    from_status,
    parse_retry_after,
)
from angie_mcp_core.vendor import Rule, VendorClient, translated
from angie_mcp_home_assistant.models import (
    EntityHistory,
    EntityState,
    EntitySummary,
    HistoryPoint,
    ServiceCallResult,
    ServiceDomain,
    ServiceField,
    ServiceInfo,
)
from angie_mcp_home_assistant.safety import refuse_safety_targets, safety_service
from angie_mcp_home_assistant.settings import HomeAssistantSettings

__all__ = ("SERVICE", "HomeAssistantClient")

SERVICE = "Home Assistant"

MAX_HISTORY_HOURS = 720.0
MAX_HISTORY_POINTS = 1000

_ENTITY_ID = re.compile(r"[a-z0-9_]+\.[a-z0-9_]+")

# Well-known service data with a fixed range in Home Assistant's own schemas; checked here so
# a bad value fails fast with a clear message instead of Home Assistant's bare 400.
_RANGES: dict[str, tuple[float, float]] = {
    "brightness": (0, 255),
    "brightness_pct": (0, 100),
    "brightness_step": (-255, 255),
    "brightness_step_pct": (-100, 100),
    "transition": (0, 6553),
    "percentage": (0, 100),
    "position": (0, 100),
    "tilt_position": (0, 100),
    "volume_level": (0, 1),
}
_COLOUR_TRIPLES = ("rgb_color",)
# Climate set-points are bounded per entity by its min_temp/max_temp attributes.
_TEMPERATURES = ("temperature", "target_temp_low", "target_temp_high")


class _StatusError(Exception):
    """A non-2xx answer, caught before the SDK reduces it to a message without its headers."""

    def __init__(self, status: int, detail: str, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail
        self.retry_after = retry_after


class _SDKClient(Client):
    """The SDK's sync client, keeping the status, body and Retry-After of error answers.

    The SDK turns a 429 into ``UnexpectedStatusCodeError`` and drops the headers; this hook is
    the SDK's own response-processing seam, so every request still goes through the SDK.
    """

    @staticmethod
    def response_logic(response: niquests.Response) -> Any:
        status = response.status_code
        if status is not None and status not in (200, 201):
            raise _StatusError(
                status, _detail(response), parse_retry_after(response.headers.get("Retry-After"))
            )
        return Client.response_logic(response)


def _detail(response: niquests.Response) -> str:
    text = (response.text or "").strip()
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        text = body["message"]
    return text[:300] or (response.reason or "")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _check_ranges(data: Mapping[str, Any]) -> None:
    """Reject well-known service data outside Home Assistant's ranges, before any request."""
    for key, (low, high) in _RANGES.items():
        number = _number(data.get(key))
        if number is not None and not low <= number <= high:
            raise InvalidArgumentError(
                f"{key} must be between {low:g} and {high:g}, got {number:g}."
            )
    for key in _COLOUR_TRIPLES:
        value = data.get(key)
        if isinstance(value, list | tuple):
            numbers = [_number(v) for v in value]
            if len(numbers) != 3 or any(n is None or not 0 <= n <= 255 for n in numbers):
                raise InvalidArgumentError(
                    f"{key} must be three numbers from 0 to 255 (red, green, blue), got {value!r}."
                )


def _summary(state: State) -> EntitySummary:
    return EntitySummary(**_summary_fields(state))


def _full(state: State) -> EntityState:
    return EntityState(
        **_summary_fields(state),
        attributes=state.attributes,
        last_changed=state.last_changed,
        last_updated=state.last_updated,
    )


def _summary_fields(state: State) -> dict[str, Any]:
    name = state.attributes.get("friendly_name")
    unit = state.attributes.get("unit_of_measurement")
    return {
        "entity_id": state.entity_id,
        "name": name if isinstance(name, str) else state.entity_id,
        "domain": state.entity_id.split(".", 1)[0],
        "state": state.state,
        "unit": unit if isinstance(unit, str) else None,
    }


def _service_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    payload = dict(data or {})
    if "entity_id" in payload:
        raise InvalidArgumentError("Pass the entities in entity_ids, not in the service data.")
    if "domain" in payload or "service" in payload:
        raise InvalidArgumentError("Service data cannot contain the keys 'domain' or 'service'.")
    _check_ranges(payload)
    return payload


def _area_key(name: str) -> str:
    # Area ids are slugs of the name the area was created with: "Living Room" -> "living_room".
    return re.sub(r"[\s-]+", "_", name.strip()).casefold()


def _target_domains(service: Service) -> list[str]:
    entity = service.target.entity if service.target else None
    filters = entity if isinstance(entity, list) else [entity] if entity else []
    domains: list[str] = []
    for f in filters:
        if isinstance(f.domain, str):
            domains.append(f.domain)
        elif f.domain:
            domains.extend(f.domain)
    return domains


def _field(name: str, field: SDKServiceField) -> ServiceField:
    selector = field.selector
    low = high = None
    unit = options = None
    if selector is not None and selector.number is not None:
        low, high = selector.number.min, selector.number.max
        unit = selector.number.unit_of_measurement
    if selector is not None and selector.color_temp is not None:
        low, high = selector.color_temp.min, selector.color_temp.max
        unit = selector.color_temp.unit
    if selector is not None and selector.select is not None:
        options = [o if isinstance(o, str) else str(o.value) for o in selector.select.options]
    return ServiceField(
        name=name,
        description=field.description,
        required=bool(field.required),
        example=field.example,
        min=low,
        max=high,
        unit=unit,
        options=options,
    )


def _service_info(service: Service) -> ServiceInfo:
    fields: list[ServiceField] = []
    for name, field in (service.fields or {}).items():
        # Home Assistant groups rarely used fields in collapsible sections; flatten them.
        if isinstance(field, ServiceFieldCollection):
            fields.extend(_field(n, f) for n, f in field.fields.items())
        else:
            fields.append(_field(name, field))
    return ServiceInfo(
        service=service.service_id,
        name=service.name,
        description=service.description,
        target_domains=_target_domains(service),
        fields=fields,
    )


def _domain_info(domain: Domain) -> ServiceDomain:
    services = [s for s in domain.services.values() if isinstance(s, Service)]
    return ServiceDomain(
        domain=domain.domain_id,
        services=[_service_info(s) for s in sorted(services, key=lambda s: s.service_id)],
    )


class HomeAssistantClient(VendorClient):
    """One Home Assistant instance: entities, areas, services and history.

    Entity lookups accept an entity id or a friendly name, case-insensitively. Close it (or use
    it as a context manager) to release its HTTP connections.
    """

    def __init__(self, settings: HomeAssistantSettings, *, base_url: str | None = None) -> None:
        self._settings = settings
        url = (base_url or settings.url or "").rstrip("/")
        self._url = url.removesuffix("/api")
        self._missing = settings.missing()
        if base_url:
            self._missing = [m for m in self._missing if m != settings.env_name("url")]
        self._sdk: _SDKClient | None = None
        # Ours to close: the SDK closes it only in __exit__, and its __enter__ makes a request.
        self._session: niquests.Session | None = None
        if not self._missing and settings.access_token is not None:
            # retries=0: a 429 or 500 must reach the caller now, not after a retry loop.
            self._session = niquests.Session(retries=0, timeout=settings.timeout)
            self._sdk = _SDKClient(
                f"{self._url}/api", settings.access_token.get_secret_value(), session=self._session
            )

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    # -- operations -------------------------------------------------------------------------

    def probe(self) -> str:
        """Home Assistant's version and location name, e.g. "Home Assistant 2025.11.2 (Home)"."""
        sdk = self._api()
        with self._translated():
            config = sdk.get_config()
        version = config.get("version", "unknown version")
        location = config.get("location_name")
        return f"{SERVICE} {version}" + (f" ({location})" if location else "")

    def list_entities(
        self, domain: str | None = None, area: str | None = None
    ) -> list[EntitySummary]:
        """Entities sorted by id, optionally only one domain's (light, sensor…) or one area's."""
        sdk = self._api()
        with self._translated():
            states = sdk.get_states()
        if domain is not None:
            wanted = domain.strip().lower()
            present = {s.entity_id.split(".", 1)[0] for s in states}
            if wanted not in present:
                raise NotFoundError("entity domain", domain, present)
            states = tuple(s for s in states if s.entity_id.startswith(f"{wanted}."))
        if area is not None:
            in_area = self._area_entity_ids(area)
            states = tuple(s for s in states if s.entity_id in in_area)
        return [_summary(s) for s in sorted(states, key=lambda s: s.entity_id)]

    def list_areas(self) -> list[str]:
        """The ids of the areas (rooms) defined in Home Assistant, e.g. kitchen, living_room."""
        self._api()
        return sorted(self._render_list("{{ areas() }}"))

    def get_state(self, entity: str) -> EntityState:
        """One entity's state with all its attributes; ``entity`` is an id or a friendly name."""
        return _full(self._lookup(entity).state)

    def call_service(
        self,
        domain: str,
        service: str,
        entity_ids: Sequence[str] = (),
        data: Mapping[str, Any] | None = None,
    ) -> ServiceCallResult:
        """Call ``domain.service`` on the entities (ids or friendly names) with extra ``data``.

        Refuses safety devices (see :mod:`.safety`). Returns the states that changed.
        """
        self._api()
        refuse_safety_targets(domain, service, ())
        payload = _service_data(data)
        found = self._service(domain, service)
        targets = self._resolve(entity_ids, self._all_entities()) if entity_ids else []
        refuse_safety_targets(domain, service, [e.entity_id for e in targets])
        return self._trigger(found, targets, payload)

    def operate_safety_device(
        self,
        entity: str,
        action: str,
        position: int | None = None,
        code: str | None = None,
    ) -> ServiceCallResult:
        """Perform ``action`` (unlock, disarm, open…) on one lock, alarm, cover, valve or siren."""
        self._api()
        target = self._lookup(entity)
        domain, service = safety_service(target.entity_id, action)
        payload: dict[str, Any] = {}
        if action == "set_position":
            if position is None:
                raise InvalidArgumentError("set_position needs a position from 0 to 100.")
            payload["position"] = position
        elif position is not None:
            raise InvalidArgumentError(f"position only goes with set_position, not {action}.")
        if code is not None:
            payload["code"] = code
        return self._trigger(self._service(domain, service), [target], payload)

    def list_services(self, domain: str | None = None) -> list[ServiceDomain]:
        """Service domains with their services and fields; only ``domain``'s when given."""
        domains = self._domains()
        if domain is not None:
            return [_domain_info(self._domain(domain, domains))]
        return [_domain_info(domains[d]) for d in sorted(domains)]

    def get_history(self, entity: str, hours: float = 24, max_points: int = 100) -> EntityHistory:
        """The states ``entity`` took over the last ``hours`` hours, oldest first.

        Consecutive repeats (attribute-only updates) are merged; at most ``max_points`` of the
        newest points are kept.
        """
        if not 0 < hours <= MAX_HISTORY_HOURS:
            raise InvalidArgumentError(
                f"hours must be more than 0 and at most {MAX_HISTORY_HOURS:g}, got {hours:g}."
            )
        if not 1 <= max_points <= MAX_HISTORY_POINTS:
            raise InvalidArgumentError(
                f"max_points must be from 1 to {MAX_HISTORY_POINTS}, got {max_points}."
            )
        sdk = self._api()
        found = self._lookup(entity)
        end = datetime.now(UTC)
        with self._translated():
            # A generator: the request runs while it is consumed, so consume it in here.
            histories = list(
                sdk.get_entity_histories(
                    entities=(found,),
                    start_timestamp=end - timedelta(hours=hours),
                    end_timestamp=end,
                )
            )
        points: list[HistoryPoint] = []
        for history in histories:
            for state in history.states:
                if state.entity_id == found.entity_id and (
                    not points or points[-1].state != state.state
                ):
                    points.append(HistoryPoint(state=state.state, at=state.last_changed))
        summary = _summary(found.state)
        return EntityHistory(
            entity_id=found.entity_id,
            name=summary.name,
            unit=summary.unit,
            hours=hours,
            points=points[-max_points:],
            truncated=len(points) > max_points,
        )

    # -- helpers ----------------------------------------------------------------------------

    def _api(self) -> _SDKClient:
        if self._sdk is None:
            raise NotConfiguredError(SERVICE, self._missing)
        return self._sdk

    def _translated(self) -> AbstractContextManager[None]:
        """Turn what the SDK and niquests raise into the kit's errors, with no secret in them."""
        return translated(self._error_rules)

    @property
    def _error_rules(self) -> list[Rule]:
        auth_hint = (
            f"Set {self._settings.env_name('access_token')} to a valid long-lived access "
            "token (Home Assistant: your profile, Security tab)."
        )
        return [
            (
                _StatusError,
                lambda err: from_status(
                    SERVICE,
                    err.status,
                    err.detail,
                    auth_hint=auth_hint,
                    retry_after=err.retry_after,
                ),
            ),
            (
                (RequestTimeoutError, niquests.Timeout),
                lambda _: UpstreamTimeoutError(SERVICE, self._settings.timeout),
            ),
            (
                niquests.ConnectionError,
                lambda _: UpstreamError(
                    SERVICE, f"could not connect to {self._url}; is it running and reachable?"
                ),
            ),
            (
                niquests.RequestException,
                lambda err: UpstreamError(SERVICE, f"the request failed ({type(err).__name__})."),
            ),
            (
                (HomeassistantAPIError, ValidationError, TypeError),
                lambda _: UpstreamError(SERVICE, "it sent an answer Angie could not read."),
            ),
        ]

    def _render_list(self, template: str) -> list[str]:
        """Render a template that yields a list of strings (areas have no REST endpoint)."""
        sdk = self._api()
        with self._translated():
            text = sdk.get_rendered_template(template)
        # The REST API renders lists as Python literals (['a', 'b']); JSON is accepted too.
        try:
            value = ast.literal_eval(text.strip() or "[]")
        except (ValueError, SyntaxError) as err:
            raise UpstreamError(SERVICE, f"the template {template} gave {text[:100]!r}") from err
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise UpstreamError(SERVICE, f"the template {template} gave {text[:100]!r}")
        return list(value)

    def _area_entity_ids(self, area: str) -> set[str]:
        area_ids = self._render_list("{{ areas() }}")
        key = _area_key(area)
        match = next((a for a in area_ids if a.casefold() == key), None)
        # area_entities() takes an id or a name; an unmatched name may be a renamed area.
        target = match or area.strip()
        ids = self._render_list(f"{{{{ area_entities({json.dumps(target)}) }}}}")
        if not ids and match is None:
            raise NotFoundError("area", area, area_ids)
        return set(ids)

    def _all_entities(self) -> dict[str, Entity]:
        sdk = self._api()
        with self._translated():
            groups = sdk.get_entities()
        entities: dict[str, Entity] = {}
        for group in groups.values():
            for slug in group.entities:
                entity = group.get_entity(slug)
                if entity is not None:
                    entities[entity.entity_id] = entity
        return entities

    def _lookup(self, entity: str) -> Entity:
        """One entity by id (one request) or by friendly name (the full list)."""
        sdk = self._api()
        wanted = entity.strip().lower()
        if _ENTITY_ID.fullmatch(wanted):
            try:
                with self._translated():
                    found = sdk.get_entity(entity_id=wanted)
            except UpstreamError as err:
                if err.status != 404:
                    raise
                found = None
            if found is not None:
                return found
        return self._resolve([entity], self._all_entities())[0]

    def _resolve(self, names: Sequence[str], entities: Mapping[str, Entity]) -> list[Entity]:
        by_name: dict[str, list[Entity]] = {}
        for e in entities.values():
            by_name.setdefault(_summary(e.state).name.casefold(), []).append(e)
        resolved: list[Entity] = []
        for name in names:
            key = name.strip()
            if key.lower() in entities:
                resolved.append(entities[key.lower()])
                continue
            named = by_name.get(key.casefold(), [])
            if len(named) > 1:
                ids = ", ".join(e.entity_id for e in named)
                raise InvalidArgumentError(f"{name!r} names several entities ({ids}); use an id.")
            if named:
                resolved.append(named[0])
            elif _ENTITY_ID.fullmatch(key.lower()):
                raise NotFoundError("entity id", name, entities)
            else:
                names_known = [_summary(e.state).name for e in entities.values()]
                raise NotFoundError("entity name", name, names_known)
        return resolved

    def _domains(self) -> dict[str, Domain]:
        sdk = self._api()
        with self._translated():
            return sdk.get_domains()

    def _domain(self, domain: str, domains: Mapping[str, Domain]) -> Domain:
        wanted = domain.strip().lower()
        if wanted not in domains:
            raise NotFoundError("service domain", domain, domains)
        return domains[wanted]

    def _service(self, domain: str, service: str) -> Service:
        found = self._domain(domain, self._domains())
        services = {k.lower(): v for k, v in found.services.items() if isinstance(v, Service)}
        wanted = service.strip().lower()
        if wanted not in services:
            raise NotFoundError(f"{found.domain_id} service", service, services)
        return services[wanted]

    def _trigger(
        self, found: Service, targets: Sequence[Entity], payload: dict[str, Any]
    ) -> ServiceCallResult:
        self._check_targets(found, targets, payload)
        domain_id, service_id = found.domain.domain_id, found.service_id
        ids = [e.entity_id for e in targets]
        if ids:
            payload["entity_id"] = ids
        with self._translated():
            changed = self._api().trigger_service(domain_id, service_id, **payload)
        return ServiceCallResult(
            service=f"{domain_id}.{service_id}",
            entity_ids=ids,
            changed=[_full(s) for s in changed],
        )

    @staticmethod
    def _check_targets(
        service: Service, targets: Sequence[Entity], data: Mapping[str, Any]
    ) -> None:
        """Refuse entities the service ignores and set-points outside an entity's range."""
        allowed = _target_domains(service)
        name = f"{service.domain.domain_id}.{service.service_id}"
        for entity in targets:
            own = entity.entity_id.split(".", 1)[0]
            if allowed and own not in allowed:
                raise InvalidArgumentError(
                    f"{name} only acts on {'/'.join(allowed)} entities, so it would ignore "
                    f"{entity.entity_id}; call a {own} service instead (see list_services)."
                )
            attributes = entity.state.attributes
            low, high = _number(attributes.get("min_temp")), _number(attributes.get("max_temp"))
            for key in _TEMPERATURES:
                value = _number(data.get(key))
                if value is None or low is None or high is None:
                    continue
                if not low <= value <= high:
                    raise InvalidArgumentError(
                        f"{key} {value:g} is outside {entity.entity_id}'s range "
                        f"{low:g} to {high:g}."
                    )
