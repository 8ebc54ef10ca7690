"""When each operator's pulls are due, their dispatch to workers, and the lease that keeps runs from overlapping."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.operators.choices import OperatorKind, OperatorStatus
from apps.operators.models import Operator

from .choices import RunStatus
from .models import PullState, SyncRun
from .pulls import PULLS

INFO, STATUS, STATS = "query_stations_info", "query_station_status", "query_station_stats"


@dataclass(frozen=True, slots=True)
class PullJob:
    """One pull to run: which operator, which interface, and (for the station crawl) whether it is a full one."""

    operator_id: str
    interface: str
    full: bool = False
    day: str | None = None  # the statistics' day, fixed at dispatch so that a retry after midnight asks the same
    # How long the job stays worth running: a message older than this is dropped by the worker, because the
    # next dispatch will have sent a fresh one (a backed-up queue must not replay a day of stale sweeps).
    expires: float = 3600.0

    @property
    def kwargs(self) -> dict:
        kwargs = {"operator_id": self.operator_id, "interface": self.interface, "full": self.full}
        return {**kwargs, "day": self.day} if self.day else kwargs


def scheduled_operators():
    """Operators the portal pulls from on its own: active charging operators with an address.

    Operators in joint testing are pulled by hand (`hlht_pull`) only, so test data never enters the city's
    directory unasked.
    """
    return Operator.objects.filter(kind=OperatorKind.OPERATOR, status=OperatorStatus.ACTIVE).exclude(endpoint_url="")


def _older(moment: dt.datetime | None, than: dt.datetime) -> bool:
    return moment is None or moment <= than


def _stats_moment(operator: Operator, now: dt.datetime) -> dt.datetime:
    """Today's time (Beijing) at which yesterday's statistics are asked for."""
    local = timezone.localtime(now)
    return local.replace(
        hour=operator.pull_stats_at.hour, minute=operator.pull_stats_at.minute, second=0, microsecond=0
    )


def jobs_due(operator: Operator, states: dict[str, PullState], now: dt.datetime, *, crawled: bool) -> list[PullJob]:
    """The operator's pulls that are due at `now`, by its own intervals and when each was last dispatched.

    Status sweeps and statistics ask about the operator's stations, so they wait for its first complete crawl.
    """
    jobs = []
    info = states.get(INFO)
    full_every = dt.timedelta(minutes=operator.pull_full_minutes)
    info_every = dt.timedelta(minutes=operator.pull_info_minutes)
    if _older(info and info.full_dispatched_at, now - full_every):
        # A full crawl also brings every change, so it stands in for the increment that may be due with it.
        jobs.append(PullJob(operator.pk, INFO, full=True, expires=full_every.total_seconds()))
    elif _older(info and info.dispatched_at, now - info_every):
        jobs.append(PullJob(operator.pk, INFO, expires=info_every.total_seconds()))
    if not crawled:
        return jobs
    status = states.get(STATUS)
    status_every = dt.timedelta(minutes=operator.pull_status_minutes)
    if _older(status and status.dispatched_at, now - status_every):
        jobs.append(PullJob(operator.pk, STATUS, expires=status_every.total_seconds()))
    stats = states.get(STATS)
    moment = _stats_moment(operator, now)
    if now >= moment and _older(stats and stats.dispatched_at, moment - dt.timedelta(microseconds=1)):
        yesterday = timezone.localtime(now).date() - dt.timedelta(days=1)
        jobs.append(PullJob(operator.pk, STATS, day=yesterday.isoformat(), expires=86400.0))
    return jobs


def pulls_dispatch(*, now: dt.datetime | None = None, enqueue: Callable[[PullJob], None]) -> list[PullJob]:
    """Mark every due pull dispatched and hand it to `enqueue`; returns what was dispatched.

    The mark is a compare-and-set on the time read, so two schedulers running at once (a restart overlap,
    two beat processes by mistake) dispatch each pull once.
    """
    now = now or timezone.now()
    operators = list(scheduled_operators())
    PullState.objects.bulk_create(
        [PullState(operator=op, interface=name) for op in operators for name in PULLS], ignore_conflicts=True
    )
    states: dict[str, dict[str, PullState]] = {}
    for state in PullState.objects.filter(operator__in=operators):
        states.setdefault(state.operator_id, {})[state.interface] = state
    crawled = set(
        SyncRun.objects.filter(operator__in=operators, interface=INFO, status=RunStatus.SUCCEEDED)
        .values_list("operator_id", flat=True)
        .distinct()
    )
    dispatched = []
    for operator in operators:
        for job in jobs_due(operator, states.get(operator.pk, {}), now, crawled=operator.pk in crawled):
            state = states[operator.pk][job.interface]
            marks = {"dispatched_at": now, **({"full_dispatched_at": now} if job.full else {})}
            same = Q(dispatched_at=state.dispatched_at) if state.dispatched_at else Q(dispatched_at__isnull=True)
            if PullState.objects.filter(same, pk=state.pk).update(**marks):
                enqueue(job)
                dispatched.append(job)
    return dispatched


def dispatch_forget(*, operator_id: str, interface: str, full: bool = False) -> None:
    """A dispatched pull that did not run (its lease was taken): the next tick dispatches it again, so a day's
    full crawl is never lost to an increment that happened to be running."""
    marks = {"dispatched_at": None, **({"full_dispatched_at": None} if full else {})}
    PullState.objects.filter(operator_id=operator_id, interface=interface).update(**marks)


class LeaseLost(Exception):
    """The pull's lease ran out and another run took it: this one must stop rather than run beside it."""


def lease_acquire(*, operator_id: str, interface: str, now: dt.datetime | None = None) -> str | None:
    """Take the pull's lease; returns the holder's token, or None while another run holds it."""
    now = now or timezone.now()
    PullState.objects.get_or_create(operator_id=operator_id, interface=interface)
    holder = secrets.token_hex(8)
    free = Q(holder="") | Q(held_until__isnull=True) | Q(held_until__lt=now)
    taken = PullState.objects.filter(free, operator_id=operator_id, interface=interface).update(
        holder=holder, held_until=now + dt.timedelta(seconds=settings.HLHT_PULL_LEASE_SECONDS)
    )
    return holder if taken else None


def lease_renew(*, operator_id: str, interface: str, holder: str) -> bool:
    until = timezone.now() + dt.timedelta(seconds=settings.HLHT_PULL_LEASE_SECONDS)
    return bool(
        PullState.objects.filter(operator_id=operator_id, interface=interface, holder=holder).update(held_until=until)
    )


def lease_release(*, operator_id: str, interface: str, holder: str) -> None:
    PullState.objects.filter(operator_id=operator_id, interface=interface, holder=holder).update(
        holder="", held_until=None
    )


def pull_run(*, operator: Operator, interface: str, full: bool = False, day: dt.date | None = None) -> SyncRun | None:
    """Run one pull now under its lease; None when the same pull of this operator is already running."""
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

    kwargs: dict = {"full": full} if interface == INFO else {"day": day} if interface == STATS else {}
    try:
        return PULLS[interface](operator=operator, heartbeat=heartbeat, **kwargs)
    finally:
        lease_release(operator_id=operator.pk, interface=interface, holder=holder)


def retry_delay(retries: int) -> float:
    """Seconds before retry number `retries + 1`: exponential, capped, with jitter so that many operators'
    failures after one network blip do not all come back in the same second."""
    ceiling = min(settings.HLHT_PULL_RETRY_CAP, settings.HLHT_PULL_RETRY_BASE * 2**retries)
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret
