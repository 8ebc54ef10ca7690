"""Periodic housekeeping of the protocol layer: journal retention, retired keys, spent tokens and replay marks."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .journal import journal_purge
from .keys import keysets_destroy_retired
from .models import SeenEnvelope
from .tokens import tokens_purge_expired


@shared_task
def journal_purge_task() -> int:
    return journal_purge()


@shared_task
def protocol_housekeeping_task() -> dict[str, int]:
    # Replay marks only matter inside the TimeStamp window; anything older is refused by the window check.
    cutoff = timezone.now() - timedelta(seconds=2 * settings.HLHT_CLOCK_SKEW)
    seen, _ = SeenEnvelope.objects.filter(received_at__lt=cutoff).delete()
    return {"key_sets": keysets_destroy_retired(), "tokens": tokens_purge_expired(), "replay_marks": seen}
