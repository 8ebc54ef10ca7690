"""The portal calling an operator: a real local HTTP peer, tokens shared through the database, journal rows."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from apps.interconnect.client import DatabaseTokenStore, NotConfigured, operator_client
from apps.interconnect.models import Exchange, PeerToken
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.protocol import PermanentError, TokenRejected, TransientError
from tests.protocol.peer_server import PeerServer

from .conftest import keyset

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def peer(db):
    keys = operator_provision(operator_id="MA59CU773", name="对端运营商")["outbound"]
    with PeerServer(keyset(keys), operator_id="MA01HLHT0") as server:
        Operator.objects.filter(pk="MA59CU773").update(endpoint_url=server.base_url)
        yield server


def test_call_gets_a_token_once_and_journals_both_exchanges(peer):
    operator = Operator.objects.get(pk="MA59CU773")
    with operator_client(operator) as client:
        assert client.call("echo", {"A": 1})["Echo"] == {"A": 1}
    with operator_client(operator) as client:  # a second client (another worker) reuses the stored token
        client.call("echo", {"A": 2})
    assert len(peer.state.calls("query_token")) == 1
    stored = PeerToken.objects.get()
    assert stored.token.startswith("gcm1:")  # sealed at rest
    rows = list(Exchange.objects.order_by("id"))
    assert [r.interface for r in rows] == ["query_token", "echo", "echo"]
    assert all(r.direction == "out" and r.operator_id == "MA59CU773" and r.ret == 0 for r in rows)
    assert rows[0].request["OperatorSecret"] == "******"


def test_token_rejected_once_reauthenticates(peer):
    operator = Operator.objects.get(pk="MA59CU773")
    with operator_client(operator) as client:
        client.call("echo", {"A": 1})
        peer.state.modes.append("4002")
        assert client.call("echo", {"A": 2})["Echo"] == {"A": 2}
    assert len(peer.state.calls("query_token")) == 2


@pytest.mark.parametrize(
    ("mode", "error"), [("busy", TransientError), ("500", TransientError), ("badsig", PermanentError)]
)
def test_failures_are_typed_and_journalled(peer, mode, error):
    operator = Operator.objects.get(pk="MA59CU773")
    with operator_client(operator) as client:
        client.call("echo", {})
        peer.state.modes.append(mode)
        with pytest.raises(error):
            client.call("echo", {})
    assert Exchange.objects.filter(interface="echo").count() == 2


def test_concurrent_workers_refresh_once(peer):
    operator = Operator.objects.get(pk="MA59CU773")

    def work(n):
        try:
            with operator_client(operator) as client:
                return client.call("echo", {"N": n})["Echo"]["N"]
        finally:
            connection.close()

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(work, range(6))) == list(range(6))
    assert len(peer.state.calls("query_token")) == 1


def test_not_configured(db):
    operator_provision(operator_id="MA59CU773", name="对端运营商")
    with pytest.raises(NotConfigured, match="接口地址"):
        operator_client(Operator.objects.get(pk="MA59CU773"))


def test_database_token_store_roundtrip(db):
    from django.utils import timezone

    store = DatabaseTokenStore()
    assert store.get("k") is None
    expires = timezone.now()
    store.set("k", "tok", expires)
    assert store.get("k") == ("tok", expires)
    store.delete("k")
    assert store.get("k") is None


@pytest.mark.parametrize("down", [False, True], ids=["refused", "unreachable"])
def test_failed_query_token_is_journalled(peer, down):
    """The token store's lock is a transaction on PostgreSQL; a failed query_token under it still leaves its row."""
    operator = Operator.objects.get(pk="MA59CU773")
    if down:
        with socket.socket() as closed:  # a port nothing listens on: the connection is refused
            closed.bind(("127.0.0.1", 0))
            operator.endpoint_url = f"http://127.0.0.1:{closed.getsockname()[1]}/evcs/v1/"
    else:
        peer.state.token_mode = "fail"
    with operator_client(operator) as client, pytest.raises(TokenRejected if not down else TransientError):
        client.call("echo", {})
    row = Exchange.objects.get()
    assert (row.interface, row.direction, row.operator_id) == ("query_token", "out", "MA59CU773")
    assert row.request["OperatorSecret"] == "******"
    if down:
        assert row.ret is None and "ConnectionError" in row.error
    else:  # the exchange went through; its answer is the refusal
        assert row.ret == 0 and row.response["SuccStat"] == 1 and row.response["FailReason"] == 2
