"""Hostile bytes through the one pipeline, as an attacker would send them: every answer is a JSON envelope with the
right Ret, every exchange leaves a journal row, and nothing a peer sends reaches the database unescaped.

CI runs these on PostgreSQL, which refuses NUL in text and jsonb and lone surrogates in jsonb: the defects they
guard against only showed there (SQLite stores both).
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from apps.interconnect.models import AccessToken, Exchange, SeenEnvelope
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.protocol import Ret, build_request
from apps.protocol.names import Interface
from apps.protocol.text import safe_text
from apps.stations.models import ConnectorStatus, PendingConnectorStatus
from tests import factories
from tests.caller import OPERATOR_ID, Caller, keyset

pytestmark = pytest.mark.django_db

PUSH = Interface.NOTIFICATION_STATION_STATUS


@pytest.fixture
def pusher(caller) -> Caller:
    caller.login()
    station = factories.station(Operator.objects.get(pk=OPERATOR_ID), "S1")
    factories.connector(factories.equipment(station, "E1"), "C1")
    return caller


def _envelope(answer) -> dict:
    assert answer.status == 200
    assert set(answer.raw) == {"Ret", "Msg", "Data", "Sig"}
    return answer.raw


def _last_row() -> Exchange:
    return Exchange.objects.order_by("-id").first()


# -- 1. an OperatorID with NUL: the refusal path must not take it to the database ----------------------------------


@pytest.mark.parametrize("operator_id", ["MA0PROBE\u0000", "\u0000" * 9, "MA0PROBE\ud800", "MA0PROBE\n"])
def test_an_operator_id_with_nul_or_a_surrogate_is_4003_unsigned_and_journalled(caller, operator_id):
    env = caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": "x"}, OperatorID=operator_id)
    body = json.dumps(env).encode()  # ASCII with \u escapes: the JSON a peer can send
    response = caller.post_raw(Interface.QUERY_TOKEN, body)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    answer = json.loads(response.content)
    assert answer["Ret"] == Ret.PARAMETERS and answer["Sig"] == ""
    assert "OperatorID" in answer["Msg"]
    row = _last_row()
    assert row.ret == Ret.PARAMETERS and row.operator is None
    assert row.claimed_operator_id == safe_text(operator_id)  # kept, made storable


def test_an_operator_id_with_nul_and_a_field_missing_is_4003_unsigned(caller):
    # The body re-read on the refusal path (to sign with the caller's keys) is where the NUL reached psycopg2.
    env = caller.envelope({}, OperatorID="MA0PROBE\u0000")
    del env["Sig"]
    response = caller.post_raw(Interface.QUERY_TOKEN, json.dumps(env))
    answer = json.loads(response.content)
    assert (response.status_code, answer["Ret"], answer["Sig"]) == (200, Ret.PARAMETERS, "")
    assert "Sig" in answer["Msg"]
    assert _last_row().claimed_operator_id == "MA0PROBE\\x00"


# -- 2. a ConnectorID with NUL or a lone surrogate: refused at the schema, naming the field ------------------------


@pytest.mark.parametrize(("raw", "shown"), [("C1\\u0000", "U+0000"), ("\\ud800x", "U+D800"), ("C\\u001b1", "U+001B")])
def test_a_connector_id_with_a_control_character_or_surrogate_is_4004_naming_it(pusher, raw, shown):
    text = '{"ConnectorStatusInfo":{"ConnectorID":"' + raw + '","Status":1}}'  # the JSON escape, as sent
    answer = pusher.call(PUSH, text)
    envelope = _envelope(answer)
    assert envelope["Ret"] == Ret.BUSINESS
    assert "ConnectorStatusInfo.ConnectorID" in envelope["Msg"] and shown in envelope["Msg"]
    assert not PendingConnectorStatus.objects.exists() and not ConnectorStatus.objects.exists()
    row = _last_row()
    assert row.ret == Ret.BUSINESS and row.interface == PUSH
    stored = row.request["ConnectorStatusInfo"]["ConnectorID"]
    assert "\x00" not in stored and ("\\x" in stored or "\\u" in stored)


# -- 3. NUL anywhere else in Data is journalled (escaped), and an interface name with NUL gets an envelope ---------


def test_a_nul_in_an_extra_key_or_value_is_accepted_and_journalled(pusher):
    payload = {"ConnectorStatusInfo": {"ConnectorID": "C1", "Status": 1}, "Extra\u0000": "x\u0000y", "S": "\ud800"}
    answer = pusher.call(PUSH, json.dumps(payload))  # extra keys are not the spec's: ignored, as the spec allows
    assert _envelope(answer)["Ret"] == Ret.OK and answer.data == {"Status": 0}
    assert ConnectorStatus.objects.get().status == 1
    row = _last_row()
    assert (row.ret, row.interface, row.operator_id) == (Ret.OK, PUSH, OPERATOR_ID)
    assert row.request["Extra\\x00"] == "x\\x00y" and row.request["S"] == "\\ud800"
    assert Exchange.objects.filter(interface=PUSH, ret=Ret.OK).count() == 1  # every accepted push has its row


@pytest.mark.parametrize("path", ["query%00token", "query_token%00", "%ed%a0%80", "a/b", "a/b/c/", "", "%0a"])
def test_any_path_under_the_prefix_is_an_envelope(caller, path):
    before = Exchange.objects.count()
    response = caller.post_raw(path, json.dumps(caller.envelope({"OperatorID": OPERATOR_ID})))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    answer = json.loads(response.content)
    assert answer["Ret"] == Ret.PARAMETERS and answer["Sig"]  # the caller is known: the refusal is signed
    assert "不支持的接口" in answer["Msg"]
    assert Exchange.objects.count() == before + 1
    assert "\x00" not in _last_row().interface


def test_the_prefix_without_its_slash_is_an_envelope(caller):
    response = caller.client.post("/evcs/v1", data=b"", content_type="application/json")
    assert response.status_code == 200 and json.loads(response.content)["Ret"] == Ret.PARAMETERS


# -- 4. Content-Length that is not a number ----------------------------------------------------------------------


def test_a_content_length_that_is_not_a_number_is_4003(caller):
    response = caller.client.generic(
        "POST", "/evcs/v1/query_token", data=b"{}", content_type="application/json", CONTENT_LENGTH="abc"
    )
    answer = json.loads(response.content)
    assert (response.status_code, answer["Ret"], answer["Sig"]) == (200, Ret.PARAMETERS, "")
    assert "Content-Length" in answer["Msg"]
    assert _last_row().ret == Ret.PARAMETERS


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("length", ["abc", "-5", "1e3"])
def test_a_content_length_that_is_not_a_number_over_real_http(live_server, length):
    url = urlsplit(live_server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("POST", "/evcs/v1/query_token")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", length)
    conn.endheaders()
    response = conn.getresponse()
    answer = json.loads(response.read())
    conn.close()
    assert (response.status, answer["Ret"], answer["Sig"]) == (200, Ret.PARAMETERS, "")


# -- 5. bounded batches --------------------------------------------------------------------------------------------


def test_a_push_of_26000_unknown_connectors_is_refused_whole_without_a_pending_row(pusher):
    items = [{"ConnectorID": f"X{n:07d}", "Status": 1} for n in range(26_000)]
    answer = pusher.call(PUSH, {"ConnectorStatusInfos": items})
    envelope = _envelope(answer)
    assert envelope["Ret"] == Ret.BUSINESS
    assert "ConnectorStatusInfos" in envelope["Msg"] and "500" in envelope["Msg"] and "26000" in envelope["Msg"]
    assert not PendingConnectorStatus.objects.exists()
    assert _last_row().ret == Ret.BUSINESS


@override_settings(HLHT_MAX_PUSH_ITEMS=3)
def test_the_item_bound_is_a_setting(pusher):
    items = [{"ConnectorID": f"C{n}", "Status": 1} for n in range(4)]
    assert pusher.call(PUSH, {"ConnectorStatusInfos": items}).ret == Ret.BUSINESS
    assert pusher.call(PUSH, {"ConnectorStatusInfos": items[:3]}).ret == Ret.OK


@override_settings(HLHT_MAX_PENDING_STATUSES=3)
def test_pending_rows_per_operator_are_bounded(pusher):
    def push(*ids):
        return pusher.call(PUSH, {"ConnectorStatusInfos": [{"ConnectorID": i, "Status": 1} for i in ids]})

    assert push("C1", "U1", "U2").ret == Ret.OK  # one known, two pending
    refused = push("U3", "U4")
    assert refused.ret == Ret.BUSINESS and "上限3" in refused.envelope.msg and "ConnectorID" in refused.envelope.msg
    assert PendingConnectorStatus.objects.count() == 2  # the refused batch left nothing
    assert push("C1", "U3").ret == Ret.OK  # room for one more
    assert PendingConnectorStatus.objects.count() == 3
    assert push("C1").ret == Ret.OK  # known connectors are never refused for the bound


def test_the_replay_mark_of_a_refused_batch_is_not_kept(pusher):
    items = [{"ConnectorID": f"X{n}", "Status": 1} for n in range(501)]
    env = build_request(OPERATOR_ID, {"ConnectorStatusInfos": items}, pusher.keys).to_dict()
    assert pusher.call(PUSH, envelope=env).ret == Ret.BUSINESS
    assert not SeenEnvelope.objects.filter(sig=env["Sig"].upper()).exists()  # so the fixed batch may be resent


# -- found by review and probing: the refusal itself must be signable, the journal must take any depth ------------


def test_two_identical_lone_surrogates_are_4004_and_journalled(pusher):
    # The duplicate check once quoted the raw value in Msg; a lone surrogate cannot be signed (HTML 500, no row).
    text = '{"ConnectorStatusInfos":[{"ConnectorID":"\\ud800","Status":1},{"ConnectorID":"\\ud800","Status":1}]}'
    answer = pusher.call(PUSH, text)
    assert _envelope(answer)["Ret"] == Ret.BUSINESS and "U+D800" in answer.envelope.msg
    assert answer.envelope.sig  # signed: the caller is known
    assert _last_row().ret == Ret.BUSINESS


@pytest.mark.parametrize("where", ["extra", "known"])
def test_deeply_nested_data_is_4004_and_journalled(pusher, where):
    deep = "[" * 600 + "]" * 600
    inner = '{"ConnectorID":"C1","Status":1}' if where == "extra" else '{"ConnectorID":' + deep + ',"Status":1}'
    text = '{"ConnectorStatusInfo":' + inner + (',"X":' + deep if where == "extra" else "") + "}"
    answer = pusher.call(PUSH, text)
    assert _envelope(answer)["Ret"] == Ret.BUSINESS and "嵌套" in answer.envelope.msg
    assert not ConnectorStatus.objects.exists()
    assert _last_row().ret == Ret.BUSINESS


def test_a_deep_unknown_field_in_query_token_issues_no_token(caller):
    from apps.interconnect.models import AccessToken

    text = (
        '{"OperatorID":"' + OPERATOR_ID + '","OperatorSecret":"' + caller.keys.operator_secret + '","X":'
        + "[" * 600 + "]" * 600 + "}"
    )  # fmt: skip
    assert caller.call(Interface.QUERY_TOKEN, text).ret == Ret.BUSINESS
    assert not AccessToken.objects.exists()
    assert _last_row().interface == Interface.QUERY_TOKEN


def test_a_host_outside_allowed_hosts_still_gets_an_envelope(caller):
    body = json.dumps(caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret}))
    for host in ("evil.example.com", "", "[::1]", "127.0.0.1:8766, evil"):
        response = caller.client.post(
            "/evcs/v1/query_token", data=body, content_type="application/json", HTTP_HOST=host
        )
        assert response.status_code == 200 and response["Content-Type"].startswith("application/json"), host
        body = json.dumps(caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret}))
    assert Exchange.objects.filter(interface=Interface.QUERY_TOKEN, ret=Ret.OK).count() == 4


def test_a_base_url_ending_in_a_slash_is_served(caller):
    # (The test client reads "//evcs" as a host name, so the WSGI request is built by hand, as a server passes it.)
    import io

    from apps.interconnect.server import ProtocolMiddleware

    body = json.dumps(caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret}))
    for path in ("//evcs/v1/query_token", "///evcs/v1/query_token/"):
        request = _wsgi_request(io.BytesIO(body.encode()), PATH_INFO=path, CONTENT_LENGTH=str(len(body)))
        response = ProtocolMiddleware(lambda request: pytest.fail("not served as protocol"))(request)
        assert json.loads(response.content)["Ret"] == Ret.OK, path
        body = json.dumps(caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret}))


def _wsgi_request(body_stream, **environ):
    from django.core.handlers.wsgi import WSGIRequest
    from django.test import RequestFactory

    base = RequestFactory()._base_environ(PATH_INFO="/evcs/v1/query_token", REQUEST_METHOD="POST")
    base.update({"wsgi.input": body_stream, "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "", **environ})
    return WSGIRequest(base)


def test_a_chunked_body_decoded_by_the_server_is_read(caller):
    import io

    from apps.interconnect.server import endpoint

    body = json.dumps(caller.envelope({"OperatorID": OPERATOR_ID, "OperatorSecret": caller.keys.operator_secret}))
    request = _wsgi_request(
        io.BytesIO(body.encode()), HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input_terminated": True}
    )
    answer = json.loads(endpoint(request, "query_token").content)
    assert answer["Ret"] == Ret.OK and answer["Sig"]


@override_settings(HLHT_MAX_BODY_BYTES=100)
def test_a_chunked_body_over_the_limit_is_refused(caller):
    import io

    from apps.interconnect.server import endpoint

    request = _wsgi_request(io.BytesIO(b"x" * 500), HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input_terminated": True})
    answer = json.loads(endpoint(request, "query_token").content)
    assert answer["Ret"] == Ret.PARAMETERS and "100" in answer["Msg"]


def test_a_client_that_goes_away_mid_body_gets_an_envelope_and_a_row(caller):
    from apps.interconnect.server import endpoint

    class Reset:
        def read(self, *args):
            raise ConnectionResetError("Connection reset by peer")

        readline = read

    before = Exchange.objects.count()
    answer = json.loads(endpoint(_wsgi_request(Reset(), CONTENT_LENGTH="900"), "query_token").content)
    assert answer["Ret"] == Ret.PARAMETERS and "读取失败" in answer["Msg"]
    assert Exchange.objects.count() == before + 1


# -- a body beyond HLHT_MAX_BODY_BYTES only after a valid Bearer token of a charging operator --------------------------


class _CountingBody:
    """A request body that counts what the server read of it."""

    def __init__(self, size: int) -> None:
        self.size, self.taken = size, 0

    def read(self, n: int | None = -1) -> bytes:
        left = self.size - self.taken
        n = left if n is None or n < 0 else min(n, left)
        self.taken += n
        return b" " * n

    readline = read


def _post_large(authorization: str | None, *, chunked: bool = False, size: int = 24 * 1024 * 1024):
    from apps.interconnect.server import endpoint

    body = _CountingBody(size)
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    if chunked:
        headers.update(HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input_terminated": True})
    else:
        headers["CONTENT_LENGTH"] = str(size)
    request = _wsgi_request(body, PATH_INFO="/evcs/v1/check_charge_orders", **headers)
    return json.loads(endpoint(request, Interface.CHECK_CHARGE_ORDERS).content), body


def test_a_strangers_large_reconciliation_is_refused_unread(caller, settings):
    token = caller.login()
    consumer = Caller(client=caller.client, operator_id="CONSUMER1", keys=keyset(
        operator_provision(operator_id="CONSUMER1", name="第三方", kind="consumer")["inbound"]))  # fmt: skip
    consumer_token = consumer.login()
    expired = caller.login()
    AccessToken.objects.filter(pk=AccessToken.objects.order_by("-id").first().pk).update(expires_at=timezone.now())
    limit = str(settings.HLHT_MAX_BODY_BYTES)
    for authorization in (None, "", "Bearer forged", f"Bearer {expired}", token):  # a bare token without its flag
        for chunked in (False, True):
            answer, body = _post_large(authorization, chunked=chunked)
            assert answer["Ret"] == Ret.PARAMETERS and limit in answer["Msg"], (authorization, answer)
            assert answer["Sig"] == ""  # nobody known: unsigned, as every refusal of an unknown caller
            # Nothing read: the Content-Length refusal reads no byte; a chunked body at most the ordinary bound + 1.
            assert body.taken == (int(limit) + 1 if chunked else 0), (authorization, chunked, body.taken)
    # A third-party platform's valid token: known, so the refusal is signed with its keys, and still nothing read.
    answer, body = _post_large(f"Bearer {consumer_token}")
    assert answer["Ret"] == Ret.PARAMETERS and answer["Sig"] and body.taken == 0
    assert Exchange.objects.filter(interface=Interface.CHECK_CHARGE_ORDERS, operator_id="CONSUMER1").exists()


def test_a_charging_operators_large_reconciliation_is_read_after_its_token(caller, settings):
    from tests.settlement.test_reconcile import check

    caller.login()
    payload = check([])
    settings.HLHT_MAX_BODY_BYTES = 300  # the reconciliation's envelope is larger: read only for the token's holder
    assert len(json.dumps(caller.envelope(payload))) > 300
    assert caller.call(Interface.CHECK_CHARGE_ORDERS, payload).ret == Ret.OK
    caller.token = "forged"
    refused = caller.call(Interface.CHECK_CHARGE_ORDERS, payload)
    assert refused.ret == Ret.PARAMETERS and "300" in refused.envelope.msg


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="gunicorn serves PostgreSQL only (CI runs it there)")
@pytest.mark.parametrize("size", [b"ZZ", b"-1", b"0x10"])
def test_a_chunked_body_with_a_bad_chunk_size_over_real_gunicorn_is_4003(size):
    # gunicorn decodes chunked bodies itself and raises InvalidChunkSize (no OSError) while the portal reads: that
    # was Ret 500 with a traceback in the log.
    import socket

    from apps.demo.benchkit import gunicorn_portal

    with gunicorn_portal(workers=1, threads=1) as url:
        address = urlsplit(url)
        with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
            conn.sendall(
                b"POST /evcs/v1/query_token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n" + size + b"\r\nabc\r\n0\r\n\r\n"
            )
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    envelope = json.loads(body)
    assert envelope["Ret"] == Ret.PARAMETERS and "分块" in envelope["Msg"], envelope
    assert Exchange.objects.filter(interface=Interface.QUERY_TOKEN, ret=Ret.PARAMETERS).exists()
