"""WS-Discovery for ONVIF cameras, written here rather than taken from a library.

Two ways to find cameras, both sending the same SOAP ``Probe`` over UDP 3702
from one socket bound to a chosen interface address:

* a multicast Probe to 239.255.255.250 (TTL 1, the local segment), and
* a unicast sweep of configured CIDR ranges, for cameras on routed VLANs
  that never hear the multicast.

Why not the PyPI ``wsdiscovery`` package: measured against ipycam, it rejects
a ProbeMatch that lacks the ProbeMatches wrapper and refuses to send on
loopback. Real cameras are not always compliant either, so replies are parsed
tolerantly: any element named ProbeMatch or Hello, in any namespace, with or
without its wrapper; unescaped spaces in scope URIs; and, for a reply that is
not even well-formed XML, the fields picked out of the text.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from urllib.parse import unquote

from cameras.onvif.models import DiscoveredDevice

MULTICAST_GROUP = "239.255.255.250"
PORT = 3702
MAX_DATAGRAM = 65535
_ONVIF_SCOPE = "onvif://www.onvif.org/"

PROBE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
    'xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
    "<s:Header>"
    "<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>"
    "<a:MessageID>urn:uuid:{message_id}</a:MessageID>"
    "<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>"
    "</s:Header>"
    "<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>"
    "</s:Envelope>"
)


def probe_message(message_id: str | None = None) -> bytes:
    """A WS-Discovery Probe for ONVIF video transmitters."""
    return PROBE.format(message_id=message_id or uuid.uuid4()).encode()


def _local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _find_text(element: ET.Element, name: str) -> str:
    for child in element.iter():
        if _local(child.tag) == name and child.text:
            return child.text.strip()
    return ""


def split_scopes(text: str) -> tuple[str, ...]:
    """Split a Scopes list, re-joining words that belong to the previous URI.

    Scopes are space-separated URIs, so spaces inside must be escaped; some
    cameras (ipycam among them) put a display name with spaces in as it is.
    """
    scopes: list[str] = []
    for word in text.split():
        if "://" in word or ":" in word.split("/", 1)[0] or not scopes:
            scopes.append(word)
        else:
            scopes[-1] = f"{scopes[-1]} {word}"
    return tuple(scopes)


def scope_values(scopes: Iterable[str], key: str) -> list[str]:
    """The values of ONVIF scopes ``onvif://www.onvif.org/<key>/...``, unescaped."""
    prefix = f"{_ONVIF_SCOPE}{key}/"
    return [unquote(s[len(prefix):]) for s in scopes if s.lower().startswith(prefix.lower())]


def _device(address: str, endpoint: str, xaddrs: str, scopes: str, types: str) -> DiscoveredDevice:
    scope_list = split_scopes(scopes)
    names = scope_values(scope_list, "name")
    hardware = scope_values(scope_list, "hardware")
    location = scope_values(scope_list, "location")
    return DiscoveredDevice(
        endpoint=endpoint or f"urn:address:{address}",
        xaddrs=tuple(x for x in xaddrs.split() if x.lower().startswith(("http://", "https://"))),
        scopes=scope_list,
        types=tuple(types.split()),
        address=address,
        name=names[0] if names else None,
        hardware=hardware[0] if hardware else None,
        location=", ".join(location) or None,
    )


_TEXT_FIELD = r"<(?:[\w.-]+:)?{name}\b[^>]*>(.*?)</(?:[\w.-]+:)?{name}>"


def _from_text(text: str, name: str) -> str:
    match = re.search(_TEXT_FIELD.format(name=name), text, re.DOTALL)
    return match.group(1).strip() if match else ""


