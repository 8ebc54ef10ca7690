"""When each operator's registered pulls are due, their dispatch to workers, and the lease that keeps runs from
overlapping (retries are the pull task's own Celery options)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db.models import Q
from django.utils import timezone

from apps.core.conf import conf
from apps.core.leases import Claim, Lease
from apps.operators.choices import OperatorKind, OperatorStatus
from apps.operators.models import Operator

from .choices import RunStatus
from .models import PullState, SyncRun
from .pulls import Dispatch
from .registry import PULL_JOBS


def scheduled_operators():
    """Operators the portal pulls from on its own: active charging operators with an address.

    Operators in joint testing are pulled by hand (`hlht_pull`) only, so test data never enters the city's
    directory unasked.
    """
    return Operator.objects.filter(kind=OperatorKind.OPERATOR, status=OperatorStatus.ACTIVE).exclude(endpoint_url="")


def jobs_due(
    operator: Operator, states: dict[str, PullState], now: dt.datetime, *, completed: set[str]
) -> list[Dispatch]:
    """The operator's registered pulls that are due at `now`, by its own intervals and their last dispatch.

    A pull that names another in `after` waits until that one has succeeded once (`completed`: the interfaces
    with a successful run for this operator): status sweeps and statistics ask about a crawled directory.
    """
    jobs = []
    for interface, job in PULL_JOBS.items():
        if job.after is not None and job.after not in completed:
            continue
        dispatch = job.due(operator, states.get(interface), now)
        if dispatch is not None:
            jobs.append(dispatch)
    return jobs


def pulls_dispatch(*, now: dt.datetime | None = None, enqueue: Callable[[Dispatch], None]) -> list[Dispatch]:
    """Mark every due pull dispatched and hand it to `enqueue`; returns what was dispatched.

    The mark is a compare-and-set on the time read, so two schedulers running at once (a restart overlap,
    two beat processes by mistake) dispatch each pull once.
    """
    now = now or timezone.now()
    operators = list(scheduled_operators())
    PullState.objects.bulk_create(
        [PullState(operator=op, interface=name) for op in operators for name in PULL_JOBS], ignore_conflicts=True
    )
    states: dict[str, dict[str, PullState]] = {}
    for state in PullState.objects.filter(operator__in=operators):
        states.setdefault(state.operator_id, {})[state.interface] = state
    completed: dict[str, set[str]] = {}
    prerequisites = {job.after for job in PULL_JOBS.values() if job.after is not None}
    for operator_id, interface in (
        SyncRun.objects.filter(operator__in=operators, interface__in=prerequisites, status=RunStatus.SUCCEEDED)
        .values_list("operator_id", "interface")
        .distinct()
    ):
        completed.setdefault(operator_id, set()).add(interface)
    dispatched = []
    for operator in operators:
        for job in jobs_due(operator, states.get(operator.pk, {}), now, completed=completed.get(operator.pk, set())):
            state = states[operator.pk][job.interface]
            marks = dict.fromkeys(PULL_JOBS[job.interface].marks(job.options), now)
            same = Q(dispatched_at=state.dispatched_at) if state.dispatched_at else Q(dispatched_at__isnull=True)
            if PullState.objects.filter(same, pk=state.pk).update(**marks):
                enqueue(job)
                dispatched.append(job)
    return dispatched


def dispatch_forget(*, operator_id: str, interface: str, options: dict | None = None) -> None:
    """A dispatched pull that did not run (its lease was taken): the next tick dispatches it again, so a day's
    full crawl is never lost to an increment that happened to be running."""
    job = PULL_JOBS.get(interface)
    if job is None:
        return
    marks = dict.fromkeys(job.marks(options or {}), None)
    PullState.objects.filter(operator_id=operator_id, interface=interface).update(**marks)


class LeaseLost(Exception):
    """The pull's lease ran out and another run took it: this one must stop rather than run beside it."""


# The pull's lease lives on its PullState row (see apps.core.leases): one holder per operator and interface.
PULL_LEASE = Lease(until="held_until", holder="holder")


def _pull_state(operator_id: str, interface: str):
    return PullState.objects.filter(operator_id=operator_id, interface=interface)


def lease_acquire(*, operator_id: str, interface: str, now: dt.datetime | None = None) -> str | None:
    """Take the pull's lease; returns the holder's token, or None while another run holds it."""
    PullState.objects.get_or_create(operator_id=operator_id, interface=interface)
    claim = PULL_LEASE.take(
        _pull_state(operator_id, interface), seconds=conf().client.pull_lease.total_seconds(), now=now
    )
    return claim.holder if claim else None


def lease_renew(*, operator_id: str, interface: str, holder: str) -> bool:
    claim = Claim(until=timezone.now(), holder=holder)
    renewed = PULL_LEASE.renew(
        _pull_state(operator_id, interface), claim, seconds=conf().client.pull_lease.total_seconds()
    )
    return renewed is not None


def lease_release(*, operator_id: str, interface: str, holder: str) -> None:
    PULL_LEASE.release(_pull_state(operator_id, interface), Claim(until=timezone.now(), holder=holder))


def pull_run(*, operator: Operator, interface: str, **options) -> SyncRun | None:
    """Run one registered pull now under its lease; None when the same pull of this operator is already running."""
    holder = lease_acquire(operator_id=operator.pk, interface=interface)
    if holder is None:
        return None
    # Holding the lease, no other run of this pull can be alive: one still RUNNING died with its worker.
    SyncRun.objects.filter(operator=operator, interface=interface, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, finished=timezone.now(), error="运行中断（执行者已失联，租约过期）"
    )

    def heartbeat() -> None:
        if not lease_renew(operator_id=operator.pk, interface=interface, holder=holder):
            raise LeaseLost(f"{interface} 的租约已过期并被其他执行者取得")

    try:
        return PULL_JOBS[interface].handle(operator=operator, heartbeat=heartbeat, **options)
    finally:
        lease_release(operator_id=operator.pk, interface=interface, holder=holder)
