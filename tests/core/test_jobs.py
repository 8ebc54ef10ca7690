"""The vocabulary of background work: enqueue after the commit through the chosen backend, Celery's backoff, the one
lease helper, and beat's schedule naming its tasks by import."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from apps.core.jobs import Recorder, backend, backoff, discard_enqueue, eager_enqueue, enqueue, enqueue_by
from apps.core.leases import Claim, Lease
from apps.interconnect.models import PullState
from apps.interconnect.tasks import journal_purge_task, pulls_dispatch_task
from hlht_portal.beat import SCHEDULE
from hlht_portal.celery import app
from tests import factories

pytestmark = pytest.mark.django_db


def test_enqueue_waits_for_the_commit_and_goes_through_the_injected_backend(django_capture_on_commit_callbacks):
    with enqueue_by(Recorder()) as sent, django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue(journal_purge_task, 7, countdown=5, queue="pulls")
        assert sent == []  # nothing leaves before the commit
    assert sent == [(journal_purge_task.name, (7,), {}, {"countdown": 5, "queue": "pulls"})]
    assert sent.names() == [journal_purge_task.name]


def test_the_backend_is_chosen_in_one_place_and_an_injected_one_wins(settings):
    settings.HLHT_ENQUEUE = "apps.core.jobs.discard_enqueue"
    assert backend() is discard_enqueue
    with enqueue_by(eager_enqueue):
        assert backend() is eager_enqueue
        with enqueue_by(Recorder()) as inner:
            assert backend() is inner
        assert backend() is eager_enqueue
    assert backend() is discard_enqueue
    assert django_settings.HLHT_ENQUEUE.endswith("discard_enqueue")


def test_eager_runs_the_task_here(django_capture_on_commit_callbacks):
    with enqueue_by(eager_enqueue), django_capture_on_commit_callbacks(execute=True):
        enqueue(pulls_dispatch_task)  # no operators: dispatches nothing, but it ran (a broken task would raise)


def test_backoff_is_celerys_exponential_rule_capped_with_full_jitter():
    for retries, ceiling in [(0, 5), (1, 10), (3, 40), (8, 300)]:
        delays = {backoff(retries, base=5, cap=300) for _ in range(60)}
        assert all(0 <= d <= ceiling for d in delays), (retries, delays)
        assert len(delays) > 1  # jittered: a blip's failures do not all come back in the same second


def _state(operator_id: str = "MA0000001"):
    factories.operator(operator_id)
    PullState.objects.create(operator_id=operator_id, interface="query_stations_info")
    return PullState.objects.filter(operator_id=operator_id)


def test_a_lease_with_a_holder_admits_one_until_released_or_run_out():
    rows, lease = _state(), Lease(until="held_until", holder="holder")
    first = lease.take(rows, seconds=60)
    assert first and first.holder and lease.take(rows, seconds=60) is None
    assert lease.renew(rows, first, seconds=60) is not None
    lease.release(rows, Claim(until=first.until, holder="someone-else"))  # only the holder releases
    assert lease.take(rows, seconds=60) is None
    lease.release(rows, first)
    second = lease.take(rows, seconds=60)
    assert second and second.holder != first.holder
    later = timezone.now() + dt.timedelta(seconds=61)  # the holder died: the lease runs out
    third = lease.take(rows, seconds=60, now=later)
    assert third and lease.renew(rows, second, seconds=60) is None
    assert lease.holds(rows.get(), third) and not lease.holds(rows.get(), second)
    assert not lease.is_free(rows.get(), timezone.now()) and lease.is_free(rows.get(), later + dt.timedelta(seconds=61))
    lease.release(rows, third)
    assert lease.is_free(rows.get(), timezone.now())


def test_a_lease_without_a_holder_is_a_compare_and_set_on_its_time():
    rows, lease = _state(), Lease(until="held_until")
    claim = lease.take(rows, seconds=60, dispatched_at=timezone.now())  # `also`: written in the same UPDATE
    assert claim and claim.holder == "" and rows.get().dispatched_at is not None
    assert lease.take(rows, seconds=60) is None
    assert lease.holds(rows.get(), claim)
    row = rows.get()
    assert not lease.is_free(row, claim.until - dt.timedelta(seconds=1)) and lease.is_free(row, claim.until)
    taken_over = lease.take(rows, seconds=60, now=claim.until)  # run out at exactly its time
    assert taken_over and not lease.holds(rows.get(), claim)
    lease.release(rows, claim)  # the old claim releases nothing
    assert lease.holds(rows.get(), taken_over)


def test_beat_names_registered_tasks_by_import():
    assert app.conf.beat_schedule == SCHEDULE
    app.loader.import_default_modules()
    for name, entry in SCHEDULE.items():
        assert entry["task"] in app.tasks, name
    assert SCHEDULE["pulls-dispatch"]["task"] == pulls_dispatch_task.name


def test_no_task_is_named_by_a_string():
    """The rule of issue 22: a renamed task must break an import, not silently orphan a string."""
    # The issue's own grep: Celery's send_task() and signature("…") take names, and so does a dotted string.
    pattern = re.compile(r"send_task\(|signature\(\"|['\"]apps\.\w+\.tasks")
    root = Path(django_settings.BASE_DIR)
    found = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("apps", "hlht_portal")
        for path in (root / folder).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
