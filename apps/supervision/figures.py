"""The dashboard's figures: one selector per figure, each reading the rows of one scope (`for_scope`, the row half of
the authorization rule) in set-based SQL and returning plain typed values that cache well (no model instances)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.urls import reverse
from django.utils import timezone

from apps.core.roles import Scope
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
from apps.stations.choices import STATUS_COLOURS
from apps.stations.choices import ConnectorStatus as Status
from apps.stations.models import ConnectorStatusHistory
from apps.stations.selectors import listed_connectors

from .health import with_health
from .selectors import Correctness, correctness_by_operator

ORDER_DAYS = 30  # the orders and the correctness figures cover the last 30 Beijing days


def changelist_url(name: str, **query: Any) -> str:
    base = reverse(f"admin:{name}_changelist")
    return f"{base}?{urlencode(query)}" if query else base


def today_start() -> datetime:
    return datetime.combine(timezone.localdate(), time.min, tzinfo=CST)


def _names(scope: Scope) -> dict[str, str]:
    return dict(Operator.objects.for_scope(scope).values_list("operator_id", "operator_name"))


# -- connectors by status, for the city and each district ---------------------------------------------------------


@dataclass(frozen=True)
class StatusColumn:
    label: str
    url: str
    colour: str


@dataclass(frozen=True)
class DistrictRow:
    name: str
    cells: list[int]
    total: int


@dataclass(frozen=True)
class StatusNow:
    """Listed connectors by current status: one column per status present, the city's row and a row per district."""

    columns: list[StatusColumn]
    city: list[int]
    total: int
    districts: list[DistrictRow]

    @property
    def city_cells(self) -> list[tuple[StatusColumn, int]]:
        """The city's count under each status column, for the page's status cards."""
        return list(zip(self.columns, self.city, strict=True))


