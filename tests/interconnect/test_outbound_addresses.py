"""The portal's outbound calls follow no redirect and check, on every connection, the address they connect to:
a 307 does not re-POST the envelope elsewhere, a name that resolves to a private address since the form was
submitted (DNS rebinding) is refused, and NAT64, 6to4 and multicast addresses count as internal."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.interconnect.client import operator_client
from apps.interconnect.services import operator_provision
from apps.onboarding.addresses import endpoint_problem
from apps.operators.models import Operator
from apps.protocol import MemoryTokenStore, PeerClient, PermanentError
from apps.protocol.addresses import address_problem

from .conftest import keyset

PEER = "MA59CU773"
KEYS = {"OperatorSecret": "a" * 16, "DataSecret": "b" * 16, "DataSecretIV": "c" * 16, "SigSecret": "d" * 16}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer: tuple[int, dict[str, str]]) -> None:
        self.answer, self.hits = answer, []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.hits.append((self.path, self.rfile.read(length)))
        status, headers = self.server.answer
        self.send_response(status)
        for name, value in {**headers, "Content-Length": "2"}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


@contextmanager
def _serving(status: int = 200, headers: dict[str, str] | None = None) -> Iterator[_Server]:
    server = _Server((status, headers or {}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _url(server: _Server, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{server.server_address[1]}/evcs/v1/"


# -- redirects -----------------------------------------------------------------------------------------------------


def test_a_redirect_is_a_journalled_failure_and_nothing_is_sent_where_it_points():
    records = []
    with _serving() as target, _serving(307, {"Location": _url(target) + "query_token"}) as redirector:
        client = PeerClient(_url(redirector), "MA01HLHT0", keyset(KEYS), MemoryTokenStore(),
                            on_exchange=records.append)  # fmt: skip
        with pytest.raises(PermanentError, match="redirect"):
            client.authenticate()
        assert len(redirector.hits) == 1
        assert target.hits == []  # followed, the envelope would have been POSTed here
    (record,) = records
    assert record.http_status == 307 and "redirect" in record.error and _url(target) in record.error


@pytest.mark.django_db
def test_the_portals_client_follows_no_redirect(settings):
    operator_provision(operator_id=PEER, name="对端运营商")
    with _serving() as target, _serving(308, {"Location": _url(target)}) as redirector:
        Operator.objects.filter(pk=PEER).update(endpoint_url=_url(redirector))
        with operator_client(Operator.objects.get(pk=PEER)) as client, pytest.raises(PermanentError, match="308"):
            client.call("echo", {})
        assert target.hits == []


# -- the address, checked on connecting ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_private_endpoint_is_refused_when_connecting(settings, host):
    settings.HLHT_ALLOW_PRIVATE_ENDPOINTS = False
    operator_provision(operator_id=PEER, name="对端运营商")
    with _serving() as listener:
        # Stored directly, as an endpoint entered before the rule or while private endpoints were allowed.
        Operator.objects.filter(pk=PEER).update(endpoint_url=_url(listener, host))
        with operator_client(Operator.objects.get(pk=PEER)) as client, pytest.raises(PermanentError, match="不会调用"):
            client.call("echo", {})
        assert listener.hits == []


@pytest.fixture
def rebinding_dns(monkeypatch):
    """`rebind.example` as an attacker's name server answers it: a public address first, loopback afterwards."""
    real, answers = socket.getaddrinfo, ["93.184.216.34"]

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        address = answers.pop(0) if answers else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.django_db
def test_dns_rebinding_after_the_form_check_is_refused_at_connect_time(settings, rebinding_dns):
    settings.HLHT_ALLOW_PRIVATE_ENDPOINTS = False
    operator_provision(operator_id=PEER, name="对端运营商")
    with _serving() as listener:
        url = _url(listener, "rebind.example")
        assert endpoint_problem(url) is None  # the form's check saw a public address
        Operator.objects.filter(pk=PEER).update(endpoint_url=url)
        with operator_client(Operator.objects.get(pk=PEER)) as client, pytest.raises(PermanentError, match="127.0.0.1"):
            client.call("echo", {})
        assert listener.hits == []


@pytest.mark.django_db
def test_private_endpoints_stay_callable_where_the_setting_allows_them(settings):
    settings.HLHT_ALLOW_PRIVATE_ENDPOINTS = True  # tests and the demo's simulators on 127.0.0.1
    operator_provision(operator_id=PEER, name="对端运营商")
    with _serving() as listener:
        Operator.objects.filter(pk=PEER).update(endpoint_url=_url(listener))
        with operator_client(Operator.objects.get(pk=PEER)) as client, pytest.raises(PermanentError):
            client.call("echo", {})  # `{}` is no envelope; what matters is that the request arrived
        assert len(listener.hits) == 1


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "0.0.0.0",  # noqa: S104
     "255.255.255.255", "224.0.0.1", "239.255.255.250", "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1",
     "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "64:ff9b::808:808", "64:ff9b:1::a00:1",
     "2002:7f00:1::1", "2002:808:808::1", "ff02::1", "ff0e::1", "2001::1", "2001:db8::1"],
)  # fmt: skip
def test_internal_translated_and_multicast_addresses_are_refused(address):
    assert address_problem(address) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_unicast_addresses_are_allowed(address):
    assert address_problem(address) is None


@pytest.mark.parametrize("url", ["http://[64:ff9b::7f00:1]/evcs/v1/", "http://[2002:7f00:1::1]/evcs/v1/",
                                 "http://224.0.0.1/evcs/v1/", "http://[ff0e::1]/evcs/v1/"])  # fmt: skip
def test_the_form_refuses_nat64_6to4_and_multicast(settings, url):
    settings.HLHT_ALLOW_PRIVATE_ENDPOINTS = False
    assert "内部地址" in endpoint_problem(url)
