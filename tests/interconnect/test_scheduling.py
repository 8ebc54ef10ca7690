"""Which pulls are due when, their dispatch (each once), the lease that keeps runs apart, and retries."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.interconnect.choices import RunStatus
from apps.interconnect.models import PullState, SyncRun
from apps.interconnect.pulls import Dispatch
from apps.interconnect.scheduling import (
    lease_acquire,
    lease_release,
    lease_renew,
    pull_run,
    pulls_dispatch,
)
from apps.interconnect.services import operator_provision
from apps.interconnect.tasks import pull_task
from apps.operators.choices import OperatorKind, OperatorStatus
from apps.operators.models import Operator
from apps.protocol import CST
from apps.protocol.names import Interface
from tests import factories

INFO, STATUS, STATS = Interface.QUERY_STATIONS_INFO, Interface.QUERY_STATION_STATUS, Interface.QUERY_STATION_STATS
POLICY = Interface.QUERY_EQUIP_BUSINESS_POLICY
pytestmark = pytest.mark.django_db
# 10:00 in Beijing: after the default 01:00 statistics time.
MORNING = dt.datetime(2026, 11, 23, 10, 0, tzinfo=CST)


def connected(operator_id: str, *, crawled: bool = True, **fields) -> Operator:
    """An active operator; `crawled` gives it a complete crawl, after which sweeps and statistics are due."""
    defaults = {"status": OperatorStatus.ACTIVE, "endpoint_url": f"http://127.0.0.1:9/{operator_id}/"}
    operator = factories.operator(operator_id, **{**defaults, **fields})
    if crawled:
        factories.SyncRunFactory(operator=operator, interface=INFO, status=RunStatus.SUCCEEDED, full=True)
    return operator


def dispatch(now: dt.datetime) -> list[Dispatch]:
    sent: list[Dispatch] = []
    pulls_dispatch(now=now, enqueue=sent.append)
    return sent


def kinds(jobs: list[Dispatch]) -> set[tuple[str, str, bool]]:
    return {(j.operator_id, j.interface, j.full) for j in jobs}


def test_a_new_operator_is_crawled_first_and_swept_once_its_directory_is_in():
    operator = connected("MA0000001", crawled=False)
    assert kinds(dispatch(MORNING)) == {("MA0000001", INFO, True)}
    factories.SyncRunFactory(operator=operator, interface=INFO, status=RunStatus.FAILED, full=True)
    assert dispatch(MORNING + dt.timedelta(minutes=5)) == []  # a failed crawl is not a directory
    factories.SyncRunFactory(operator=operator, interface=INFO, status=RunStatus.SUCCEEDED, full=True)
    assert kinds(dispatch(MORNING + dt.timedelta(minutes=6))) == {
        ("MA0000001", STATUS, False),
        ("MA0000001", STATS, False),
        ("MA0000001", POLICY, False),
    }


def test_a_crawled_operator_gets_a_full_crawl_a_status_sweep_yesterdays_stats_and_a_slice_of_policies():
    connected("MA0000001")
    assert kinds(dispatch(MORNING)) == {
        ("MA0000001", INFO, True),
        ("MA0000001", STATUS, False),
        ("MA0000001", STATS, False),
        ("MA0000001", POLICY, False),
    }


def crawled_at(when: dt.datetime) -> None:
    """The full crawl dispatched has run and succeeded at `when` (as apps.interconnect.pulls._finish records it)."""
    PullState.objects.filter(interface=INFO).update(full_succeeded_at=when)


def test_each_pull_is_dispatched_once_until_its_interval_has_passed():
    connected("MA0000001")
    dispatch(MORNING)
    crawled_at(MORNING + dt.timedelta(minutes=2))
    assert dispatch(MORNING + dt.timedelta(minutes=4)) == []
    assert kinds(dispatch(MORNING + dt.timedelta(minutes=5))) == {("MA0000001", STATUS, False)}
    assert kinds(dispatch(MORNING + dt.timedelta(minutes=30))) == {
        ("MA0000001", STATUS, False),
        ("MA0000001", POLICY, False),
    }
    hour = MORNING + dt.timedelta(minutes=60)
    assert kinds(dispatch(hour)) == {
        ("MA0000001", INFO, False),
        ("MA0000001", STATUS, False),
        ("MA0000001", POLICY, False),
    }
    day = MORNING + dt.timedelta(days=1)
    # Tomorrow after 01:00: the daily full crawl (standing in for the increment), a sweep and the day's stats.
    assert kinds(dispatch(day)) == {
        ("MA0000001", INFO, True),
        ("MA0000001", STATUS, False),
        ("MA0000001", STATS, False),
        ("MA0000001", POLICY, False),
    }


def test_a_full_crawl_that_never_succeeded_is_dispatched_again_within_minutes_not_the_next_day(settings):
    # Before: its message lost with a Redis restart, its worker killed, its retries spent or one bad signature, and
    # the day's full crawl waited 24 hours.
    connected("MA0000001")
    assert ("MA0000001", INFO, True) in kinds(dispatch(MORNING))
    redo = dt.timedelta(seconds=settings.HLHT_PULL_REDISPATCH_SECONDS)
    assert ("MA0000001", INFO, True) not in kinds(dispatch(MORNING + redo - dt.timedelta(minutes=1)))
    again = MORNING + redo
    assert ("MA0000001", INFO, True) in kinds(dispatch(again))
    crawled_at(again + dt.timedelta(minutes=3))  # this one ran: the next is tomorrow's
    assert ("MA0000001", INFO, True) not in kinds(dispatch(again + 2 * redo))


def test_a_successful_full_run_records_its_success_on_the_schedule():
    from apps.interconnect.pulls import _finish

    operator = connected("MA0000001")
    dispatch(MORNING)
    run = factories.SyncRunFactory(operator=operator, interface=INFO, status=RunStatus.RUNNING, full=True)
    _finish(run)
    state = PullState.objects.get(operator=operator, interface=INFO)
    assert state.full_succeeded_at == run.finished
    failed = factories.SyncRunFactory(operator=operator, interface=INFO, status=RunStatus.RUNNING, full=True)
    _finish(failed, error="SignatureError: 签名错误")
    assert PullState.objects.get(pk=state.pk).full_succeeded_at == run.finished  # a failure records nothing


def test_intervals_are_the_operators_own():
    connected("MA0000001", pull_status_minutes=1, pull_info_minutes=10)
    connected("MA0000002", pull_policy_minutes=5)
    dispatch(MORNING)
    crawled_at(MORNING + dt.timedelta(minutes=2))
    later = dispatch(MORNING + dt.timedelta(minutes=10))
    assert kinds(later) == {
        ("MA0000001", STATUS, False),
        ("MA0000001", INFO, False),
        ("MA0000002", STATUS, False),
        ("MA0000002", POLICY, False),
    }


def test_statistics_wait_for_the_operators_time_of_day():
    connected("MA0000001", pull_stats_at=dt.time(3, 30))
    early = dt.datetime(2026, 11, 23, 3, 29, tzinfo=CST)
    assert STATS not in {j.interface for j in dispatch(early)}
    assert STATS in {j.interface for j in dispatch(early + dt.timedelta(minutes=1))}
    assert STATS not in {j.interface for j in dispatch(early + dt.timedelta(hours=20))}  # once a day


def test_only_active_charging_operators_with_an_address_are_pulled():
    connected("MA0000001")
    connected("MA0000002", status=OperatorStatus.TESTING)
    connected("MA0000003", status=OperatorStatus.SUSPENDED)
    connected("MA0000004", kind=OperatorKind.CONSUMER)
    connected("MA0000005", endpoint_url="")
    assert {j.operator_id for j in dispatch(MORNING)} == {"MA0000001"}


def test_jobs_expire_after_their_interval_so_a_backlog_never_replays_stale_sweeps():
    connected("MA0000001", pull_status_minutes=5)
    expires = {j.interface: j.expires for j in dispatch(MORNING)}
    assert expires[STATUS] == 300
    assert expires[INFO] == 1440 * 60


def test_a_dispatch_that_lost_the_race_sends_nothing():
    factories.PullStateFactory(operator=connected("MA0000001"), interface=STATUS)
    sent: list[Dispatch] = []

    def enqueue(job: Dispatch) -> None:
        # Another scheduler marks the same state between our read and our compare-and-set.
        if not sent:
            PullState.objects.filter(interface=STATUS).update(dispatched_at=MORNING - dt.timedelta(seconds=1))
        sent.append(job)

    # The first job dispatched is INFO (lists order); the status mark then no longer matches what was read.
    pulls_dispatch(now=MORNING, enqueue=enqueue)
    assert STATUS not in {j.interface for j in sent}


def test_the_lease_admits_one_holder_until_released_or_expired(settings):
    connected("MA0000001")
    first = lease_acquire(operator_id="MA0000001", interface=INFO)
    assert first
    assert lease_acquire(operator_id="MA0000001", interface=INFO) is None
    assert lease_acquire(operator_id="MA0000001", interface=STATUS)  # another pull is independent
    assert lease_renew(operator_id="MA0000001", interface=INFO, holder=first)
    lease_release(operator_id="MA0000001", interface=INFO, holder="someone-else")
    assert lease_acquire(operator_id="MA0000001", interface=INFO) is None  # only the holder releases
    lease_release(operator_id="MA0000001", interface=INFO, holder=first)
    second = lease_acquire(operator_id="MA0000001", interface=INFO)
    assert second and second != first
    # A holder that died: its lease runs out and the pull is free again.
    later = timezone.now() + dt.timedelta(seconds=settings.HLHT_PULL_LEASE_SECONDS + 1)
    assert lease_acquire(operator_id="MA0000001", interface=INFO, now=later)
    assert not lease_renew(operator_id="MA0000001", interface=INFO, holder=second)


def test_a_pull_already_running_is_not_started_again():
    operator = connected("MA0000001", crawled=False)
    lease_acquire(operator_id="MA0000001", interface=STATUS)
    assert pull_run(operator=operator, interface=STATUS) is None
    assert not SyncRun.objects.exists()


def test_hlht_pull_says_busy_and_fails_while_the_same_pull_runs():
    connected("MA0000001")
    lease_acquire(operator_id="MA0000001", interface=INFO)
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("hlht_pull", "--operator-id", "MA0000001", "--interface", INFO, stdout=out)
    assert exit_info.value.code == 1
    summary = json.loads(out.getvalue())
    assert summary["status"] == "busy" and summary["pages"] == 0 and "正在进行" in summary["error"]


def test_an_unreachable_platform_fails_the_run_as_retryable_and_frees_the_lease():
    operator_provision(operator_id="MA0000001", name="不可达的平台", endpoint="http://127.0.0.1:9/evcs/v1/")
    operator = Operator.objects.get(pk="MA0000001")  # the discard port above: connection refused
    run = pull_run(operator=operator, interface=INFO)
    assert run is not None
    assert run.status == "failed" and run.retryable and run.finished is not None
    assert lease_acquire(operator_id="MA0000001", interface=STATUS)


def test_a_transient_failure_is_retried_by_celerys_own_options_with_jitter(settings, monkeypatch):
    """No hand-written delay: the task declares autoretry_for, retry_backoff (HLHT_PULL_RETRY_BASE), its cap,
    retry_jitter and max_retries, and raises only while retries remain."""
    from celery.exceptions import Retry

    from apps.interconnect.tasks import PullFailed

    assert pull_task.autoretry_for == (PullFailed,)
    assert (pull_task.retry_backoff, pull_task.retry_backoff_max) == (30, 600)
    assert pull_task.retry_jitter is True and pull_task.max_retries == settings.HLHT_PULL_RETRIES == 3
    operator_provision(operator_id="MA0000001", name="不可达的平台", endpoint="http://127.0.0.1:9/evcs/v1/")
    Operator.objects.filter(pk="MA0000001").update(status=OperatorStatus.ACTIVE)
    countdowns = []

    def retry(**options):
        countdowns.append(options["countdown"])
        raise Retry()

    monkeypatch.setattr(pull_task, "retry", retry)
    with pytest.raises(Retry):
        pull_task.run(operator_id="MA0000001", interface=INFO)
    assert len(countdowns) == 1 and 0 <= countdowns[0] <= 30  # the first retry: full jitter under 30·2⁰ s
    # The last attempt (retries used up) reports its failed run instead of raising.
    pull_task.push_request(retries=3)
    try:
        result = pull_task.run(operator_id="MA0000001", interface=INFO)
    finally:
        pull_task.pop_request()
    assert result["status"] == RunStatus.FAILED and len(countdowns) == 1


def test_statistics_ask_for_the_day_before_the_dispatch_even_if_run_later():
    connected("MA0000001")
    stats = next(j for j in dispatch(MORNING) if j.interface == STATS)
    assert stats.options == {"day": "2026-11-22"} and stats.kwargs["day"] == "2026-11-22"


def test_a_pull_that_found_its_lease_taken_is_dispatched_again_at_the_next_tick():
    connected("MA0000001", crawled=False)
    dispatch(MORNING)
    lease_acquire(operator_id="MA0000001", interface=INFO)  # say a manual crawl is running
    result = pull_task.apply(kwargs={"operator_id": "MA0000001", "interface": INFO, "full": True}).get()
    assert result["skipped"] == "already running"
    # The day's full crawl is not lost: a minute later it is due again.
    assert kinds(dispatch(MORNING + dt.timedelta(minutes=1))) == {("MA0000001", INFO, True)}


def test_a_run_whose_worker_died_is_closed_by_the_next_run():
    operator = connected("MA0000001", crawled=False)
    lease_acquire(operator_id="MA0000001", interface=STATUS)
    dead = factories.SyncRunFactory(operator=operator, interface=STATUS)  # RUNNING, and nobody will finish it
    PullState.objects.filter(interface=STATUS).update(held_until=timezone.now() - dt.timedelta(seconds=1))

    run = pull_run(operator=operator, interface=STATUS)

    dead.refresh_from_db()
    assert run is not None and run.pk != dead.pk and run.finished is not None
    assert dead.status == "failed" and dead.finished is not None and "中断" in dead.error
