"""Who may read /healthz and /metrics: an address in HLHT_OPS_NETWORKS; everyone else is answered 404, as if the
endpoints did not exist (they name the portal's parts and their state).

The address is REMOTE_ADDR. X-Forwarded-For is a header anyone can write, so it is believed only when REMOTE_ADDR
is one of HLHT_OPS_PROXIES, and then only its last hop that is not itself such a proxy (the address the trusted
proxy saw; whatever a client wrote in front of it is ignored).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from apps.core.conf import conf

Address = IPv4Address | IPv6Address


def _parse(text: str) -> Address | None:
    try:
        address = ip_address(text.strip().split("%")[0])  # a scoped IPv6 address (fe80::1%eth0) loses its zone
    except ValueError:
        return None
    # A server listening on [::] sees IPv4 clients as ::ffff:a.b.c.d; the networks are written as IPv4.
    mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
    return mapped or address


def _among(address: Address, networks: tuple[Any, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_address(request: HttpRequest) -> Address | None:
    """The address a request came from, by the rules above (None: not an address)."""
    address = _parse(request.META.get("REMOTE_ADDR") or "")
    proxies = conf().ops.proxies
    if address is None or not proxies or not _among(address, proxies):
        return address
    for hop in reversed((request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")):
        seen = _parse(hop)
        if seen is None:
            return None  # a hop that is no address: the chain cannot be trusted
        if not _among(seen, proxies):
            return seen
    return address


def ops_allowed(request: HttpRequest) -> bool:
    address = client_address(request)
    return address is not None and _among(address, conf().ops.networks)


def ops_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view only the operations network sees (404 to anyone else)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not ops_allowed(request):
            raise Http404
        return view(request, *args, **kwargs)

    return guarded
