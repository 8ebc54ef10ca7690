"""Celery task of indicators: after midnight, the last HLHT_INDICATOR_LOOKBACK_DAYS days recomputed and rolled up."""

from celery import shared_task

from .services import indicators_compute_recent


@shared_task
def indicators_compute_task() -> dict[str, int]:
    return indicators_compute_recent()
