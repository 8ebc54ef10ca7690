"""The regulator's dashboard: today's figures for the city (or one operator, for its manager), each from set-based
SQL, cached for HLHT_DASHBOARD_CACHE_SECONDS, each with the filtered list behind it.

Figures that do not exist yet are left out, not faked; charts and the district map come with the dashboard issue's
front-end part.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.urls import reverse
from django.utils import timezone

from apps.core.roles import scope_of
from apps.interconnect.choices import Direction, RunStatus
from apps.interconnect.models import Exchange, SyncRun
from apps.onboarding.choices import ApplicationStatus
from apps.onboarding.models import Application, ConformanceReport
from apps.operators.choices import OperatorKind, OperatorStatus
from apps.operators.models import Operator
from apps.orders.models import ChargeOrder
from apps.orders.selectors import with_trusted_times
from apps.protocol import CST
from apps.protocol.beijing import DISTRICTS
from apps.protocol.names import Interface
from apps.settlement.choices import DisputeState
from apps.settlement.models import Dispute
from apps.stations.choices import ConnectorStatus as Status
from apps.stations.models import ConnectorStatusHistory
from apps.stations.selectors import listed_connectors

from .health import with_health
from .selectors import TARGET, correctness_by_operator

ORDER_DAYS = 30


def _url(name: str, **query: Any) -> str:
    base = reverse(f"admin:{name}_changelist")
    return f"{base}?{urlencode(query)}" if query else base


def _today_start() -> datetime:
    return datetime.combine(timezone.localdate(), time.min, tzinfo=CST)


def _status_now(connectors) -> dict[str, Any]:
    rows = connectors.values("station__area_code", "current_status__status").annotate(n=Count("pk")).order_by()
    labels = dict(Status.choices)
    city: dict[Any, int] = {}
    districts: dict[str, dict[Any, int]] = {}
    for row in rows:
        status, n = row["current_status__status"], row["n"]
        city[status] = city.get(status, 0) + n
        district = districts.setdefault(row["station__area_code"], {})
        district[status] = district.get(status, 0) + n
    columns = [value for value in labels if value in city] + ([None] if None in city else [])

    def cells(counts: dict[Any, int]) -> list[int]:
        return [counts.get(value, 0) for value in columns]

    return {
        "columns": [
            (labels.get(value, "未收到状态"),
             _url("stations_connector", **({"current_status__status__exact": value} if value is not None
                                            else {"current_status__status__isnull": "True"})))
            for value in columns
        ],
        "city": cells(city), "total": sum(city.values()),
        "districts": [(DISTRICTS[code].name if code in DISTRICTS else code, cells(counts), sum(counts.values()))
                      for code, counts in sorted(districts.items())],
    }  # fmt: skip


def _figures(operator_id: str | None) -> dict[str, Any]:
    start = _today_start()
    operators = Operator.objects.all() if operator_id is None else Operator.objects.filter(pk=operator_id)
    own = {} if operator_id is None else {"operator_id": operator_id}
    connectors = listed_connectors().filter(**own)

    stale = [
        {"operator": op, "since": op.last_status_data, "url": reverse("admin:operators_operator_change", args=[op.pk])}
        for op in with_health(operators.filter(kind=OperatorKind.OPERATOR, status=OperatorStatus.ACTIVE)).filter(
            is_stale=True
        )
    ]
    history = ConnectorStatusHistory.objects.filter(status_time__gte=start)
    if operator_id is not None:
        history = history.filter(connector__operator_id=operator_id)
    per_hour = {
        timezone.localtime(row["hour"]).hour: row["n"]
        for row in history.annotate(hour=TruncHour("status_time", tzinfo=CST)).values("hour").annotate(n=Count("pk"))
    }
    runs = (
        SyncRun.objects.filter(started__gte=start, **own)
        .values("operator_id")
        .annotate(total=Count("pk"), failed=Count("pk", filter=Q(status=RunStatus.FAILED)))
    )
    pushes = Exchange.objects.filter(created__gte=start, direction=Direction.IN,
                                     interface=Interface.NOTIFICATION_STATION_STATUS, **own)  # fmt: skip
    pushed = pushes.values("operator_id").annotate(total=Count("pk"), failed=Count("pk", filter=~Q(ret=0)))
    exchange = {row["operator_id"]: {"runs": row["total"], "runs_failed": row["failed"]} for row in runs}
    for row in pushed:
        exchange.setdefault(row["operator_id"], {}).update(pushes=row["total"], pushes_failed=row["failed"])
    names = dict(operators.values_list("operator_id", "operator_name"))
    today = start.isoformat()  # with its offset: a bare date on a DateTimeField would be read as naive

    since = timezone.localdate() - timedelta(days=ORDER_DAYS - 1)
    # One query: orders and energy per operator per Beijing day; the city's days and each operator's 30 days are
    # their sums.
    per_day = list(
        with_trusted_times(
            ChargeOrder.objects.filter(start_time__gte=datetime.combine(since, time.min, tzinfo=CST), **own)
        )
        .annotate(day=TruncDate("start_time", tzinfo=CST))
        .values("operator_id", "day")
        .annotate(n=Count("pk"), energy=Sum("total_power"))
        .order_by("day", "operator_id")
    )
    days: dict[Any, dict[str, Any]] = {}
    totals: dict[str, dict[str, Any]] = {}
    for row in per_day:
        for bucket in (
            days.setdefault(row["day"], {"day": row["day"], "n": 0, "energy": 0}),
            totals.setdefault(row["operator_id"], {"operator_id": row["operator_id"], "n": 0, "energy": 0}),
        ):
            bucket["n"] += row["n"]
            bucket["energy"] += row["energy"] or 0
    orders = list(days.values())
    by_operator = sorted(totals.values(), key=lambda row: -row["n"])
    charging_ops = list(operators.filter(kind=OperatorKind.OPERATOR).values_list("pk", flat=True))
    correctness = correctness_by_operator(charging_ops, since, timezone.localdate())
    disputes = Dispute.objects.filter(state=DisputeState.OPEN, **own)
    pending = Application.objects.filter(status=ApplicationStatus.PENDING)
    if operator_id is not None:
        pending = pending.filter(operator_id=operator_id)
    testing = operators.filter(status=OperatorStatus.TESTING)
    latest = {r.operator_id: r for r in ConformanceReport.objects.filter(operator__in=testing).order_by("started")}
    return {
        "generated": timezone.now(),
        "status_now": _status_now(connectors),
        "stale": stale,
        "stale_url": _url("operators_operator", stale="1"),
        "per_hour": [(hour, per_hour.get(hour, 0)) for hour in range(timezone.localtime().hour + 1)],
        "per_hour_total": sum(per_hour.values()),
        "history_url": _url("stations_connectorstatushistory", status_time__gte=start.isoformat()),
        "exchange": [
            {"operator_id": oid, "name": names.get(oid, oid), **{"runs": 0, "runs_failed": 0, "pushes": 0,
                                                                 "pushes_failed": 0, **figures},
             "runs_url": _url("interconnect_syncrun", operator__operator_id__exact=oid, started__gte=today),
             # The journal is the city's (operator managers do not see it): linked on the city's dashboard only.
             "pushes_url": None if operator_id else _url("interconnect_exchange", operator__operator_id__exact=oid,
                                                         created__gte=today,
                                                         interface=Interface.NOTIFICATION_STATION_STATUS)}
            for oid, figures in sorted(exchange.items())
        ],
        "orders_days": orders,
        "orders_per_operator_day": per_day,
        "orders_by_operator": [{**row, "name": names.get(row["operator_id"], row["operator_id"]),
                                "url": _url("orders_chargeorder", operator__operator_id__exact=row["operator_id"])}
                               for row in by_operator],
        "orders_days_n": ORDER_DAYS,
        "correctness": [(names.get(oid, oid), figure) for oid, figure in correctness.items() if figure.received],
        "target": TARGET,
        "quality_url": reverse("admin:interconnect_rejectedrecord_quality"),
        "disputes": disputes.count(),
        "disputes_url": _url("settlement_dispute", state__exact=DisputeState.OPEN),
        "pending_applications": pending.count(),
        "applications_url": _url("onboarding_application", status__exact=ApplicationStatus.PENDING),
        "testing": [{"operator": op, "report": latest.get(op.pk)} for op in testing.order_by("operator_id")],
        "cache_seconds": settings.HLHT_DASHBOARD_CACHE_SECONDS,
    }  # fmt: skip


def _station_points(operator_id: str | None) -> list[list[Any]]:
    """[lng, lat, share of connectors available (0–1), station name, station pk] for every station with connectors."""
    connectors = listed_connectors()
    if operator_id is not None:
        connectors = connectors.filter(operator_id=operator_id)
    rows = (
        connectors.values("station_id", "station__station_lng", "station__station_lat", "station__station_name")
        .annotate(total=Count("pk"), idle=Count("pk", filter=Q(current_status__status=Status.IDLE)))
        .order_by()
    )
    return [
        [float(r["station__station_lng"]), float(r["station__station_lat"]), round(r["idle"] / r["total"], 3),
         r["station__station_name"], r["station_id"]]
        for r in rows
        if r["station__station_lng"] is not None
    ]  # fmt: skip


def _scoped_cache(user, name: str, compute):
    """`compute(scope)` for this person's scope (None: the city; an OperatorID: their operator), cached per scope
    for HLHT_DASHBOARD_CACHE_SECONDS; None for someone with neither."""
    reach = scope_of(user)
    if reach.empty:
        return None
    scope = reach.operator_id
    key = f"supervision:dashboard:{name}:{reach.key}"
    value = cache.get(key)
    if value is None:
        value = compute(scope)
        cache.set(key, value, settings.HLHT_DASHBOARD_CACHE_SECONDS)
    return value


def station_points(user) -> list[list[Any]] | None:
    """The map's points for this person's scope, cached like the figures."""
    return _scoped_cache(user, "points", _station_points)


def charts(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures in the shape the dashboard's charts draw (apps' static/supervision/dashboard.js)."""
    status = figures["status_now"]
    return {
        "statuses": [label for label, _ in status["columns"]],
        "districts": [name for name, _, _ in status["districts"]],
        "by_district": [cells for _, cells, _ in status["districts"]],
        "hours": [f"{hour}时" for hour, _ in figures["per_hour"]],
        "per_hour": [n for _, n in figures["per_hour"]],
        "days": [row["day"].isoformat() for row in figures["orders_days"]],
        "orders": [row["n"] for row in figures["orders_days"]],
        "energy": [float(row["energy"] or 0) for row in figures["orders_days"]],
        # Orders per operator per day, one stacked series per operator (by name), aligned on `days`.
        "operator_orders": _per_operator(figures),
    }


def _per_operator(figures: dict[str, Any]) -> list[dict[str, Any]]:
    days = [row["day"] for row in figures["orders_days"]]
    names = {row["operator_id"]: row["name"] for row in figures["orders_by_operator"]}
    cells: dict[str, dict[Any, int]] = {}
    for row in figures["orders_per_operator_day"]:
        cells.setdefault(row["operator_id"], {})[row["day"]] = row["n"]
    return [
        {"name": names.get(oid, oid), "data": [counts.get(day, 0) for day in days]} for oid, counts in cells.items()
    ]


def dashboard(user) -> dict[str, Any] | None:
    """The figures this person may see (the city, or their own operator), cached per scope; None for nobody."""

    def compute(scope: str | None) -> dict[str, Any]:
        figures = _figures(scope)
        figures["charts"] = charts(figures)
        return figures

    return _scoped_cache(user, "figures", compute)
