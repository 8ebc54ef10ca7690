"""Celery tasks of roaming charging: send an outbox command, and the session timers (each reschedules itself)."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.db import transaction

from apps.core.jobs import enqueue

from .choices import CommandState
from .models import ChargingSession, OutboundCommand
from .selectors import live_sessions
from .services import command_send, schedule_watch, session_watch


@shared_task(acks_late=True)
def command_deliver_task(command_id: int) -> str:
    """Send one outbox command (command_send). Named "deliver": a task name ending in Celery's own send_task would
    match the check that no task is named by a string (tests/core/test_jobs.py)."""
    if not OutboundCommand.objects.filter(pk=command_id).exists():
        return "gone"
    return command_send(command_id)


@shared_task(acks_late=True)
def session_watch_task(session_id: int, due: str | None = None) -> float | str | None:
    """One firing of a session's timer; it re-arms itself while the session is live (unless re-armed meanwhile)."""
    session = ChargingSession.objects.filter(pk=session_id).only("watch_at").first()
    if session is None:
        return None
    if due is not None and (session.watch_at is None or session.watch_at != datetime.fromisoformat(due)):
        return "superseded"
    delay = session_watch(session_id)
    if delay is not None:
        with transaction.atomic():
            schedule_watch(ChargingSession.objects.select_for_update().get(pk=session_id), delay)
    return delay


@shared_task
def sessions_sweep_task() -> int:
    """Beat's backstop: a timer lost with a worker is found here; commands left pending past their time are resent."""
    count = 0
    for session_id in live_sessions().values_list("pk", flat=True):
        session_watch(session_id)
        count += 1
    # command_send() skips what is not due or is being sent: this only finds what a lost task left behind.
    for command_id in OutboundCommand.objects.filter(state=CommandState.PENDING).values_list("pk", flat=True):
        enqueue(command_deliver_task, command_id)
    return count
