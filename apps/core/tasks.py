"""Celery tasks of core: run a Job a person asked for."""

from celery import shared_task

from .jobs import job_run


@shared_task(acks_late=True)
def job_run_task(job_id: int) -> str:
    return job_run(job_id)
