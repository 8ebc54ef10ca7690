"""The pictures on the station and operator pages: one selector per picture or series, each reading the rows of one
scope (`for_scope`) and returning plain typed values the panels draw (a station's connectors over the last 24
hours; an operator's status mix, crawls, pushes, orders and energy over 30 days)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.core.roles import Scope
from apps.indicators.models import Indicator, Level, Period
from apps.indicators.timeline import EXCLUDED, connector_spans
from apps.interconnect.choices import Direction, RunStatus
from apps.interconnect.models import Exchange, SyncRun
from apps.orders.models import ChargeOrder
from apps.orders.selectors import with_trusted_times
from apps.protocol import CST
from apps.protocol.names import Interface
from apps.stations.choices import STATUS_COLOURS
from apps.stations.choices import ConnectorStatus as Status
from apps.stations.models import Connector
from apps.stations.selectors import listed_connectors

TIMELINE_HOURS = 24  # a station page shows its connectors over the last 24 hours
TICK_HOURS = 2  # the time axis is labelled every two Beijing hours
FIGURE_DAYS = 30  # an operator page's figures cover the last 30 Beijing days, today included
NO_STATUS = "未知（无数据）"  # before the first report, and where the data stopped (the indicators' unknown)
NOT_LISTED = "未在列"  # a row's background: before the connector was listed, after it was removed
NOT_LISTED_COLOUR = "#eceff1"  # not a status, so not in STATUS_COLOURS


@dataclass(frozen=True)
class Legend:
    label: str
    colour: str


def status_legend() -> list[Legend]:
    """Every status in its colour (the one table, STATUS_COLOURS), and the colour of no data."""
    return [Legend(label, STATUS_COLOURS[value]) for value, label in Status.choices] + [
        Legend(NO_STATUS, STATUS_COLOURS[None])
    ]


def timeline_legend() -> list[Legend]:
    """The statuses, and a timeline row's background where its connector was not listed."""
    return [*status_legend(), Legend(NOT_LISTED, NOT_LISTED_COLOUR)]


# -- a station's connectors over the last 24 hours -------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    status: int | None  # the reported status; None where nothing is known
    label: str
    colour: str
    excluded: bool  # inside a maintenance window or an exemption: shown as reported, not counted by the indicators

    def offset(self, origin: datetime) -> float:
        return (self.start - origin).total_seconds()

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class ConnectorLine:
    connector_id: str
    name: str
    segments: list[Segment]


@dataclass(frozen=True)
class Tick:
    at: datetime
    label: str  # Beijing time, HH:MM; the date at midnight


@dataclass(frozen=True)
class StationTimeline:
    start: datetime
    end: datetime
    lines: list[ConnectorLine]
    ticks: list[Tick]
    legend: list[Legend]

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=CST)


def _ticks(start: datetime, end: datetime) -> list[Tick]:
    local = start.astimezone(CST)
    at = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    at += timedelta(hours=(-at.hour) % TICK_HOURS)
    ticks = []
    while at <= end:
        ticks.append(Tick(at, at.strftime("%m-%d") if at.hour == 0 else at.strftime("%H:%M")))
        at += timedelta(hours=TICK_HOURS)
    return ticks


def station_timeline(scope: Scope, station_pk: int, *, now: datetime | None = None) -> StationTimeline:
    """Each connector of the station listed at some time in the last 24 hours, by ConnectorID, as segments of one
    status: the status history cut by the indicators' rules (apps.indicators.timeline), so a stretch the indicators
    count as unknown is drawn as unknown here too, and neighbouring pieces of one status are one segment."""
    end = now or timezone.now()
    start = end - timedelta(hours=TIMELINE_HOURS)
    listed = Connector.objects.for_scope(scope).filter(
        Q(removed_at__isnull=True) | Q(removed_at__gt=start), station_id=station_pk, created__lt=end
    )
    names = dict(listed.values_list("pk", "connector_name"))
    labels = dict(Status.choices)
    lines = []
    for day in connector_spans(listed, start, end):
        segments: list[Segment] = []
        for piece in day.pieces:
            excluded = piece.state == EXCLUDED
            last = segments[-1] if segments else None
            if last and (last.status, last.excluded, last.end.timestamp()) == (piece.status, excluded, piece.start):
                segments[-1] = Segment(last.start, _moment(piece.end), last.status, last.label, last.colour, excluded)
                continue
            segments.append(
                Segment(
                    _moment(piece.start),
                    _moment(piece.end),
                    piece.status,
                    labels.get(piece.status, NO_STATUS) if piece.status is not None else NO_STATUS,
                    STATUS_COLOURS.get(piece.status, STATUS_COLOURS[None]),
                    excluded,
                )
            )
        lines.append(ConnectorLine(day.connector_id, names.get(day.pk, ""), segments))
    lines.sort(key=lambda line: line.connector_id)
    return StationTimeline(start, end, lines, _ticks(start, end), timeline_legend())


# -- an operator over the last 30 days -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusShare:
    label: str
    colour: str
    n: int


@dataclass(frozen=True)
class DailyOutcome:
    """Per day, oldest first: how many succeeded and how many failed."""

    days: list[date]
    ok: list[int]
    failed: list[int]

    @property
    def total(self) -> int:
        return sum(self.ok) + sum(self.failed)


@dataclass(frozen=True)
class DailyOrders:
    days: list[date]
    orders: list[int]
    energy: list[Decimal]  # kWh
    money: list[Decimal]  # 元


def figure_days(today: date | None = None) -> list[date]:
    last = today or timezone.localdate()
    return [last - timedelta(days=n) for n in range(FIGURE_DAYS - 1, -1, -1)]


