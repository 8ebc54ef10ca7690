"""The scheduled path for real: beat's entry published to the broker, a Celery worker running the pulls against a
simulated platform over HTTP, a hanging platform that must not hold the others up, retries and the lease."""

from __future__ import annotations

import itertools
import socket
import threading
import time

import pytest
from celery.beat import Scheduler

from apps.interconnect.models import SyncRun
from apps.interconnect.services import operator_provision
from apps.interconnect.tasks import pull_task
from apps.operators.models import Operator
from apps.protocol.names import Interface
from apps.stations.models import ConnectorStatus, StationStats
from hlht_portal.celery import app
from tests.simulator.support import SIM_ID
from tests.stations.test_pulls import assert_portal_equals_platform

INFO, STATUS, STATS = Interface.QUERY_STATIONS_INFO, Interface.QUERY_STATION_STATUS, Interface.QUERY_STATION_STATS
POLICY = Interface.QUERY_EQUIP_BUSINESS_POLICY

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
HANGING_ID = "000HANG00"  # sorts before the simulator's ID, so its crawl is dispatched first


@pytest.fixture
def hanging_platform():
    """An address that accepts connections and never answers (a platform stuck behind its load balancer)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/evcs/v1/"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def wait_for(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {condition.__doc__ or condition}")


def finished_runs(operator_id: str) -> list[SyncRun]:
    return list(SyncRun.objects.filter(operator_id=operator_id, finished__isnull=False).order_by("finished"))


def test_beat_dispatch_runs_every_pull_and_a_hanging_platform_holds_nobody_up(worker, platform, hanging_platform):
    sim = platform()
    Operator.objects.filter(pk=SIM_ID).update(pull_stats_at="00:00")
    operator_provision(operator_id=HANGING_ID, name="无响应的平台", endpoint=hanging_platform)
    Operator.objects.filter(pk=HANGING_ID).update(pull_stats_at="00:00")

    # What beat does every minute: publish the configured entry to the broker. First minute: the crawls.
    scheduler = Scheduler(app=app, lazy=False)
    scheduler.apply_entry(scheduler.schedule["pulls-dispatch"], producer=scheduler.producer)

    def crawled():
        """the simulator's first crawl"""
        return finished_runs(SIM_ID)

    wait_for(crawled)
    # Next minute: the sweep and the statistics of the operator whose directory is now in.
    scheduler.apply_entry(scheduler.schedule["pulls-dispatch"], producer=scheduler.producer)

    def simulator_done():
        """the simulator's four pulls"""
        return {r.interface for r in finished_runs(SIM_ID)} == {INFO, STATUS, STATS, POLICY}

    wait_for(simulator_done)
    runs = {r.interface: r for r in finished_runs(SIM_ID)}
    assert all(r.status == "succeeded" for r in runs.values()), [r.error for r in runs.values()]
    assert runs[INFO].full and runs[INFO].created_count == len(sim.directory.stations)
    assert_portal_equals_platform(sim)
    assert StationStats.objects.filter(station__operator_id=SIM_ID).count() == runs[STATS].created_count > 0
    # A first slice of the connectors' policies: an even share of the day, a quarter more, oldest-asked first.
    from apps.pricing.models import PolicyCheck
    from apps.pricing.pulls import slice_size
    from apps.stations.selectors import listed_connectors

    expected = slice_size(listed_connectors().filter(operator_id=SIM_ID).count(), 30)
    assert runs[POLICY].created_count == PolicyCheck.objects.filter(operator_id=SIM_ID).count() == expected > 0

    def hanging_given_up():
        """the hanging platform's crawl: first try and two retries"""
        return len([r for r in finished_runs(HANGING_ID) if r.interface == INFO]) == 3

    wait_for(hanging_given_up)
    attempts = [r for r in finished_runs(HANGING_ID) if r.interface == INFO]
    assert all(r.status == "failed" and r.retryable and "Timeout" in r.error for r in attempts)
    assert {r.interface for r in finished_runs(HANGING_ID)} == {INFO}  # no sweep without a directory
    # The simulator's crawl began while the hanging platform's first attempt was still waiting for an answer.
    assert runs[INFO].started < attempts[0].finished
    # Retries came back after a delay (base 0.3 s, then 0.6 s, at least half of each with jitter).
    gaps = [(b.started - a.finished).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.15 and gaps[1] >= 0.3
    statuses = ConnectorStatus.objects.filter(connector__operator_id=SIM_ID).count()
    assert statuses == sum(1 for c in sim.directory.connectors if not c.station.removed)


def test_two_deliveries_of_one_pull_never_run_at_once(worker, platform):
    platform(faults="slow:0.5")  # every answer takes half a second, so the first crawl is still running
    for _ in range(2):
        pull_task.apply_async(kwargs={"operator_id": SIM_ID, "interface": INFO, "full": True})

    def both_done():
        """both deliveries"""
        return len([f for f in worker if f[0] == pull_task.name]) == 2

    wait_for(both_done)
    results = [f[2] for f in worker if f[0] == pull_task.name]
    assert sorted(r.get("skipped", "") for r in results) == ["", "already running"]
    assert SyncRun.objects.filter(operator_id=SIM_ID, interface=INFO).count() == 1
