"""Celery workers and their broker failing, with real processes: `celery worker` subprocesses on a private Redis, the
portal under gunicorn, a simulated operator platform on real HTTP.

- A pulls worker SIGKILLed (the whole worker, as a power cut) in the middle of a full crawl: the run stays
  "running" under a lease that expires; the crawl is dispatched again from its PullState row, and the next run closes
  the dead one as failed and crawls once.
- Redis restarted (nothing persisted: every queue lost) while a roaming start is on the wire in an acks_late task,
  with drivers starting and stopping and a full crawl waiting in the `pulls` queue: the worker reconnects by itself;
  the driver API answers JSON as taken; the rows carry what the broker lost (the sweep, the redispatch); each start
  and stop reaches the platform once.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import pytest
import redis
import requests
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apps.charging.choices import CommandKind, CommandState
from apps.charging.models import ChargingSession, OutboundCommand
from apps.charging.tasks import sessions_sweep_task
from apps.core.conf import conf
from apps.core.jobs import enqueue
from apps.demo.benchkit import database_url
from apps.drivers.services import driver_register, wallet_top_up
from apps.interconnect.choices import RunStatus
from apps.interconnect.models import PullState, SyncRun
from apps.interconnect.scheduling import pulls_dispatch
from apps.interconnect.services import operator_provision
from apps.interconnect.tasks import _enqueue as pull_enqueue
from apps.operators.models import Operator
from apps.protocol import CST
from apps.protocol.names import Interface
from apps.protocol.qr import qr_text
from apps.simulator import handlers
from apps.simulator.faults import Faults
from apps.stations.models import Station
from apps.stations.pulls import stations_info_pull
from tests.simulator.support import SIM_ID, keys_file, make_sim, usable

from .processes import (
    PrivateRedis,
    celery_publishing_to,
    celery_worker,
    finish,
    gunicorn,
    log_of,
    private_redis,
    stop_group,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker processes need a database they can reach"),
]
INFO = Interface.QUERY_STATIONS_INFO
LEASE = 3  # the workers' HLHT_PULL_LEASE_SECONDS here (180 in production): the dead run's lease runs out quickly
WORKER_ENV = {"HLHT_PULL_LEASE_SECONDS": str(LEASE), "HLHT_CLIENT_READ_TIMEOUT": "30"}


def until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.2)


@pytest.fixture
def broker(settings):
    """A private Redis, with this process's Celery app publishing to it (as the portal's processes do)."""
    with private_redis() as server, celery_publishing_to(server.url):
        settings.HLHT_ENQUEUE = "apps.core.jobs.celery_enqueue"
        yield server


def _counted(monkeypatch, interface: str) -> list[str]:
    """The StartChargeSeq of every call of `interface` the platform carried out (answered SuccStat 0)."""
    received: list[str] = []
    handler = handlers.INTERFACES[interface]

    def counted(platform, envelope, payload):
        answer = handler(platform, envelope, payload)
        if answer.get("SuccStat") == 0:
            received.append(payload["StartChargeSeq"])
        return answer

    monkeypatch.setitem(handlers.INTERFACES, interface, counted)
    return received


def _crawl_dispatched_again() -> None:
    """Beat's dispatcher, HLHT_PULL_REDISPATCH_SECONDS after the first dispatch (time moved on, not waited for)."""
    later = timezone.now() + conf().client.pull_redispatch
    assert (INFO, True) in [(j.interface, j.full) for j in pulls_dispatch(now=later, enqueue=pull_enqueue)]