def _since(days: list[date]) -> datetime:
    return datetime.combine(days[0], time.min, tzinfo=CST)


def operator_status_now(scope: Scope, operator_id: str) -> list[StatusShare]:
    """The operator's listed connectors by current status, every status in its colour (zeros kept, so the legend
    and colours read the same on every operator's page)."""
    counts = Counter(
        dict(
            listed_connectors()
            .for_scope(scope)
            .filter(operator_id=operator_id)
            .values("current_status__status")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("current_status__status", "n")
        )
    )
    shares = [StatusShare(label, STATUS_COLOURS[value], counts.get(value, 0)) for value, label in Status.choices]
    return [*shares, StatusShare(NO_STATUS, STATUS_COLOURS[None], counts.get(None, 0))]


@dataclass(frozen=True)
class StateHours:
    label: str
    colour: str
    hours: list[float | None]  # per day, oldest first; None for a day the indicators have not computed


@dataclass(frozen=True)
class StatesByDay:
    days: list[date]
    states: list[StateHours]


# The parts of a connector's day the indicators measure (their AVAIL rows' details, summed over the operator's
# connectors), each drawn in the colour of the status it comes from; out is offline or fault, drawn as offline.
STATE_PARTS = [
    ("空闲", STATUS_COLOURS[Status.IDLE], ("t_free",), ()),
    ("充电中", STATUS_COLOURS[Status.CHARGING], ("t_charging",), ()),
    ("占用（未充电或预约）", STATUS_COLOURS[Status.OCCUPIED], ("t_occupied",), ("t_charging",)),
    ("离网或故障", STATUS_COLOURS[Status.OFFLINE], ("t_out",), ()),
    (NO_STATUS, STATUS_COLOURS[None], ("t_unknown",), ()),
]


def operator_states_by_day(scope: Scope, operator_id: str, days: list[date]) -> StatesByDay:
    """Connector-hours per state per day, from the indicators' day rows for the operator (computed nightly, so
    today has none yet): what share of its connectors' time was free, charging, occupied, out or unknown."""
    rows = dict(
        Indicator.objects.for_scope(scope)
        .filter(code="AVAIL", level=Level.OPERATOR, period=Period.DAY, operator_id=operator_id,
                start__gte=days[0], start__lte=days[-1])
        .values_list("start", "details")
    )  # fmt: skip

    def hours(details: dict | None, plus: tuple[str, ...], minus: tuple[str, ...]) -> float | None:
        if details is None:
            return None
        seconds = sum(details.get(key, 0.0) for key in plus) - sum(details.get(key, 0.0) for key in minus)
        return round(max(seconds, 0.0) / 3600, 1)

    return StatesByDay(
        days,
        [StateHours(label, colour, [hours(rows.get(day), plus, minus) for day in days])
         for label, colour, plus, minus in STATE_PARTS],
    )  # fmt: skip


def operator_crawls(scope: Scope, operator_id: str, days: list[date]) -> DailyOutcome:
    """The portal's pull runs of the operator's platform per Beijing day (by start), succeeded and failed."""
    rows = (
        SyncRun.objects.for_scope(scope)
        .filter(operator_id=operator_id, started__gte=_since(days))
        .annotate(day=TruncDate("started", tzinfo=CST))
        .values("day")
        .annotate(
            ok=Count("pk", filter=Q(status=RunStatus.SUCCEEDED)), failed=Count("pk", filter=Q(status=RunStatus.FAILED))
        )
        .order_by()
    )
    return _outcome(days, {row["day"]: (row["ok"], row["failed"]) for row in rows})


def operator_pushes(scope: Scope, operator_id: str, days: list[date]) -> DailyOutcome:
    """The operator's status pushes (notification_stationStatus) per Beijing day, from the journal: answered Ret=0,
    or refused."""
    rows = (
        Exchange.objects.for_scope(scope)
        .filter(
            operator_id=operator_id,
            interface=Interface.NOTIFICATION_STATION_STATUS,
            direction=Direction.IN,
            created__gte=_since(days),
        )
        .annotate(day=TruncDate("created", tzinfo=CST))
        .values("day")
        .annotate(ok=Count("pk", filter=Q(ret=0)), failed=Count("pk", filter=~Q(ret=0)))
        .order_by()
    )
    return _outcome(days, {row["day"]: (row["ok"], row["failed"]) for row in rows})


def _outcome(days: list[date], by_day: dict[date, tuple[int, int]]) -> DailyOutcome:
    return DailyOutcome(
        days, [by_day.get(day, (0, 0))[0] for day in days], [by_day.get(day, (0, 0))[1] for day in days]
    )


def operator_orders(scope: Scope, operator_id: str, days: list[date]) -> DailyOrders:
    """The operator's orders per Beijing day of their start, with their energy and money (the dashboard's rule:
    orders from a clock running ahead are not counted)."""
    orders = ChargeOrder.objects.for_scope(scope).filter(operator_id=operator_id, start_time__gte=_since(days))
    rows = {
        row["day"]: row
        for row in with_trusted_times(orders)
        .annotate(day=TruncDate("start_time", tzinfo=CST))
        .values("day")
        .annotate(n=Count("pk"), energy=Sum("total_power"), money=Sum("total_money"))
        .order_by()
    }
    zero = Decimal(0)
    return DailyOrders(
        days,
        [rows[day]["n"] if day in rows else 0 for day in days],
        [(rows[day]["energy"] or zero) if day in rows else zero for day in days],
        [(rows[day]["money"] or zero) if day in rows else zero for day in days],
    )
