"""How work reaches the background: one `enqueue` (after the commit, to a task object imported by its caller), the
backend that carries it chosen in one place (`HLHT_ENQUEUE`, as Django's EMAIL_BACKEND), one backoff rule, and
jobs a person starts from a page and watches (`JobRunner`, a `Job` row with its status).

Services never talk to the broker themselves: they call `enqueue(task, *args, countdown=…)`. In production the
backend is `celery_enqueue` (`apply_async`); a test swaps in a `Recorder` (or `eager_enqueue`) with `enqueue_by`,
and a process that must start no background work at all (the benchmarks' web servers) sets
`HLHT_ENQUEUE=apps.core.jobs.discard_enqueue`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from celery.utils.time import get_exponential_backoff_interval
from kombu.exceptions import OperationalError as KombuOperationalError

if TYPE_CHECKING:
    from celery import Task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.core.conf import conf

from .choices import JobStatus
from .models import Job

logger = logging.getLogger(__name__)


# A Celery task of any signature (celery-types makes Task generic in its parameters and result).
TaskLike: TypeAlias = "Task[Any, Any]"


# (task, args, kwargs, options): options are apply_async's (countdown, queue, expires …).
Enqueue = Callable[[TaskLike, tuple, dict, dict], None]


def celery_enqueue(task: TaskLike, args: tuple, kwargs: dict, options: dict) -> None:
    """The production backend: publish to the broker."""
    task.apply_async(args=args, kwargs=kwargs, **options)


def eager_enqueue(task: TaskLike, args: tuple, kwargs: dict, options: dict) -> None:
    """Run the task here and now (a countdown is not waited for): for tests and one-process tools."""
    task.apply(args=args, kwargs=kwargs)


def discard_enqueue(task: TaskLike, args: tuple, kwargs: dict, options: dict) -> None:
    """Start nothing: the work's rows stay as written (the sweeps find them when a worker runs)."""


class Recorder(list):
    """A test double: remembers each (task name, args, kwargs, options) instead of sending it."""

    def __call__(self, task: TaskLike, args: tuple, kwargs: dict, options: dict) -> None:
        self.append((task.name, args, kwargs, options))

    def names(self) -> list[str]:
        return [name for name, *_ in self]


_injected: list[Enqueue] = []  # the innermost `enqueue_by` wins


def backend() -> Enqueue:
    """The enqueue in force: an injected one, else the one HLHT_ENQUEUE names."""
    return _injected[-1] if _injected else import_string(conf().client.enqueue)


@contextmanager
def enqueue_by(chosen: Enqueue) -> Iterator[Enqueue]:
    """Carry the work enqueued inside this block with `chosen` (a Recorder, eager_enqueue …)."""
    _injected.append(chosen)
    try:
        yield chosen
    finally:
        _injected.remove(chosen)


def enqueue(task: TaskLike, *args: Any, kwargs: dict | None = None, **options: Any) -> None:
    """Hand `task(*args, **kwargs)` to the background once the current transaction commits (at once outside one),
    so a worker never looks for a row that is not there yet; `options` are apply_async's (countdown, queue, expires).
    The backend is resolved now, so the block that enqueued decides how it is carried.

    The work enqueued is always recorded in a row the same transaction wrote (an outbound command, a session's
    watch time, a pull's dispatch mark, a job): the broker is only its wake-up. So a broker that refuses the message
    after the commit must not turn the committed action into an error answer — the action was taken, and the sweep
    that reads those rows (sessions_sweep_task, every minute) carries the work once a broker and a worker are back."""
    carry, kwargs = backend(), kwargs or {}
    transaction.on_commit(lambda: _carry(carry, task, args, kwargs, options))


def _carry(carry: Enqueue, task: TaskLike, args: tuple, kwargs: dict, options: dict) -> None:
    try:
        carry(task, args, kwargs, options)
    except (KombuOperationalError, OSError) as exc:
        logger.warning("broker unavailable, %s left to its sweep: %s", task.name, exc)


def backoff(retries: int, *, base: int, cap: int) -> float:
    """Seconds before retry number `retries + 1`: Celery's own rule for `retry_backoff` with `retry_jitter` (base·2ⁿ,
    capped, full jitter), for work whose retry is a row's `next_attempt_at` rather than a task's `retry()`."""
    # Whole seconds: the full jitter is random.randrange, which refuses non-integers in newer Pythons.
    interval = get_exponential_backoff_interval(factor=base, retries=retries, maximum=cap, full_jitter=True)
    return float(interval)


# -- jobs a person asked for (NetBox's JobRunner) ----------------------------------------------------------------------

RUNNERS: dict[str, type[JobRunner]] = {}


class JobRunner:
    """A kind of background work a page starts and then watches: a subclass sets `name` and implements `run()`,
    registers itself with `@job_register` (in its app's ready()), and is started with `enqueue()`, which writes the
    Job row (queued) and wakes a worker after the commit. The result `run()` returns is kept on the row."""

    name: ClassVar[str]
    # A run still "running" after this long died with its worker: a redelivered message (acks_late) runs it again.
    timeout: ClassVar[float] = 900.0

    def __init__(self, job: Job) -> None:
        self.job = job

    def run(self, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def enqueue(cls, *, user: Any = None, object_id: str = "", **kwargs: Any) -> Job:
        from .tasks import job_run_task  # imported here: the tasks module imports this one

        job = Job.objects.create(name=cls.name, object_id=object_id, kwargs=kwargs, user=user)
        enqueue(job_run_task, job.pk)
        return job


def job_register(runner: type[JobRunner]) -> type[JobRunner]:
    RUNNERS[runner.name] = runner
    return runner


def job_run(job_id: int) -> str:
    """Run one queued job (the worker calls this): running, then done with its result or failed with the error.
    A job already running (a redelivered message) is left alone, unless it has been running longer than its
    runner's `timeout`: then its worker died, and it runs again."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return "skipped"
    runner, now = RUNNERS[job.name], timezone.now()
    abandoned = Q(status=JobStatus.RUNNING, started__lt=now - dt.timedelta(seconds=runner.timeout))
    if not Job.objects.filter(Q(status=JobStatus.QUEUED) | abandoned, pk=job_id).update(
        status=JobStatus.RUNNING, started=now
    ):
        return "skipped"
    job = Job.objects.select_related("user").get(pk=job_id)
    try:
        result = runner(job).run(**job.kwargs)
    except Exception as exc:  # whatever went wrong is the job's outcome, shown to the person who asked
        logger.exception("job %s (%s) failed", job.pk, job.name)
        fields: dict[str, Any] = {"status": JobStatus.FAILED, "error": f"{type(exc).__name__}: {exc}"[:2000]}
    else:
        fields = {"status": JobStatus.DONE, "result": result or {}}
    Job.objects.filter(pk=job_id).update(finished=timezone.now(), **fields)
    return fields["status"]
