"""Celery tasks of ops: beat's heartbeat (a tiny task each minute, so /healthz sees that beat and a worker run)."""

from celery import shared_task

from .services import heartbeat


@shared_task(acks_late=True, expires=120)
def beat_heartbeat_task() -> str:
    return heartbeat().isoformat()
