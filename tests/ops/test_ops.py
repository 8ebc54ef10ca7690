"""/healthz and /metrics (issue 25 item 6): real PostgreSQL and the configured broker (Redis in CI), a real signed
push through the protocol server and a real pull run; only the operations network sees either."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from kombu import Connection
from prometheus_client.parser import text_string_to_metric_families

from apps.charging.choices import CommandState
from apps.interconnect.scheduling import pull_run
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.ops.services import heartbeat
from apps.protocol import Ret
from apps.protocol.names import Interface
from hlht_portal.celery import app
from tests import factories
from tests.caller import OPERATOR_ID

# The checks run in threads with their own database connections: they see committed rows only.
pytestmark = pytest.mark.django_db(transaction=True)

OUTSIDE = "203.0.113.7"  # TEST-NET-3: never an operations address


@pytest.fixture
def queues(settings, monkeypatch):
    """Queues of this test's own on the configured broker (never a running worker's), emptied afterwards."""
    settings.HLHT_PULL_QUEUE = f"hlht-test-ops-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(app.conf, "task_default_queue", f"hlht-test-ops-{uuid.uuid4().hex[:8]}")
    names = (app.conf.task_default_queue, settings.HLHT_PULL_QUEUE)
    url, options = settings.CELERY_BROKER_URL, getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    yield names
    with Connection(url, transport_options=options) as broker:  # the test may have pointed the setting elsewhere
        for name in names:
            queue = broker.SimpleQueue(name)
            queue.clear()
            queue.close()


def _put(settings, queue: str, count: int) -> None:
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    with Connection(settings.CELERY_BROKER_URL, transport_options=options) as broker:
        simple = broker.SimpleQueue(queue)
        for n in range(count):
            simple.put({"n": n})
        simple.close()


def _health(client, **extra):
    response = client.get("/healthz", **extra)
    return response.status_code, response.json()


# -- /healthz ---------------------------------------------------------------------------------------------------------


def test_healthz_is_200_with_everything_up_and_reports_the_queue_depths(client, settings, queues):
    heartbeat()
    _put(settings, queues[1], 3)  # three pulls waiting
    status, body = _health(client)
    assert status == 200, body
    assert body["status"] == "ok" and body["failed"] == []
    checks = body["checks"]
    assert all(check["ok"] for check in checks.values())
    assert set(checks) == {"database", "broker", "beat", "outbox"}
    assert checks["broker"]["queues"] == {queues[0]: 0, queues[1]: 3}
    assert 0 <= checks["beat"]["age_seconds"] < 60
    assert checks["database"]["latency_ms"] >= 0
    assert checks["outbox"] == {"ok": True, "depth": 0, "oldest_overdue_seconds": 0.0}


def test_healthz_is_503_naming_the_broker_when_it_cannot_be_reached(client, settings, queues):
    heartbeat()
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/7"  # nothing listens on port 1
    started = timezone.now()
    status, body = _health(client)
    assert status == 503
    assert body["status"] == "fail" and body["failed"] == ["broker"]
    assert "refused" in body["checks"]["broker"]["error"].lower() or "connect" in body["checks"]["broker"]["error"]
    assert (timezone.now() - started).total_seconds() < 3  # bounded by HLHT_OPS_CHECK_TIMEOUT (2 s)


def test_healthz_is_503_naming_beat_when_its_last_tick_is_old(client, queues):
    heartbeat(now=timezone.now() - dt.timedelta(minutes=5))  # HLHT_OPS_BEAT_STALE is 180 s
    status, body = _health(client)
    assert status == 503 and body["failed"] == ["beat"]
    assert body["checks"]["beat"]["age_seconds"] >= 299
    heartbeat()
    assert _health(client)[0] == 200


def test_beats_heartbeat_task_is_scheduled_each_minute_and_makes_beat_healthy(client, queues):
    from apps.ops.tasks import beat_heartbeat_task
    from hlht_portal.beat import SCHEDULE

    assert {"task": beat_heartbeat_task.name, "schedule": 60.0} in SCHEDULE.values()
    assert _health(client)[1]["failed"] == ["beat"]
    beat_heartbeat_task.apply()  # as a worker runs it
    assert _health(client)[0] == 200


def test_healthz_names_beat_when_it_never_ticked(client, queues):
    status, body = _health(client)
    assert status == 503 and body["failed"] == ["beat"]
    assert body["checks"]["beat"]["error"] == "beat has never ticked"


def test_healthz_names_the_outbox_when_a_due_command_waits_too_long(client, queues):
    heartbeat()
    now = timezone.now()
    late = factories.OutboundCommandFactory()
    waiting = factories.OutboundCommandFactory(next_attempt_at=now + dt.timedelta(minutes=5))  # backing off
    factories.OutboundCommandFactory(state=CommandState.DONE)
    type(late).objects.filter(pk__in=[late.pk, waiting.pk]).update(created=now - dt.timedelta(minutes=20))
    status, body = _health(client)
    assert status == 503 and body["failed"] == ["outbox"]
    outbox = body["checks"]["outbox"]
    assert outbox["depth"] == 2  # the done one is not owed
    assert 1199 <= outbox["oldest_overdue_seconds"] < 1300  # the one backing off is not late


# -- /metrics ---------------------------------------------------------------------------------------------------------


def _samples(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def _value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_a_signed_push_a_refusal_and_a_pull_run_per_operator(client, caller, settings, queues):
    heartbeat()
    station = factories.station(Operator.objects.get(pk=OPERATOR_ID), "S1")
    factories.connector(factories.equipment(station, "E1"), "C1")
    operator_provision(operator_id="MA0000001", name="不可达的平台", endpoint="http://127.0.0.1:9/evcs/v1/")
    _put(settings, queues[0], 2)
    push = Interface.NOTIFICATION_STATION_STATUS
    before = _samples(client)

    caller.login()
    assert caller.call(push, {"ConnectorStatusInfo": {"ConnectorID": "C1", "Status": 3}}).ret == Ret.OK
    assert caller.call(push, {"ConnectorStatusInfo": {"ConnectorID": "C1", "Status": 99}}).ret == Ret.BUSINESS
    caller.post_raw("no_such_interface", "{}")
    run = pull_run(operator=Operator.objects.get(pk="MA0000001"), interface=Interface.QUERY_STATIONS_INFO)
    assert run is not None and run.status == "failed"  # the discard port: connection refused
    after = _samples(client)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("hlht_protocol_requests_total", interface="query_token", ret="0") == 1
    assert delta("hlht_protocol_requests_total", interface=push, ret="0") == 1
    assert delta("hlht_protocol_requests_total", interface=push, ret="4004") == 1
    # A path a peer made up is one series, whatever it is: the peer does not choose the number of series.
    assert delta("hlht_protocol_requests_total", interface="unknown", ret="4003") == 1
    assert delta("hlht_protocol_latency_seconds_count", interface=push, ret="0") == 1
    assert delta("hlht_protocol_latency_seconds_bucket", interface=push, ret="0", le="+Inf") == 1
    assert delta("hlht_protocol_latency_seconds_sum", interface=push, ret="0") > 0
    assert delta("hlht_pushes_stored_total", interface=push, operator=OPERATOR_ID) == 1  # the refused one is not
    assert delta("hlht_pull_runs_total", operator="MA0000001", interface="query_stations_info", outcome="failed") == 1
    assert _value(after, "hlht_celery_queue_length", queue=queues[0]) == 2
    assert _value(after, "hlht_celery_queue_length", queue=queues[1]) == 0
    assert _value(after, "hlht_outbox_depth") == 0
    assert _value(after, "hlht_outbox_oldest_overdue_seconds") == 0
    assert 0 <= _value(after, "hlht_beat_last_tick_age_seconds") < 60
    for check in ("database", "broker", "beat", "outbox"):
        assert _value(after, "hlht_check_up", check=check) == 1, check


def test_metrics_say_which_check_is_down(client, settings, queues):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/7"
    samples = _samples(client)  # still 200: the counters are worth reading while the broker is down
    assert _value(samples, "hlht_check_up", check="broker") == 0
    assert _value(samples, "hlht_check_up", check="database") == 1
    assert not any(name == "hlht_celery_queue_length" for name, _ in samples)


# -- the operations network only --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_anyone_outside_the_operations_network_gets_404(client, path):
    assert client.get(path, REMOTE_ADDR=OUTSIDE).status_code == 404
    # A header anyone can write does not make an outsider local.
    assert client.get(path, REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 404
    assert client.get(path, REMOTE_ADDR="::ffff:127.0.0.1").status_code != 404  # IPv4 on a [::] listener
    assert client.get(path, REMOTE_ADDR="::1").status_code != 404


def test_the_networks_are_a_setting(client, settings):
    settings.HLHT_OPS_NETWORKS = ["10.20.0.0/16"]
    assert client.get("/metrics").status_code == 404  # loopback is no longer allowed
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(client, settings):
    settings.HLHT_OPS_NETWORKS = ["10.20.0.0/16"]
    settings.HLHT_OPS_PROXIES = ["192.0.2.10/32"]
    proxy = {"REMOTE_ADDR": "192.0.2.10"}
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.20.3.4", **proxy).status_code == 200
    # The client wrote an allowed address in front; the proxy appended the address it really saw.
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR=f"10.20.3.4, {OUTSIDE}", **proxy).status_code == 404
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="not-an-address", **proxy).status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.11", HTTP_X_FORWARDED_FOR="10.20.3.4").status_code == 404


def test_a_metrics_failure_never_costs_an_answer_or_a_pull_run(caller, monkeypatch):
    from apps.core import metrics

    def broken(*_args, **_kwargs):
        raise OSError("No space left on device")  # a full PROMETHEUS_MULTIPROC_DIR

    monkeypatch.setattr(metrics, "_child", broken)
    station = factories.station(Operator.objects.get(pk=OPERATOR_ID), "S1")
    factories.connector(factories.equipment(station, "E1"), "C1")
    caller.login()
    push = Interface.NOTIFICATION_STATION_STATUS
    assert caller.call(push, {"ConnectorStatusInfo": {"ConnectorID": "C1", "Status": 3}}).ret == Ret.OK
    operator_provision(operator_id="MA0000001", name="不可达的平台", endpoint="http://127.0.0.1:9/evcs/v1/")
    run = pull_run(operator=Operator.objects.get(pk="MA0000001"), interface=Interface.QUERY_STATIONS_INFO)
    assert run is not None and run.status == "failed" and run.finished is not None
