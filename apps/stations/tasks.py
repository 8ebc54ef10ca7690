"""Celery tasks of the directory: forgetting statuses no directory listed in time, the status history's partitions."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from apps.core.conf import conf
from apps.core.partitions import partitions_drop_before, partitions_ensure

from .models import ConnectorStatusHistory
from .services import pending_statuses_purge


@shared_task
def pending_statuses_purge_task() -> int:
    return pending_statuses_purge(older_than=timezone.now() - conf().protocol.pending_status_lifetime)


@shared_task
def status_history_partitions_task() -> dict[str, list[str]]:
    """Monthly partitions of the status history created ahead, and months past its retention dropped (PostgreSQL)."""
    cutoff = timezone.now() - timedelta(days=conf().journal.status_history_retention_days)
    return {
        "created": partitions_ensure(ConnectorStatusHistory, months_ahead=conf().journal.partitions_ahead_months),
        "dropped": partitions_drop_before(ConnectorStatusHistory, cutoff),
    }
