"""Reads of roaming charging."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.core.conf import conf
from apps.drivers.selectors import hold_subquery
from apps.operators.choices import CONNECTED_STATUSES
from apps.orders.hooks import PortalSession
from apps.pricing.selectors import price_at, versions_of
from apps.stations.models import Connector, Station

from .choices import LIVE_STATES, CommandState
from .models import ChargingSession, OutboundCommand


@dataclass(frozen=True, slots=True)
class Backlog:
    """The outbox's pending commands, and how long the longest-overdue one has waited since it was due (0 when
    none is overdue: a command waiting out its retry backoff is not late)."""

    depth: int
    oldest_seconds: float


def outbox_backlog(now: dt.datetime | None = None) -> Backlog:
    """One query over the pending commands only (the partial index `command_pending`)."""
    now = now or timezone.now()
    due_since = Coalesce("next_attempt_at", "created")
    overdue = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    row = OutboundCommand.objects.filter(state=CommandState.PENDING).aggregate(
        depth=Count("pk"), oldest=Min(due_since, filter=overdue)
    )
    oldest = row["oldest"]
    return Backlog(row["depth"], max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)


def live_sessions() -> QuerySet[ChargingSession]:
    return ChargingSession.objects.filter(state__in=LIVE_STATES)


def portal_session_of(operator_id: str, seq: str) -> PortalSession | None:
    """The order push's view of a session the portal started with this operator (registered in ChargingConfig):
    its connector, and its ceiling: the hold taken for it, or for an account that holds nothing (billed monthly)
    the hold a prepaid one would have given."""
    row = (
        ChargingSession.objects.filter(operator_id=operator_id, start_charge_seq=seq)
        .annotate(held=hold_subquery(seq))  # one statement: every order push of the portal's sessions asks this
        .values_list("connector__connector_id", "held")
        .first()
    )
    if row is None:
        return None
    connector_id, held = row
    return PortalSession(connector_id, -held if held is not None else conf().charging.driver_hold)


def _km(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance in km (haversine); GCJ-02 offsets are far below what a driver cares about here."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def stations_near(*, lng: float | None, lat: float | None, radius_km: float, district: str = "",
                  limit: int = 50) -> list[dict[str, Any]]:  # fmt: skip
    """Stations in service near a point (nearest first) or in a district, with each connector's live status and its
    price now. Only operators that are connected (testing or active) are shown: a driver can start nowhere else."""
    stations = Station.objects.filter(removed_at__isnull=True, operator__status__in=CONNECTED_STATUSES)
    if district:
        stations = stations.filter(area_code=district)
    if lng is not None and lat is not None:
        dlat = radius_km / 111.0
        dlng = radius_km / max(0.01, 111.0 * math.cos(math.radians(lat)))
        stations = stations.filter(
            station_lng__range=(lng - dlng, lng + dlng), station_lat__range=(lat - dlat, lat + dlat)
        )
    rows = list(stations.select_related("operator")[: limit * 4])
    distance: dict[int, float] = {}
    if lng is not None and lat is not None:
        distance = {s.pk: _km(lng, lat, float(s.station_lng), float(s.station_lat)) for s in rows}
        rows = sorted((s for s in rows if distance[s.pk] <= radius_km), key=lambda s: distance[s.pk])
    rows = rows[:limit]
    connectors = list(
        Connector.objects.filter(station__in=rows, removed_at__isnull=True).select_related("current_status")
    )
    versions = versions_of(c.pk for c in connectors)
    now = timezone.now()
    by_station: dict[int, list[dict[str, Any]]] = {}
    for c in connectors:
        price = price_at(versions.get(c.pk, []), now)
        current = getattr(c, "current_status", None)
        by_station.setdefault(c.station_id, []).append({
            "connector_id": c.connector_id, "power": c.power, "status": current.status if current else None,
            "elec_price": price.elec_price if price else None, "sevice_price": price.sevice_price if price else None,
        })  # fmt: skip
    out = []
    for s in rows:
        item = {"operator_id": s.operator_id, "station_id": s.station_id, "station_name": s.station_name,
                "address": s.address, "lng": s.station_lng, "lat": s.station_lat,
                "connectors": by_station.get(s.pk, [])}  # fmt: skip
        if distance:
            item["distance_km"] = round(distance[s.pk], 2)
        out.append(item)
    return out