def test_a_crawl_whose_worker_was_killed_is_redone_once_after_its_lease(broker):
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    sim = make_sim(start=datetime.now(CST), push=False, stations=12, seed=7, walkin_rate=0.0)
    try:
        Operator.objects.filter(pk=SIM_ID).update(endpoint_url=sim.base_url, status="active")
        sim.faults = Faults.parse("slow:4")  # each answer 4 s late: the crawl is on the wire when the kill comes
        worker = celery_worker(database_url(), broker.url, conf().client.pull_queue, **WORKER_ENV)
        try:
            assert [(j.interface, j.full) for j in pulls_dispatch(enqueue=pull_enqueue) if j.interface == INFO] == [
                (INFO, True)
            ]
            running = SyncRun.objects.filter(operator_id=SIM_ID, interface=INFO, status=RunStatus.RUNNING)
            until(running.exists, 60, f"the crawl did not start\n{log_of(worker)}")
            time.sleep(1)
            stop_group(worker, signal.SIGKILL)  # the worker and its pool: nothing runs a finally
        finally:
            finish(worker)
        dead = running.get()
        assert dead.finished is None and not Station.objects.filter(operator_id=SIM_ID).exists()
        state = PullState.objects.get(operator_id=SIM_ID, interface=INFO)
        assert state.holder and state.held_until > timezone.now()  # the dead worker's lease, still held

        sim.faults = Faults.parse("")
        until(lambda: PullState.objects.get(pk=state.pk).held_until <= timezone.now(), LEASE + 5, "lease expiry")
        again = celery_worker(database_url(), broker.url, conf().client.pull_queue, **WORKER_ENV)
        try:
            _crawl_dispatched_again()
            done = SyncRun.objects.filter(operator_id=SIM_ID, interface=INFO, status=RunStatus.SUCCEEDED)
            until(done.exists, 90, f"the crawl was not redone\n{log_of(again)}")
        finally:
            finish(again)
        dead.refresh_from_db()
        assert dead.status == RunStatus.FAILED and "中断" in dead.error and dead.finished is not None
        runs = SyncRun.objects.filter(operator_id=SIM_ID, interface=INFO)
        assert Counter(runs.values_list("status", flat=True)) == {RunStatus.FAILED: 1, RunStatus.SUCCEEDED: 1}
        crawled = done.get()
        stations = Station.objects.filter(operator_id=SIM_ID)
        assert crawled.full and stations.count() == len(sim.directory.stations) == crawled.created_count
    finally:
        sim.stop()


def _driver(phone: str) -> dict[str, str]:
    driver = driver_register(phone=phone)
    wallet_top_up(driver_id=driver.pk, amount=Decimal("100"), key=f"PAY-{phone}")
    return {"Authorization": f"Token {Token.objects.create(user=driver.user).key}"}


def _queue_length(server: PrivateRedis, queue: str) -> int:
    return redis.Redis(port=server.port).llen(queue)