def parse_reply(data: bytes, address: str) -> list[DiscoveredDevice]:
    """Devices announced in one UDP reply; [] for anything that is not a ProbeMatch/Hello."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return []  # never expand entities from the network
    try:
        root = ET.fromstring(data)  # noqa: S314 (no DOCTYPE, see above)
    except ET.ParseError:
        text = data.decode("utf-8", errors="replace")
        xaddrs = _from_text(text, "XAddrs")
        if not xaddrs:
            return []
        return [_device(address, _from_text(text, "Address"), xaddrs,
                        _from_text(text, "Scopes"), _from_text(text, "Types"))]
    matches = [el for el in root.iter() if _local(el.tag) in ("ProbeMatch", "Hello")]
    if not matches and _find_text(root, "XAddrs"):
        matches = [root]  # no ProbeMatch element at all, but the fields are there
    found = []
    for match in matches:
        xaddrs = _find_text(match, "XAddrs")
        if not xaddrs:
            continue
        found.append(_device(address, _find_text(match, "Address"), xaddrs,
                             _find_text(match, "Scopes"), _find_text(match, "Types")))
    return found


def sweep_targets(cidrs: Sequence[str], max_hosts: int) -> list[str]:
    """Every host address in the ranges; a ValueError names a bad or oversized range."""
    targets: list[str] = []
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError as exc:
            raise ValueError(f"discovery range {cidr!r}: {exc}") from exc
        if network.version != 4:
            raise ValueError(f"discovery range {cidr!r}: WS-Discovery sweep is IPv4 only")
        hosts = [network.network_address] if network.num_addresses == 1 else network.hosts()
        targets.extend(str(h) for h in hosts)
        if len(targets) > max_hosts:
            raise ValueError(f"discovery ranges cover more than {max_hosts} hosts")
    return targets


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.replies: list[tuple[bytes, str]] = []

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        """Keep every reply with its sender; parsing happens after listening ends."""
        self.replies.append((data[:MAX_DATAGRAM], str(addr[0])))


def _socket(interface: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setblocking(False)
        sock.bind((interface, 0))
        # TTL 1 keeps the multicast on the local segment, as WS-Discovery requires.
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        if interface != "0.0.0.0":  # noqa: S104 (comparison, not a bind)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
    except OSError:
        sock.close()
        raise
    return sock


async def discover(
    *,
    interface: str = "0.0.0.0",  # noqa: S104 (the default interface, chosen by the caller)
    cidrs: Sequence[str] = (),
    timeout: float = 3.0,
    multicast: bool = True,
    max_hosts: int = 4096,
    sends_per_second: float = 500.0,
) -> list[DiscoveredDevice]:
    """Probe by multicast and/or a unicast sweep; collect replies for ``timeout`` seconds."""
    targets = sweep_targets(cidrs, max_hosts)
    message = probe_message()
    loop = asyncio.get_running_loop()
    transport, collector = await loop.create_datagram_endpoint(_Collector, sock=_socket(interface))
    try:
        if multicast:
            transport.sendto(message, (MULTICAST_GROUP, PORT))
        pause = 1.0 / sends_per_second
        for host in targets:
            transport.sendto(message, (host, PORT))
            await asyncio.sleep(pause)  # pace the sweep: small switches drop bursts
        await asyncio.sleep(timeout)
    finally:
        transport.close()
    return merge(d for data, addr in collector.replies for d in parse_reply(data, addr))


def merge(devices: Iterable[DiscoveredDevice]) -> list[DiscoveredDevice]:
    """One entry per endpoint (a camera answers multicast and unicast alike)."""
    by_endpoint: dict[str, DiscoveredDevice] = {}
    for device in devices:
        seen = by_endpoint.get(device.endpoint)
        if seen is None:
            by_endpoint[device.endpoint] = device
            continue
        xaddrs = seen.xaddrs + tuple(x for x in device.xaddrs if x not in seen.xaddrs)
        scopes = seen.scopes + tuple(s for s in device.scopes if s not in seen.scopes)
        by_endpoint[device.endpoint] = DiscoveredDevice(
            seen.endpoint, xaddrs, scopes, seen.types, seen.address,
            seen.name or device.name, seen.hardware or device.hardware,
            seen.location or device.location,
        )
    return sorted(by_endpoint.values(), key=lambda d: (d.address, d.endpoint))
