"""Celery tasks of the directory: forgetting statuses of connectors that no directory listed in time."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .services import pending_statuses_purge


@shared_task
def pending_statuses_purge_task() -> int:
    return pending_statuses_purge(older_than=timezone.now() - timedelta(days=settings.HLHT_PENDING_STATUS_DAYS))
