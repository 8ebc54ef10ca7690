"""Celery tasks of settlement: the nightly statements."""

from celery import shared_task

from .statements import statements_generate


@shared_task
def statements_generate_task() -> int:
    return len(statements_generate())
