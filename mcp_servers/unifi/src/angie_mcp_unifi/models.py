"""What the UniFi tools return: clients, devices, WLANs, port forwards, a change's result."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = ("ActionResult", "ClientInfo", "DeviceInfo", "PortForwardInfo", "WlanInfo")


class ClientInfo(BaseModel):
    mac: str = Field(description="The client's MAC address, its id for the other tools.")
    name: str = Field(description="The name given on the controller, else its host name, else ''.")
    hostname: str = Field(description="The host name the device announced (DHCP); may be ''.")
    ip: str = Field(description="Its current IP address; '' when offline or unknown.")
    online: bool = Field(description="Whether it is connected now.")
    wired: bool = Field(description="True for a cable, false for Wi-Fi.")
    network: str = Field(description="The Wi-Fi network (SSID) of a wireless client; '' if wired.")
    guest: bool = Field(description="Whether it is on a guest network.")
    blocked: bool = Field(description="Whether the controller blocks it from the network.")
    first_seen: datetime | None = Field(description="When the controller first saw it (UTC).")
    last_seen: datetime | None = Field(description="When it was last seen (UTC).")
    connected_since: datetime | None = Field(
        description="When its current connection began (UTC); null when offline."
    )
    received_bytes: int = Field(description="Bytes it received over this connection.")
    sent_bytes: int = Field(description="Bytes it sent over this connection.")


class DeviceInfo(BaseModel):
    mac: str = Field(description="The device's MAC address, its id for restart_device.")
    name: str = Field(description="Its name on the controller.")
    kind: str = Field(description="access point, switch, gateway, … or the raw UniFi type.")
    model: str = Field(description="The hardware model code, e.g. U6LR, USW24P, UDMPRO.")
    ip: str = Field(description="Its management IP address; '' when unknown.")
    state: str = Field(
        description="connected, disconnected, upgrading, provisioning, heartbeat_missed, "
        "adopting, … (lower case)."
    )
    healthy: bool = Field(description="True when connected and not disabled.")
    uptime_seconds: int = Field(description="Seconds since it last started; 0 when offline.")
    firmware: str = Field(description="The firmware version it runs.")
    upgrade_available: str | None = Field(
        description="The firmware version it can upgrade to, or null when it is up to date."
    )
    clients: int = Field(description="Clients connected through it (access points, switches).")
    last_seen: datetime | None = Field(description="When the controller last heard from it (UTC).")


class WlanInfo(BaseModel):
    id: str = Field(description="The WLAN's id on the controller.")
    name: str = Field(description="The network's name (SSID).")
    enabled: bool = Field(description="Whether it is broadcast now.")
    security: str = Field(description="open, wpapsk, wpaeap, …")
    guest: bool = Field(description="Whether it is a guest network.")
    hidden: bool = Field(description="Whether the SSID is hidden.")


class PortForwardInfo(BaseModel):
    id: str = Field(description="The rule's id on the controller.")
    name: str = Field(description="The rule's name.")
    enabled: bool = Field(description="Whether the rule is active.")
    protocol: str = Field(description="tcp, udp or tcp_udp.")
    outside_port: str = Field(description="The port (or range) opened on the internet side.")
    forward_to: str = Field(description="The inside IP address it forwards to.")
    forward_port: str = Field(description="The inside port (or range).")
    allowed_from: str = Field(description="The source allowed: 'any' or an address/range.")
    interface: str = Field(description="The WAN interface it applies to.")


class ActionResult(BaseModel):
    action: str = Field(description="What was done, e.g. 'block_client'.")
    target: str = Field(description="The client's, device's or WLAN's name.")
    target_id: str = Field(description="Its MAC address or id.")
    done: bool = Field(description="True: the controller accepted the command.")
    detail: str = Field(description="One sentence on what follows (e.g. a restart's downtime).")
