"""The controller's raw JSON (as aiounifi hands it over) as the tools' models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from angie_mcp_unifi.models import ClientInfo, DeviceInfo, PortForwardInfo, WlanInfo

__all__ = ("client", "device", "port_forward", "wlan")

_KINDS = {
    "uap": "access point",
    "usw": "switch",
    "ugw": "gateway",
    "uxg": "gateway",
    "udm": "gateway",
    "ucg": "gateway",
    "uck": "cloud key",
    "ubb": "building bridge",
    "usp": "smart power",
    "uph": "phone",
    "uas": "application server",
}
# aiounifi's DeviceState, by the numbers the controller sends.
_STATES = {
    0: "disconnected",
    1: "connected",
    2: "pending",
    3: "firmware_mismatch",
    4: "upgrading",
    5: "provisioning",
    6: "heartbeat_missed",
    7: "adopting",
    8: "deleting",
    9: "inform_error",
    10: "adoption_failed",
    11: "isolated",
}


def _when(epoch: Any) -> datetime | None:
    if isinstance(epoch, int | float) and not isinstance(epoch, bool) and epoch > 0:
        return datetime.fromtimestamp(epoch, UTC)
    return None


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def client(raw: dict[str, Any], *, online: bool, now: datetime) -> ClientInfo:
    """One client from ``stat/sta`` (online) or ``rest/user`` (every known one)."""
    wired = bool(raw.get("is_wired", False))
    since = _when(raw.get("latest_assoc_time") or raw.get("assoc_time"))
    if online and since is None and _int(raw.get("uptime")):
        since = now - timedelta(seconds=_int(raw.get("uptime")))
    prefix = "wired-" if wired else ""
    return ClientInfo(
        mac=str(raw.get("mac", "")).lower(),
        name=str(raw.get("name") or raw.get("hostname") or ""),
        hostname=str(raw.get("hostname") or ""),
        ip=str(raw.get("ip") or "") if online else "",
        online=online,
        wired=wired,
        network="" if wired else str(raw.get("essid") or ""),
        guest=bool(raw.get("is_guest", False)),
        blocked=bool(raw.get("blocked", False)),
        first_seen=_when(raw.get("first_seen")),
        last_seen=_when(raw.get("last_seen")),
        connected_since=since if online else None,
        received_bytes=_int(raw.get(f"{prefix}rx_bytes")) if online else 0,
        sent_bytes=_int(raw.get(f"{prefix}tx_bytes")) if online else 0,
    )


def device(raw: dict[str, Any]) -> DeviceInfo:
    state = _STATES.get(_int(raw.get("state")) if "state" in raw else -1, "unknown")
    kind = str(raw.get("type") or "unknown")
    upgrade = str(raw.get("upgrade_to_firmware") or "") if raw.get("upgradable") else ""
    return DeviceInfo(
        mac=str(raw.get("mac", "")).lower(),
        name=str(raw.get("name") or ""),
        kind=_KINDS.get(kind, kind),
        model=str(raw.get("model") or ""),
        ip=str(raw.get("ip") or ""),
        state=state,
        healthy=state == "connected" and not raw.get("disabled", False),
        uptime_seconds=_int(raw.get("uptime")) if state == "connected" else 0,
        firmware=str(raw.get("version") or ""),
        upgrade_available=upgrade or None,
        clients=_int(raw.get("num_sta")),
        last_seen=_when(raw.get("last_seen")),
    )


def wlan(raw: dict[str, Any]) -> WlanInfo:
    # x_passphrase is in the same object; it never leaves this function.
    return WlanInfo(
        id=str(raw.get("_id", "")),
        name=str(raw.get("name", "")),
        enabled=bool(raw.get("enabled", False)),
        security=str(raw.get("security") or ""),
        guest=bool(raw.get("is_guest", False)),
        hidden=bool(raw.get("hide_ssid", False)),
    )


def port_forward(raw: dict[str, Any]) -> PortForwardInfo:
    return PortForwardInfo(
        id=str(raw.get("_id", "")),
        name=str(raw.get("name", "")),
        enabled=bool(raw.get("enabled", False)),
        protocol=str(raw.get("proto") or ""),
        outside_port=str(raw.get("dst_port") or ""),
        forward_to=str(raw.get("fwd") or ""),
        forward_port=str(raw.get("fwd_port") or ""),
        allowed_from=str(raw.get("src") or "any"),
        interface=str(raw.get("pfwd_interface") or ""),
    )
