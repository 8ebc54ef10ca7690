"""Reads of operator health: last good pull per interface, last status push, stale connectors, the stale flag."""

from __future__ import annotations

import datetime as dt

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

from apps.interconnect.choices import Direction, RunStatus
from apps.interconnect.models import Exchange, SyncRun
from apps.operators.choices import OperatorKind, OperatorStatus
from apps.operators.models import Operator
from apps.protocol.names import Interface
from apps.stations.selectors import stale_connectors, stale_cutoff

PULLED = (Interface.QUERY_STATIONS_INFO, Interface.QUERY_STATION_STATUS, Interface.QUERY_STATION_STATS)
PUSH = Interface.NOTIFICATION_STATION_STATUS
# Stands in for "never" inside GREATEST(), which is NULL on SQLite as soon as one argument is NULL.
_NEVER = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _last_pull(interface: str) -> Subquery:
    runs = SyncRun.objects.filter(operator=OuterRef("pk"), interface=interface, status=RunStatus.SUCCEEDED)
    return Subquery(runs.order_by("-started").values("finished")[:1], output_field=DateTimeField())


def _last_push() -> Subquery:
    pushes = Exchange.objects.filter(operator=OuterRef("pk"), interface=PUSH, direction=Direction.IN, ret=0)
    return Subquery(pushes.order_by("-created").values("created")[:1], output_field=DateTimeField())


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
