"""Work that follows a commit: the row is written in the transaction (a command in the outbox, the session's `watch_at`)
and Celery is woken once it commits; a lost wake-up is found again by `sessions_sweep_task`."""

from __future__ import annotations

import datetime as dt

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import ChargingSession, OutboundCommand

WATCH_TASK = "apps.charging.tasks.session_watch_task"
SEND_TASK = "apps.charging.tasks.command_send_task"


def command_queue(session: ChargingSession, kind: str) -> OutboundCommand:
    """Put a command for `session` in the outbox; it is sent once this transaction commits."""
    command = OutboundCommand.objects.create(session=session, kind=kind)
    command_wake(command.pk)
    return command


def command_wake(command_id: int, countdown: float = 0) -> None:
    if settings.HLHT_SESSION_TASKS:
        transaction.on_commit(lambda: current_app.send_task(SEND_TASK, args=[command_id], countdown=countdown))


def schedule_watch(session: ChargingSession, countdown: float) -> None:
    """(Re)arm the session's one timer. The latest arming wins: a task from an earlier one finds `watch_at` changed
    and stops, so pushes, answers and polls never pile up chains of timers for one session."""
    due = timezone.now() + dt.timedelta(seconds=countdown)
    session.watch_at = due
    session.save(update_fields=["watch_at", "updated"])
    if settings.HLHT_SESSION_TASKS:
        stamp, pk = due.isoformat(), session.pk
        transaction.on_commit(lambda: current_app.send_task(WATCH_TASK, args=[pk, stamp], countdown=countdown))
