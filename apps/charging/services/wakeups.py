"""Work that follows a commit: the row is written in the transaction (a command in the outbox, the session's `watch_at`)
and Celery is woken once it commits; a lost wake-up is found again by `sessions_sweep_task`."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.core.jobs import enqueue

from ..models import ChargingSession, OutboundCommand


def command_queue(session: ChargingSession, kind: str) -> OutboundCommand:
    """Put a command for `session` in the outbox; it is sent once this transaction commits."""
    command = OutboundCommand.objects.create(session=session, kind=kind)
    command_wake(command.pk)
    return command


def command_wake(command_id: int, countdown: float = 0) -> None:
    from ..tasks import command_deliver_task  # imported here: the tasks module imports the services

    enqueue(command_deliver_task, command_id, countdown=countdown)


def stop_wake(session: ChargingSession) -> None:
    """The session has started: a stop the operator refused as too early, waiting for its retry, is due now."""
    from ..choices import CommandKind, CommandState

    waiting = OutboundCommand.objects.filter(session=session, kind=CommandKind.STOP, state=CommandState.PENDING)
    for command_id in waiting.values_list("pk", flat=True):
        OutboundCommand.objects.filter(pk=command_id).update(next_attempt_at=None, updated=timezone.now())
        command_wake(command_id)


def schedule_watch(session: ChargingSession, countdown: float) -> None:
    """(Re)arm the session's one timer. The latest arming wins: a task from an earlier one finds `watch_at` changed
    and stops, so pushes, answers and polls never pile up chains of timers for one session."""
    due = timezone.now() + dt.timedelta(seconds=countdown)
    session.watch_at = due
    session.save(update_fields=["watch_at", "updated"])
    from ..tasks import session_watch_task  # imported here: the tasks module imports the services

    enqueue(session_watch_task, session.pk, due.isoformat(), countdown=countdown)
