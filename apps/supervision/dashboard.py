"""The regulator's dashboard: today's figures for the city (or one operator, for its manager), one selector each
(apps/supervision/figures.py), cached per scope for HLHT_DASHBOARD_CACHE_SECONDS, each with the filtered list behind
it; the charts' series and the map's points drawn from them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from apps.core.conf import conf
from apps.core.roles import Scope, may, scope_of
from apps.interconnect.models import SyncRun
from apps.onboarding.models import Application
from apps.operators.models import Operator
from apps.orders.models import ChargeOrder
from apps.settlement.models import Dispute
from apps.stations.choices import ConnectorStatus as Status
from apps.stations.models import Connector, ConnectorStatusHistory, Station
from apps.stations.selectors import listed_connectors

from . import figures
from .selectors import TARGET

T = TypeVar("T")


@dataclass(frozen=True)
class Dashboard:
    """Every figure of one scope's dashboard, as the template and the charts read them; None for a figure the
    person may not see (FIGURE_MODELS)."""

    generated: datetime
    status_now: figures.StatusNow | None
    stale: list[figures.StaleOperator] | None
    stale_url: str
    status_changes: figures.StatusChanges | None
    exchange: list[figures.ExchangeRow] | None
    orders: figures.Orders | None
    correctness: list[figures.OperatorCorrectness] | None
    target: Decimal
    quality_url: str
    disputes: figures.Tally | None
    pending_applications: figures.Tally | None
    testing: list[figures.TestingOperator] | None
    cache_seconds: int
    charts: dict[str, Any]  # the JSON the page's script draws (static/supervision/dashboard.js)


# The model each figure counts. The figures are computed once per scope (for_scope, the rule's row half) and cached;
# each person then sees a figure only if the rule's permission half lets them view that model. (Today's status
# pushes are counted beside the runs: an operator's manager sees how many of their pushes arrived, the journal
# rows themselves stay the city's, linked on the city's dashboard only.)
FIGURE_MODELS: dict[str, type[models.Model]] = {
    "status_now": Connector,
    "stale": Operator,
    "status_changes": ConnectorStatusHistory,
    "exchange": SyncRun,
    "orders": ChargeOrder,
    "correctness": SyncRun,
    "disputes": Dispute,
    "pending_applications": Application,
    "testing": Operator,
}


def dashboard_compute(scope: Scope) -> Dashboard:
    """Every figure for one scope, afresh."""
    orders = figures.orders_last_days(scope)
    status_now = figures.status_now(scope)
    status_changes = figures.status_changes_today(scope)
    return Dashboard(
        generated=timezone.now(),
        status_now=status_now,
        stale=figures.stale_operators(scope),
        stale_url=figures.changelist_url("operators_operator", stale="1"),
        status_changes=status_changes,
        exchange=figures.exchange_today(scope),
        orders=orders,
        correctness=figures.correctness_last_days(scope),
        target=TARGET,
        quality_url=reverse("admin:interconnect_rejectedrecord_quality"),
        disputes=figures.open_disputes(scope),
        pending_applications=figures.pending_applications(scope),
        testing=figures.operators_in_testing(scope),
        cache_seconds=conf().supervision.dashboard_cache_seconds,
        charts=charts(status_now, status_changes, orders),
    )


def charts(
    status: figures.StatusNow | None, changes: figures.StatusChanges | None, orders: figures.Orders | None
) -> dict[str, Any]:
    """The figures in the shape the dashboard's charts draw (apps' static/supervision/dashboard.js); a figure the
    person may not see draws nothing."""
    status = status or figures.StatusNow(columns=[], city=[], total=0, districts=[])
    changes = changes or figures.StatusChanges(hours=[], total=0, url="")
    orders = orders or figures.Orders(days=[], per_operator_day=[], by_operator=[])
    return {
        "statuses": [column.label for column in status.columns],
        "status_colours": [column.colour for column in status.columns],
        "districts": [row.name for row in status.districts],
        "by_district": [row.cells for row in status.districts],
        "hours": [f"{hour}时" for hour, _ in changes.hours],
        "per_hour": [n for _, n in changes.hours],
        "days": [row.day.isoformat() for row in orders.days],
        "orders": [row.n for row in orders.days],
        "energy": [float(row.energy or 0) for row in orders.days],
        # Orders per operator per day, one stacked series per operator (by name), aligned on `days`.
        "operator_orders": _per_operator(orders),
    }


def _per_operator(orders: figures.Orders) -> list[dict[str, Any]]:
    days = [row.day for row in orders.days]
    names = {row.operator_id: row.name for row in orders.by_operator}
    cells: dict[str, dict[Any, int]] = {}
    for row in orders.per_operator_day:
        cells.setdefault(row.operator_id, {})[row.day] = row.n
    return [
        {"name": names.get(oid, oid), "data": [counts.get(day, 0) for day in days]} for oid, counts in cells.items()
    ]


def station_points_compute(scope: Scope) -> list[list[Any]]:
    """[lng, lat, share of connectors available (0–1), station name, station pk] for every station with connectors."""
    rows = (
        listed_connectors()
        .for_scope(scope)
        .values("station_id", "station__station_lng", "station__station_lat", "station__station_name")
        .annotate(total=Count("pk"), idle=Count("pk", filter=Q(current_status__status=Status.IDLE)))
        .order_by()
    )
    return [
        [float(r["station__station_lng"]), float(r["station__station_lat"]), round(r["idle"] / r["total"], 3),
         r["station__station_name"], r["station_id"]]
        for r in rows
        if r["station__station_lng"] is not None
    ]  # fmt: skip


def _scoped_cache(user, name: str, compute: Callable[[Scope], T]) -> T | None:
    """`compute(scope)` for this person's scope (the city, or their operator), cached per scope for
    HLHT_DASHBOARD_CACHE_SECONDS; None for someone with neither."""
    scope = scope_of(user)
    if scope.empty:
        return None
    key = f"supervision:dashboard:v2:{name}:{scope.key}"  # v2: typed figures, not dicts
    value = cache.get(key)
    if value is None:
        value = compute(scope)
        cache.set(key, value, conf().supervision.dashboard_cache_seconds)
    return value


def station_points(user) -> list[list[Any]] | None:
    """The map's points for this person's scope, cached like the figures; none for who may not view stations."""
    if not may(user, Station, "view"):
        return None
    return _scoped_cache(user, "points", station_points_compute)


def dashboard(user) -> Dashboard | None:
    """The figures this person may see (the city, or their own operator), cached per scope; None for nobody."""
    computed = _scoped_cache(user, "figures", dashboard_compute)
    if computed is None:
        return None
    hidden = {name: None for name, model in FIGURE_MODELS.items() if not may(user, model, "view")}
    if not hidden:
        return computed
    shown = dataclasses.replace(computed, **hidden)
    return dataclasses.replace(shown, charts=charts(shown.status_now, shown.status_changes, shown.orders))
