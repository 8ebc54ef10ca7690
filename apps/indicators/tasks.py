"""Celery task of indicators: after midnight, the last HLHT_INDICATOR_LOOKBACK_DAYS days recomputed and rolled up."""

from celery import shared_task

from .annual import annual_refresh
from .scorecard import scorecards_refresh
from .services import indicators_compute_recent


@shared_task
def indicators_compute_task() -> dict[str, int]:
    written = indicators_compute_recent()
    written["scorecards"] = scorecards_refresh()  # from the quarter rows just rolled up
    written["annual"] = annual_refresh()  # and the year's, from the same quarter rows
    return written
