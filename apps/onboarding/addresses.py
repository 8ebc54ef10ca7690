"""Whether an endpoint an applicant or an operator's manager typed may be called by the portal: a public address.

The conformance check (and later every pull) POSTs to it from inside the city's network, so a loopback, private,
link-local or reserved address would let anyone who can fill in a form probe that network through the portal.
This is the early answer on the form; every connection the portal makes checks again (apps/protocol/addresses.py,
the one rule of what may be called), since the name may resolve elsewhere by then.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from apps.core.conf import conf
from apps.protocol.addresses import address_problem


def endpoint_problem(url: str) -> str | None:
    """Why the portal should not call `url`, in Chinese, or None (HLHT_ALLOW_PRIVATE_ENDPOINTS allows any address)."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read: 99999 raises ValueError here
    except ValueError:
        return "端口应在 1 到 65535 之间"
    if conf().client.allow_private_endpoints:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "应为 http 或 https 地址"
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return f"无法解析主机名 {parts.hostname}"
    for info in infos:
        problem = address_problem(str(info[4][0]))
        if problem is not None:
            return f"{parts.hostname} 指向内部地址 {info[4][0]}（{problem}），平台不会调用"
    return None
