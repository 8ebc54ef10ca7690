"""Whether an endpoint an applicant or an operator's manager typed may be called by the portal: a public address.

The conformance check (and later every pull) POSTs to it from inside the city's network, so a loopback, private,
link-local or reserved address would let anyone who can fill in a form probe that network through the portal.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


def endpoint_problem(url: str) -> str | None:
    """Why the portal should not call `url`, in Chinese, or None (HLHT_ALLOW_PRIVATE_ENDPOINTS allows any address)."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read: 99999 raises ValueError here
    except ValueError:
        return "端口应在 1 到 65535 之间"
    if settings.HLHT_ALLOW_PRIVATE_ENDPOINTS:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "应为 http 或 https 地址"
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return f"无法解析主机名 {parts.hostname}"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return f"{parts.hostname} 指向内部地址 {address}，平台不会调用内网、本机或保留地址"
    return None