def test_redis_restarted_with_a_start_in_flight_loses_no_start_stop_or_crawl_and_doubles_none(broker, monkeypatch):
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    starts = _counted(monkeypatch, Interface.QUERY_START_CHARGE)
    stops = _counted(monkeypatch, Interface.QUERY_STOP_CHARGE)
    extra = {"CELERY_BROKER_URL": broker.url, "HLHT_ENQUEUE": "apps.core.jobs.celery_enqueue"}
    with gunicorn(database_url(), workers=2, **extra) as (url, _server):
        root = url[: url.index("/", len("http://"))]
        sim = make_sim(start=datetime.now(CST), push=True, portal_url=url, stations=6, seed=3, walkin_rate=0.0)
        worker = None
        try:
            Operator.objects.filter(pk=SIM_ID).update(endpoint_url=sim.base_url, status="active")
            assert stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True).status == "succeeded"
            first, second = usable(sim, 2)
            a, b = _driver("13812340101"), _driver("13812340102")
            worker = celery_worker(database_url(), broker.url, "celery", **WORKER_ENV)
            # The day's crawl (and the sweeps) dispatched, waiting in the `pulls` queue: no pulls worker has taken them.
            queued = pulls_dispatch(enqueue=pull_enqueue)
            assert (INFO, True) in [(j.interface, j.full) for j in queued]
            assert _queue_length(broker, conf().client.pull_queue) == len(queued)

            # A start the platform carries out at once and answers 8 s later: the worker's acks_late task is on the
            # wire (its message unacknowledged in Redis) when Redis goes.
            sim.faults = Faults.parse("late_answer:8")
            started = requests.post(
                f"{root}/api/driver/sessions/", json={"qr": qr_text(first, SIM_ID)}, headers=a, timeout=30
            )
            assert started.status_code == 201, started.content
            seq_a = started.json()["start_charge_seq"]
            until(lambda: seq_a in starts, 60, f"the start was not sent\n{log_of(worker)}")
            sim.faults = Faults.parse("")
            broker.stop()

            # While Redis is down: a second driver starts and the first stops; both are taken and said so, in JSON.
            answers = [
                requests.post(
                    f"{root}/api/driver/sessions/", json={"qr": qr_text(second, SIM_ID)}, headers=b, timeout=30
                ),
                requests.post(f"{root}/api/driver/sessions/{seq_a}/stop/", headers=a, timeout=30),
            ]
            time.sleep(4)
            broker.start()  # empty: the queued crawl and every unacknowledged message are gone
            assert [r.status_code for r in answers] == [201, 202], [r.content[:200] for r in answers]
            assert all(r.headers["Content-Type"] == "application/json" for r in answers)
            seq_b = answers[0].json()["start_charge_seq"]
            assert _queue_length(broker, conf().client.pull_queue) == 0

            # Beat's sweep (each minute) finds the commands the broker lost from their rows; the worker, reconnected
            # by itself, sends them. The crawl is dispatched again from its row, to a pulls worker.
            time.sleep(3)
            assert worker.poll() is None, log_of(worker)
            enqueue(sessions_sweep_task)
            commands = OutboundCommand.objects.filter(session__start_charge_seq__in=[seq_a, seq_b])
            for _ in range(60):
                sim.advance(10)  # the piles start and stop; results pushed to the portal
                sim.flush(10)
                if not commands.exclude(state=CommandState.DONE).exists():
                    break
                OutboundCommand.objects.filter(state=CommandState.PENDING).update(next_attempt_at=None)
                enqueue(sessions_sweep_task)
                time.sleep(1)
            kinds = Counter((c.session.start_charge_seq, c.kind, c.state) for c in commands.select_related("session"))
            assert kinds == {
                (seq_a, CommandKind.AUTH, CommandState.DONE): 1,  # the authentication, by the outbox, first
                (seq_b, CommandKind.AUTH, CommandState.DONE): 1,
                (seq_a, CommandKind.START, CommandState.DONE): 1,
                (seq_a, CommandKind.STOP, CommandState.DONE): 1,
                (seq_b, CommandKind.START, CommandState.DONE): 1,
            }, log_of(worker)
            # Each carried out once (the stop pressed while the start was on the wire was refused as too early, then
            # sent again once the start result came: that is the one carried out).
            assert sorted(starts) == sorted([seq_a, seq_b]) and stops == [seq_a]
            for _ in range(10):  # the pile stops and the platform pushes its stop result
                if ChargingSession.objects.get(start_charge_seq=seq_a).state == 4:
                    break
                sim.advance(10)
                sim.flush(10)
            assert ChargingSession.objects.get(start_charge_seq=seq_a).state == 4  # stopped

            _crawl_dispatched_again()
            pulls = celery_worker(database_url(), broker.url, conf().client.pull_queue, **WORKER_ENV)
            try:
                done = SyncRun.objects.filter(operator_id=SIM_ID, interface=INFO, status=RunStatus.SUCCEEDED)
                until(lambda: done.count() == 2, 90, f"the crawl was not redone\n{log_of(pulls)}")
            finally:
                finish(pulls)
            assert not SyncRun.objects.filter(status=RunStatus.RUNNING).exists()
            log = log_of(worker)
            assert worker.poll() is None and "Unrecoverable error" not in log, log  # the same worker, reconnected
        finally:
            if worker is not None:
                finish(worker)
            sim.stop()
