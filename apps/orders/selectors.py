"""Reads of orders shared by the admin and the API."""

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from .services import clock_skew


def station_matches(station_id: str) -> Q:
    """Orders at a station: the station a bonus order names, or the one its known connector belongs to."""
    return Q(station_code=station_id) | Q(connector__station__station_id=station_id)


def with_trusted_times(orders: QuerySet) -> QuerySet:
    """Orders whose end was not later than their arrival (the push whose figures they hold) by more than the clock
    window: an order from an operator clock running ahead is never counted as today's, or any day's, activity."""
    arrival = Coalesce("order_received_at", "bonus_received_at")
    return orders.exclude(end_time__gt=arrival + clock_skew()).exclude(start_time__gt=arrival + clock_skew())
