"""The portal's WSGI application (hlht_portal.wsgi): protocol paths on the thin path, everything else Django's.

Requests are WSGI environs handed to the very application object gunicorn serves, with their bodies as streams:
the thin path reads, answers, journals and counts exactly as the view does, and the rest keeps the full stack.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.core import signals
from django.db import close_old_connections
from prometheus_client.parser import text_string_to_metric_families

from apps.interconnect.models import Exchange
from apps.operators.models import Operator
from apps.protocol import Ret
from apps.protocol.names import Interface
from apps.stations.models import ConnectorStatus, ConnectorStatusHistory
from tests import factories
from tests.caller import OPERATOR_ID, Caller, keyset

pytestmark = pytest.mark.django_db
PUSH = Interface.NOTIFICATION_STATION_STATUS


class _Response:
    def __init__(self, status: str, headers: list[tuple[str, str]], content: bytes) -> None:
        self.status_code = int(status.split()[0])
        self.headers = dict(headers)
        self.content = content

    def __getitem__(self, name: str) -> str:
        return self.headers[name]


def _environ(method: str, path: str, body: bytes, **environ: str) -> dict[str, Any]:
    env: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO(body),
                           "CONTENT_LENGTH": str(len(body)), "SERVER_NAME": "127.0.0.1", "REMOTE_ADDR": "127.0.0.1",
                           **environ}  # fmt: skip
    setup_testing_defaults(env)
    env["HTTP_HOST"] = environ.get("HTTP_HOST", "127.0.0.1")
    return env


class WSGIClient:
    """Posts and gets through a WSGI application as a server would (the `client` Caller expects)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    def request(self, method: str, path: str, body: bytes = b"", **environ: str) -> _Response:
        env = _environ(method, path, body, **environ)
        started: list[Any] = []
        # As Django's test client does: the test's transaction holds the connection, the signals must not close it
        # (Django's path; the thin path leaves a connection inside a transaction alone by itself).
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            chunks = self.application(env, lambda status, headers: started.extend([status, headers]))
            content = b"".join(chunks)
            getattr(chunks, "close", lambda: None)()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return _Response(started[0], started[1], content)

    def post(self, path: str, data: bytes | str = b"", content_type: str = "", **headers: str) -> _Response:
        body = data.encode() if isinstance(data, str) else data
        return self.request("POST", path, body, CONTENT_TYPE=content_type, **headers)

    def get(self, path: str, **headers: str) -> _Response:
        return self.request("GET", path, **headers)


@pytest.fixture
def wsgi() -> WSGIClient:
    from hlht_portal.wsgi import application

    return WSGIClient(application)


@pytest.fixture
def pusher(wsgi, provisioned) -> Caller:
    caller = Caller(client=wsgi, operator_id=OPERATOR_ID, keys=keyset(provisioned["inbound"]))
    caller.login()
    station = factories.station(Operator.objects.get(pk=OPERATOR_ID), "S1")
    factories.connector(factories.equipment(station, "E1"), "C1")
    return caller


