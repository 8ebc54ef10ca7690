"""Writes of ops: beat's heartbeat."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import Heartbeat

BEAT = "beat"


def heartbeat(name: str = BEAT, now: dt.datetime | None = None) -> dt.datetime:
    """Record that `name` ticked now: one upsert of one row."""
    at = now or timezone.now()
    Heartbeat.objects.update_or_create(name=name, defaults={"at": at})
    return at
