"""Which addresses the portal may call, checked on every connection: a public unicast address, resolved once.

The portal POSTs to endpoints that applicants and operators' managers typed, from inside the city's network. A
check made when the form was submitted proves nothing at connect time: the name may since resolve elsewhere (DNS
rebinding). So the connection itself resolves the name once, refuses it if any answer is not a public unicast address,
and connects to exactly the addresses it checked. Redirects are never followed (PeerClient), so a peer cannot send
the portal's envelope on to another address either.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

__all__ = ["AddressRefused", "address_problem", "peer_session"]

# Global by Python's table, but not a host of their own: NAT64 (RFC 6052, and RFC 8215's local-use prefix) and 6to4
# (RFC 3056) embed an IPv4 address a gateway connects to, which may be a private one.
_TRANSLATED = tuple(ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16"))


def address_problem(address: str) -> str | None:
    """Why the portal must not connect to the IP `address` (in Chinese), or None for a public unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (`fe80::1%eth0`) names no other host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast:
        return "组播地址"
    if any(ip in network for network in _TRANSLATED):
        return "NAT64 或 6to4 转换地址"
    if not ip.is_global:
        return "内网、本机、链路本地或保留地址"
    return None


class _Refused(Exception):
    """Raised inside urllib3, which would retry and wrap any OSError as a transient connection failure."""


class AddressRefused(requests.exceptions.InvalidURL):
    """The peer's host name resolves to an address the portal does not call (a configuration error, not transient)."""


class _CheckedConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, 0, socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            problem = address_problem(address)
            if problem is not None:
                raise _Refused(f"{self.host} 解析为 {address}（{problem}），平台不会调用")
        # Connect to the addresses just checked, by number: a second resolution of the name could answer another.
        name, failure = self._dns_host, None
        try:
            for address in addresses:
                self._dns_host = address
                try:
                    return super()._new_conn()
                except (NewConnectionError, ConnectTimeoutError) as exc:
                    failure = exc
        finally:
            self._dns_host = name
        raise failure or NameResolutionError(self.host, self, socket.gaierror("no address"))


class _CheckedHTTPSConnection(_CheckedConnection, HTTPSConnection):
    """TLS as usual: the certificate and SNI are checked against the host name, the socket is the checked address."""


class _CheckedPool(HTTPConnectionPool):
    ConnectionCls = _CheckedConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedPool, "https": _CheckedHTTPSPool}

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # Through a proxy the proxy would connect, unchecked; the session ignores the environment's proxies, and an
        # explicit one is refused rather than trusted.
        raise AddressRefused(f"不经代理调用运营商平台：{proxy}")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        try:
            return super().send(request, *args, **kwargs)
        except _Refused as exc:
            raise AddressRefused(str(exc), request=request) from exc


def peer_session(*, public_only: bool) -> requests.Session:
    """A session for calling peers. `public_only`: every connection is checked (address_problem) when it is made;
    otherwise loopback and private addresses are allowed too (tests, the demo's simulators). Environment proxies are
    ignored either way: the portal calls operators directly."""
    session = requests.Session()
    session.trust_env = False
    if public_only:
        adapter = _CheckedAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session
