"""Celery tasks of the directory: forgetting statuses no directory listed in time, the status history's partitions."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.core.partitions import partitions_drop_before, partitions_ensure

from .models import ConnectorStatusHistory
from .services import pending_statuses_purge


@shared_task
def pending_statuses_purge_task() -> int:
    return pending_statuses_purge(older_than=timezone.now() - timedelta(days=settings.HLHT_PENDING_STATUS_DAYS))


@shared_task
def status_history_partitions_task() -> dict[str, list[str]]:
    """Monthly partitions of the status history created ahead, and months past its retention dropped (PostgreSQL)."""
    cutoff = timezone.now() - timedelta(days=settings.HLHT_STATUS_HISTORY_RETENTION_DAYS)
    return {
        "created": partitions_ensure(ConnectorStatusHistory, months_ahead=settings.HLHT_PARTITIONS_AHEAD),
        "dropped": partitions_drop_before(ConnectorStatusHistory, cutoff),
    }
