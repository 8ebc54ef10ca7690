"""Reads of orders shared by the admin and the API."""

from django.db.models import Q


def station_matches(station_id: str) -> Q:
    """Orders at a station: the station a bonus order names, or the one its known connector belongs to."""
    return Q(station_code=station_id) | Q(connector__station__station_id=station_id)