def _samples(wsgi: WSGIClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = wsgi.get("/metrics")  # not a protocol path: Django's full handler answers it
    assert response.status_code == 200, response.content[:200]
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_a_push_is_answered_stored_journalled_and_counted(wsgi, pusher):
    before = _samples(wsgi)
    answer = pusher.call(PUSH, {"ConnectorStatusInfo": {"ConnectorID": "C1", "Status": 3, "ParkStatus": 0}})
    assert answer.ret == Ret.OK and answer.data == {"Status": 0}  # signed with the operator's keys: opened
    assert ConnectorStatus.objects.get().status == 3 and ConnectorStatusHistory.objects.count() == 1
    row = Exchange.objects.filter(interface=PUSH).get()
    assert (row.operator_id, row.ret, row.request["ConnectorStatusInfo"]["Status"]) == (OPERATOR_ID, 0, 3)
    bad = pusher.call(PUSH, {"ConnectorStatusInfo": {"ConnectorID": "C1", "Status": 99}})
    assert bad.ret == Ret.BUSINESS and "Status" in bad.envelope.msg  # the field named, in a signed envelope
    after = _samples(wsgi)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("hlht_protocol_requests_total", interface=PUSH, ret="0") == 1
    assert delta("hlht_protocol_requests_total", interface=PUSH, ret="4004") == 1
    assert delta("hlht_protocol_latency_seconds_count", interface=PUSH, ret="0") == 1
    assert delta("hlht_pushes_stored_total", interface=PUSH, operator=OPERATOR_ID) == 1


def test_a_replay_is_refused_and_nothing_is_applied_twice(pusher):
    envelope = pusher.envelope({"ConnectorStatusInfo": {"ConnectorID": "C1", "Status": 2}})
    assert pusher.call(PUSH, envelope=envelope).ret == Ret.OK
    again = pusher.call(PUSH, envelope=envelope)
    assert again.ret == Ret.PARAMETERS and "重复" in again.envelope.msg
    assert ConnectorStatusHistory.objects.count() == 1


@pytest.mark.parametrize(
    ("path", "method", "environ"),
    [
        ("/evcs/v1/no_such_interface", "POST", {}),
        ("//evcs/v1/no_such_interface", "POST", {}),  # a base URL ending in a slash
        ("/evcs/v1/notification_stationStatus", "GET", {}),
        ("/evcs/v1/notification_stationStatus", "POST", {"HTTP_HOST": "not-allowed.example"}),
        ("/evcs/v1/notification_stationStatus", "POST", {"CONTENT_LENGTH": "x1"}),
    ],
    ids=["unknown-interface", "double-slash", "get", "foreign-host", "bad-length"],
)
def test_every_protocol_path_is_answered_with_an_envelope(wsgi, path, method, environ):
    response = wsgi.request(method, path, b"{}", **environ)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert int(response["Content-Length"]) == len(response.content)
    assert json.loads(response.content)["Ret"] == Ret.PARAMETERS
    assert Exchange.objects.count() == 1  # journalled like any exchange


def test_other_paths_keep_djangos_full_stack(wsgi):
    page = wsgi.get("/admin/login/")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert page["X-Frame-Options"] == "DENY"  # the middleware ran
    assert wsgi.get("/admin/login/", HTTP_HOST="not-allowed.example").status_code == 400  # the host check too


@pytest.mark.django_db(transaction=True)
def test_a_connection_past_its_age_is_closed_on_the_thin_path(wsgi, provisioned):
    # As Django's request signals do on its own path: a worker must not keep a connection past CONN_MAX_AGE (or a
    # broken one) because its requests took the thin path. No test transaction holds it here.
    from django.db import connection

    connection.ensure_connection()
    first = connection.connection
    connection.close_at = time.monotonic() - 1  # past its age
    response = wsgi.application(_environ("POST", "/evcs/v1/query_token", b"{}"), lambda *args: None)
    assert json.loads(b"".join(response))["Ret"] == Ret.PARAMETERS
    assert connection.connection is None or connection.connection is not first
    assert first.closed


@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_under_a_push_is_answered_busy_and_then_replaced(wsgi, provisioned):
    # A real fault, not a mock: the worker's database backend is terminated between two pushes. The push that meets
    # the dead connection is answered Ret -1 (retry later; unsigned when, as here, the caller's keys could not be
    # read either); the thin path then drops the broken connection, and the next push is served on a new one.
    import psycopg2
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a backend to terminate is PostgreSQL's")
    caller = Caller(client=wsgi, operator_id=OPERATOR_ID, keys=keyset(provisioned["inbound"]))
    caller.login()
    station = factories.station(Operator.objects.get(pk=OPERATOR_ID), "S1")
    factories.connector(factories.equipment(station, "E1"), "C1")
    assert caller.call(PUSH, {"ConnectorStatusInfo": {"ConnectorID": "C1", "Status": 2}}).ret == Ret.OK
    connection.ensure_connection()
    backend = connection.connection.get_backend_pid()
    settings = connection.settings_dict
    killer = psycopg2.connect(
        dbname=settings["NAME"], user=settings["USER"], password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None, port=settings["PORT"] or None,
    )  # fmt: skip
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
        killer.commit()
    finally:
        killer.close()
    busy = caller.call(PUSH, {"ConnectorStatusInfo": {"ConnectorID": "C1", "Status": 3}})
    assert busy.ret == Ret.BUSY and busy.envelope.msg == "系统繁忙，此时请求方稍后重试"
    assert caller.call(PUSH, {"ConnectorStatusInfo": {"ConnectorID": "C1", "Status": 4}}).ret == Ret.OK
    assert connection.connection.get_backend_pid() != backend
    assert list(ConnectorStatusHistory.objects.order_by("id").values_list("status", flat=True)) == [2, 4]
