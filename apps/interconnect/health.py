"""Reads of operator health: last good pull per interface, last status push, stale connectors, the stale flag."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from apps.operators.choices import OperatorKind, OperatorStatus
from apps.operators.models import Operator
from apps.stations.models import Connector

from .choices import Direction, RunStatus
from .models import Exchange, SyncRun

PULLED = ("query_stations_info", "query_station_status", "query_station_stats")
PUSH = "notification_stationStatus"
# Stands in for "never" inside GREATEST(), which is NULL on SQLite as soon as one argument is NULL.
_NEVER = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def stale_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(minutes=settings.HLHT_STALE_MINUTES)


def _last_pull(interface: str) -> Subquery:
    runs = SyncRun.objects.filter(operator=OuterRef("pk"), interface=interface, status=RunStatus.SUCCEEDED)
    return Subquery(runs.order_by("-started").values("finished")[:1], output_field=DateTimeField())


def _last_push() -> Subquery:
    pushes = Exchange.objects.filter(operator=OuterRef("pk"), interface=PUSH, direction=Direction.IN, ret=0)
    return Subquery(pushes.order_by("-created").values("created")[:1], output_field=DateTimeField())


def stale_connectors(cutoff: dt.datetime) -> QuerySet[Connector]:
    """Listed connectors whose last known status is older than `cutoff`, or that never had one."""
    return Connector.objects.filter(removed_at__isnull=True, station__removed_at__isnull=True).filter(
        Q(current_status__isnull=True) | Q(current_status__status_time__lt=cutoff)
    )


def with_health(queryset: QuerySet[Operator], now: dt.datetime | None = None) -> QuerySet[Operator]:
    """Annotate operators with their health: `last_<interface>` for each pull, `last_push`, `last_status_data`
    (the newer of the two status sources), `stale_connector_count` and `is_stale`.

    A charging operator in service is stale when no connector status has reached the portal, pushed or pulled,
    within HLHT_STALE_MINUTES: its platform, its pushes or the portal's pulls have stopped.
    """
    cutoff = stale_cutoff(now)
    stale_count = (
        stale_connectors(cutoff)
        .filter(operator=OuterRef("pk"))
        .order_by()
        .values("operator")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_status = Greatest(Coalesce("last_query_station_status", Value(_NEVER)), Coalesce("last_push", Value(_NEVER)))
    return queryset.annotate(
        **{f"last_{name}": _last_pull(name) for name in PULLED},
        last_push=_last_push(),
        last_status_data=Case(
            When(Q(last_query_station_status__isnull=True, last_push__isnull=True), then=Value(None)),
            default=last_status,
            output_field=DateTimeField(),
        ),
        stale_connector_count=Coalesce(Subquery(stale_count, output_field=IntegerField()), Value(0)),
        is_stale=Case(
            When(
                Q(kind=OperatorKind.OPERATOR, status=OperatorStatus.ACTIVE)
                & (Q(last_status_data__isnull=True) | Q(last_status_data__lt=cutoff)),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


@dataclass(frozen=True, slots=True)
class Health:
    """One operator's health, for its admin page."""

    last_pulls: dict[str, dt.datetime | None]
    last_push: dt.datetime | None
    last_status_data: dt.datetime | None
    stale_connectors: int
    connectors: int
    is_stale: bool
    threshold_minutes: int


def operator_health(operator_id: str, now: dt.datetime | None = None) -> Health:
    row = with_health(Operator.objects.filter(pk=operator_id), now).get()
    return Health(
        last_pulls={name: getattr(row, f"last_{name}") for name in PULLED},
        last_push=row.last_push,
        last_status_data=row.last_status_data,
        stale_connectors=row.stale_connector_count,
        connectors=Connector.objects.filter(
            operator_id=operator_id, removed_at__isnull=True, station__removed_at__isnull=True
        ).count(),
        is_stale=row.is_stale,
        threshold_minutes=settings.HLHT_STALE_MINUTES,
    )