def status_now(scope: Scope) -> StatusNow:
    rows = (
        listed_connectors()
        .for_scope(scope)
        .values("station__area_code", "current_status__status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    labels = dict(Status.choices)
    city: dict[Any, int] = {}
    districts: dict[str, dict[Any, int]] = {}
    for row in rows:
        status, n = row["current_status__status"], row["n"]
        city[status] = city.get(status, 0) + n
        district = districts.setdefault(row["station__area_code"], {})
        district[status] = district.get(status, 0) + n
    values = [value for value in labels if value in city] + ([None] if None in city else [])

    def cells(counts: dict[Any, int]) -> list[int]:
        return [counts.get(value, 0) for value in values]

    def column(value: Any) -> StatusColumn:
        query = (
            {"current_status__status__exact": value}
            if value is not None
            else {"current_status__status__isnull": "True"}
        )
        return StatusColumn(
            labels.get(value, "未收到状态"), changelist_url("stations_connector", **query), STATUS_COLOURS[value]
        )

    return StatusNow(
        columns=[column(value) for value in values],
        city=cells(city),
        total=sum(city.values()),
        districts=[
            DistrictRow(DISTRICTS[code].name if code in DISTRICTS else code, cells(counts), sum(counts.values()))
            for code, counts in sorted(districts.items())
        ],
    )


# -- operators whose status data stopped arriving -----------------------------------------------------------------


@dataclass(frozen=True)
class StaleOperator:
    operator_id: str
    label: str  # as the admin names the operator
    since: datetime | None  # their last status data, None for never
    url: str


def stale_operators(scope: Scope) -> list[StaleOperator]:
    active = Operator.objects.for_scope(scope).filter(kind=OperatorKind.OPERATOR, status=OperatorStatus.ACTIVE)
    # last_status_data and is_stale are with_health's annotations, which the type checker cannot see.
    stale = with_health(active).filter(is_stale=True)  # type: ignore[misc]
    return [
        StaleOperator(op.pk, str(op), op.last_status_data, reverse("admin:operators_operator_change", args=[op.pk]))  # type: ignore[attr-defined]
        for op in stale
    ]


# -- status changes today, per Beijing hour -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChanges:
    hours: list[tuple[int, int]]  # (hour, changes), from 0 to the current hour
    total: int
    url: str


def status_changes_today(scope: Scope) -> StatusChanges:
    start = today_start()
    history = ConnectorStatusHistory.objects.for_scope(scope).filter(status_time__gte=start)
    per_hour = {
        timezone.localtime(row["hour"]).hour: row["n"]
        for row in history.annotate(hour=TruncHour("status_time", tzinfo=CST)).values("hour").annotate(n=Count("pk"))
    }
    return StatusChanges(
        hours=[(hour, per_hour.get(hour, 0)) for hour in range(timezone.localtime().hour + 1)],
        total=sum(per_hour.values()),
        url=changelist_url("stations_connectorstatushistory", status_time__gte=start.isoformat()),
    )


# -- today's exchanges: pulls and status pushes per operator --------------------------------------------------------


@dataclass(frozen=True)
class ExchangeRow:
    operator_id: str
    name: str
    runs: int
    runs_failed: int
    pushes: int
    pushes_failed: int
    runs_url: str
    pushes_url: str | None  # the journal: linked for the city's scope only


def exchange_today(scope: Scope) -> list[ExchangeRow]:
    start = today_start()
    runs = (
        SyncRun.objects.for_scope(scope)
        .filter(started__gte=start)
        .values("operator_id")
        .annotate(total=Count("pk"), failed=Count("pk", filter=Q(status=RunStatus.FAILED)))
    )
    pushes = (
        Exchange.objects.for_scope(scope)
        .filter(created__gte=start, direction=Direction.IN, interface=Interface.NOTIFICATION_STATION_STATUS)
        .values("operator_id")
        .annotate(total=Count("pk"), failed=Count("pk", filter=~Q(ret=0)))
    )
    counts: dict[str, dict[str, int]] = {}
    for row in runs:
        counts.setdefault(row["operator_id"], {}).update(runs=row["total"], runs_failed=row["failed"])
    for row in pushes:
        counts.setdefault(row["operator_id"], {}).update(pushes=row["total"], pushes_failed=row["failed"])
    names = _names(scope) if counts else {}
    today = start.isoformat()  # with its offset: a bare date on a DateTimeField would be read as naive
    return [
        ExchangeRow(
            operator_id=oid,
            name=names.get(oid, oid),
            runs=figures.get("runs", 0),
            runs_failed=figures.get("runs_failed", 0),
            pushes=figures.get("pushes", 0),
            pushes_failed=figures.get("pushes_failed", 0),
            runs_url=changelist_url("interconnect_syncrun", operator__operator_id__exact=oid, started__gte=today),
            # The journal is the city's (operator managers do not see it): linked on the city's dashboard only.
            pushes_url=changelist_url(
                "interconnect_exchange",
                operator__operator_id__exact=oid,
                created__gte=today,
                interface=Interface.NOTIFICATION_STATION_STATUS,
            )
            if scope.city
            else None,
        )
        for oid, figures in sorted(counts.items())
    ]


# -- orders over the last 30 days ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrdersDay:
    day: date
    n: int
    energy: Decimal | int


@dataclass(frozen=True)
class OperatorOrdersDay:
    operator_id: str
    day: date
    n: int
    energy: Decimal | None


@dataclass(frozen=True)
class OperatorOrders:
    operator_id: str
    name: str
    n: int
    energy: Decimal | int
    url: str


@dataclass(frozen=True)
class Orders:
    """Orders and energy per Beijing day for the scope, per operator per day, and per operator over the days."""

    days: list[OrdersDay]
    per_operator_day: list[OperatorOrdersDay]
    by_operator: list[OperatorOrders]
    days_n: int = ORDER_DAYS

    @property
    def total(self) -> int:
        return sum(row.n for row in self.by_operator)

    @property
    def energy(self) -> Decimal | int:
        return sum((row.energy or 0 for row in self.by_operator), Decimal(0))


def orders_last_days(scope: Scope) -> Orders:
    since = timezone.localdate() - timedelta(days=ORDER_DAYS - 1)
    # One query: orders and energy per operator per Beijing day; the scope's days and each operator's 30 days are
    # their sums. Orders from an operator clock running ahead are never counted (with_trusted_times).
    orders = ChargeOrder.objects.for_scope(scope).filter(start_time__gte=datetime.combine(since, time.min, tzinfo=CST))
    per_day = [
        OperatorOrdersDay(row["operator_id"], row["day"], row["n"], row["energy"])
        for row in with_trusted_times(orders)
        .annotate(day=TruncDate("start_time", tzinfo=CST))
        .values("operator_id", "day")
        .annotate(n=Count("pk"), energy=Sum("total_power"))
        .order_by("day", "operator_id")
    ]
    days: dict[date, list] = {}
    totals: dict[str, list] = {}
    for row in per_day:
        for bucket in (days.setdefault(row.day, [0, 0]), totals.setdefault(row.operator_id, [0, 0])):
            bucket[0] += row.n
            bucket[1] += row.energy or 0
    names = _names(scope) if totals else {}
    by_operator = sorted(totals.items(), key=lambda item: -item[1][0])
    return Orders(
        days=[OrdersDay(day, n, energy) for day, (n, energy) in days.items()],
        per_operator_day=per_day,
        by_operator=[
            OperatorOrders(
                oid,
                names.get(oid, oid),
                n,
                energy,
                changelist_url("orders_chargeorder", operator__operator_id__exact=oid),
            )
            for oid, (n, energy) in by_operator
        ],
    )


# -- correctness of station data over the last 30 days --------------------------------------------------------------


@dataclass(frozen=True)
class OperatorCorrectness:
    name: str
    figure: Correctness


def correctness_last_days(scope: Scope) -> list[OperatorCorrectness]:
    today = timezone.localdate()
    operators = dict(
        Operator.objects.for_scope(scope).filter(kind=OperatorKind.OPERATOR).values_list("pk", "operator_name")
    )
    figures = correctness_by_operator(list(operators), today - timedelta(days=ORDER_DAYS - 1), today)
    return [OperatorCorrectness(operators.get(oid, oid), figure) for oid, figure in figures.items() if figure.received]


# -- what waits for someone: open disputes, pending applications, operators in testing -----------------------------


@dataclass(frozen=True)
class Tally:
    n: int
    url: str


def open_disputes(scope: Scope) -> Tally:
    n = Dispute.objects.for_scope(scope).filter(state=DisputeState.OPEN).count()
    return Tally(n, changelist_url("settlement_dispute", state__exact=DisputeState.OPEN))


def pending_applications(scope: Scope) -> Tally:
    n = Application.objects.for_scope(scope).filter(status=ApplicationStatus.PENDING).count()
    return Tally(n, changelist_url("onboarding_application", status__exact=ApplicationStatus.PENDING))


@dataclass(frozen=True)
class LatestReport:
    started: datetime
    passed: bool


@dataclass(frozen=True)
class TestingOperator:
    operator_id: str
    label: str
    report: LatestReport | None  # their latest conformance report


def operators_in_testing(scope: Scope) -> list[TestingOperator]:
    testing = Operator.objects.for_scope(scope).filter(status=OperatorStatus.TESTING).order_by("operator_id")
    reports = ConformanceReport.objects.filter(operator__in=testing).order_by("started")
    latest = {row["operator_id"]: LatestReport(row["started"], row["passed"]) for row in
              reports.values("operator_id", "started", "passed")}  # fmt: skip
    return [TestingOperator(op.pk, str(op), latest.get(op.pk)) for op in testing]
