"""Celery tasks of the transport: dispatch and run of the registered pulls, journal retention and housekeeping."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from apps.core.conf import conf
from apps.core.jobs import enqueue
from apps.core.partitions import partitions_ensure

from .choices import RunStatus
from .journal import journal_purge
from .keys import keysets_destroy_retired
from .models import Exchange, SeenEnvelope
from .pulls import Dispatch
from .registry import PULL_JOBS
from .scheduling import dispatch_forget, pull_run, pulls_dispatch, scheduled_operators
from .tokens import tokens_purge_expired


@shared_task
def journal_purge_task() -> int:
    return journal_purge()


@shared_task
def journal_partitions_task() -> list[str]:
    """Create the journal's monthly partitions ahead (PostgreSQL; nothing on SQLite)."""
    return partitions_ensure(Exchange, months_ahead=conf().journal.partitions_ahead_months)


@shared_task
def protocol_housekeeping_task() -> dict[str, int]:
    # Replay marks only matter inside the TimeStamp window; anything older is refused by the window check.
    cutoff = timezone.now() - 2 * conf().protocol.clock_skew
    seen, _ = SeenEnvelope.objects.filter(received_at__lt=cutoff).delete()
    return {"key_sets": keysets_destroy_retired(), "tokens": tokens_purge_expired(), "replay_marks": seen}


class PullFailed(Exception):
    """A pull's run failed transiently (a timeout, a 5xx, a busy platform): Celery retries the task."""


def _enqueue(job: Dispatch) -> None:
    # Pulls have a queue of their own, so that slow platforms never hold up the dispatcher or housekeeping.
    enqueue(pull_task, kwargs=job.kwargs, expires=job.expires, queue=conf().client.pull_queue)


@shared_task
def pulls_dispatch_task() -> int:
    """Beat calls this every minute: one pull task per operator and interface that is due."""
    return len(pulls_dispatch(enqueue=_enqueue))


# Celery takes the backoff's seconds as floats; its stubs say int.
@shared_task(  # type: ignore[call-overload]
    bind=True,
    # Acknowledged after the pull: a worker lost with its message (a crash, a cold shutdown) leaves it to be run
    # again; the next run, finding the lease expired, closes the run that died as failed.
    acks_late=True,
    # Celery's own retry: base·2ⁿ seconds, capped, full jitter (many operators failing after one network blip do
    # not all come back in the same second), on transient failures only (PullFailed).
    autoretry_for=(PullFailed,),
    retry_backoff=conf().client.pull_retry_base_seconds,
    retry_backoff_max=conf().client.pull_retry_cap_seconds,
    retry_jitter=True,
    max_retries=conf().client.pull_retries,
    soft_time_limit=conf().client.pull_time_limit_seconds,
    time_limit=conf().client.pull_time_limit_seconds + 60,
)
def pull_task(self, operator_id: str, interface: str, **options) -> dict:
    """Run one pull of one operator; a transient failure comes back later with backoff and jitter."""
    if interface not in PULL_JOBS:
        return {"operator": operator_id, "interface": interface, "skipped": "no such pull"}
    operator = scheduled_operators().filter(pk=operator_id).first()
    if operator is None:
        return {"operator": operator_id, "interface": interface, "skipped": "not pulled on schedule"}
    run = pull_run(operator=operator, interface=interface, **options)
    if run is None:
        dispatch_forget(operator_id=operator_id, interface=interface, options=options)
        return {"operator": operator_id, "interface": interface, "skipped": "already running"}
    # The last attempt reports its failed run like any other, rather than ending in an exception.
    if run.status == RunStatus.FAILED and run.retryable and self.request.retries < self.max_retries:
        raise PullFailed(run.error)
    return {"operator": operator_id, "interface": interface, "run": run.pk, "status": run.status}
