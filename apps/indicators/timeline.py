"""Time in state (spec §1): each in-service connector's day cut into free / occupied / out / unknown / excluded.

The status history is read set-based: one statement per day with `LEAD(status_time)` over each connector's rows
(window functions on PostgreSQL and SQLite alike; the time bound lets PostgreSQL read only that month's partition),
plus each connector's last status before the day from one correlated subquery on the history's
(connector, -status_time, -id) index. Each row holds from its time until the next row of the same connector (rows
placed by their time, not by arrival). What the history alone cannot say is laid over it here, per connector:

- unknown: before the first report; and the stretch of a gap — the history records changes only, a status sweep
  (`query_station_status`, answered) confirms every connector of its operator without writing a row, so a connector
  is unknown where neither its own report nor one of its operator's sweeps is younger than the gap
  (`HLHT_STATUS_GAP` seconds, default 2 × the operator's status-pull interval);
- excluded: maintenance windows its operator declared before they started, and regulator exemptions.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Lead
from django.utils import timezone

from apps.core.conf import conf
from apps.interconnect.choices import RunStatus
from apps.interconnect.models import SyncRun
from apps.protocol.names import Interface
from apps.stations.choices import ConnectorStatus as S
from apps.stations.choices import StationStatus
from apps.stations.models import Connector, ConnectorStatusHistory

from .models import Exemption, MaintenanceWindow

FREE, OCCUPIED, OUT, UNKNOWN, EXCLUDED = "free", "occupied", "out", "unknown", "excluded"
STATE_OF: dict[int, str] = {
    S.IDLE: FREE,
    S.OCCUPIED: OCCUPIED,
    S.CHARGING: OCCUPIED,
    S.RESERVED: OCCUPIED,
    S.OFFLINE: OUT,
    S.FAULT: OUT,
}
DURATIONS = ("t_free", "t_occupied", "t_charging", "t_out", "t_unknown", "t_excluded", "t_period")
INFINITY = float("inf")

Interval = tuple[float, float]
Report = tuple[int, float, float | None]  # status, its time, the next row's time (LEAD) or None: until the day's end
Change = tuple[int, datetime, str, datetime]  # status, status time, source, arrival


def day_bounds(day: date, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The local (Asia/Shanghai) day as [start, end); today ends now."""
    tz = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, min(end, now or timezone.now())


@dataclass
class Piece:
    start: float
    end: float
    state: str
    status: int | None  # the reported status (None where unknown or before the first report)


@dataclass
class ConnectorDay:
    """One connector's day: its pieces in time order and the seven durations (seconds)."""

    pk: int
    connector_id: str
    operator_id: str
    station_pk: int
    station_id: str
    area_code: str
    power: float
    start: float
    end: float
    pieces: list[Piece] = field(default_factory=list)
    seed_status: int | None = None  # the last status before the day, if any
    station_size: int = 0  # in-service connectors of its station that day
    # The day's rows as received (status, status_time, source, created), in time order: the status pushes'
    # timeliness reads them from this same pass over the history instead of a second one.
    changes: list[Change] = field(default_factory=list)

    def durations(self) -> dict[str, float]:
        found = dict.fromkeys(DURATIONS, 0.0)
        for piece in self.pieces:
            length = piece.end - piece.start
            found[f"t_{piece.state}"] += length
            if piece.status == S.CHARGING and piece.state == OCCUPIED:
                found["t_charging"] += length
        found["t_period"] = self.end - self.start
        return {key: round(value, 3) for key, value in found.items()}


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def union(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _cut(piece: Piece, holes: list[Interval], state: str) -> list[Piece]:
    """The piece with `holes` (sorted, disjoint) relabelled `state`, in time order."""
    out, cursor = [], piece.start
    for start, end in holes:
        start, end = max(start, piece.start), min(end, piece.end)
        if end <= start:
            continue
        if start > cursor:
            out.append(Piece(cursor, start, piece.state, piece.status))
        out.append(Piece(start, end, state, None if state == UNKNOWN else piece.status))
        cursor = end
    if cursor < piece.end:
        out.append(Piece(cursor, piece.end, piece.state, piece.status))
    return out


def _gap_seconds(pull_status_minutes: int) -> float:
    configured = conf().indicators.status_gap_seconds
    return configured if configured else 2 * 60.0 * pull_status_minutes


def _blackouts(operator_ids: Iterable[str], start: datetime, end: datetime, gaps: dict[str, float]):
    """Per operator, the stretches its status sweeps leave uncovered: from a sweep + the gap to the next sweep."""
    found: dict[str, list[Interval]] = {op: [] for op in operator_ids}
    longest = max(gaps.values(), default=0.0)
    sweeps: dict[str, list[float]] = {op: [] for op in found}
    runs = SyncRun.objects.filter(
        operator_id__in=list(found),
        interface=Interface.QUERY_STATION_STATUS.value,
        status=RunStatus.SUCCEEDED,
        finished__gte=start - timedelta(seconds=longest),
        finished__lt=end,
    ).order_by("finished")
    for operator_id, finished in runs.values_list("operator_id", "finished"):
        if finished is not None:
            sweeps[operator_id].append(_ts(finished))
    for operator_id, points in sweeps.items():
        gap, previous = gaps[operator_id], -INFINITY
        for point in [*points, INFINITY]:
            if point - previous > gap:
                found[operator_id].append((previous + gap, point))
            previous = point
    return found


class Exclusions:
    """The maintenance windows declared in advance and the exemptions over the day, by what they cover (a
    connector, a station, an operator's whole network); a connector's excluded time is the union of its own."""

    def __init__(self, operator_ids: Iterable[str], start: datetime, end: datetime) -> None:
        self.by_connector: dict[int, list[Interval]] = defaultdict(list)
        self.by_station: dict[int, list[Interval]] = defaultdict(list)
        self.by_operator: dict[str, list[Interval]] = defaultdict(list)
        overlapping = Q(start__lt=end, end__gt=start)
        operators = list(operator_ids)
        windows = MaintenanceWindow.objects.filter(overlapping, created__lt=F("start"), operator_id__in=operators)
        exemptions = Exemption.objects.filter(overlapping, operator_id__in=operators)
        for model_rows in (windows, exemptions):
            for row in model_rows.values("operator_id", "station_id", "connector_id", "start", "end"):
                interval = (_ts(row["start"]), _ts(row["end"]))
                if row["connector_id"] is not None:
                    self.by_connector[row["connector_id"]].append(interval)
                elif row["station_id"] is not None:
                    self.by_station[row["station_id"]].append(interval)
                else:
                    self.by_operator[row["operator_id"]].append(interval)

    def of(self, day: ConnectorDay) -> list[Interval]:
        return union([
            *self.by_connector.get(day.pk, ()), *self.by_station.get(day.station_pk, ()),
            *self.by_operator.get(day.operator_id, ()),
        ])  # fmt: skip


def in_service(start: datetime, end: datetime, operator_ids: Iterable[str] | None = None):
    """Connectors counted for [start, end): listed before its end, not removed before its start, and of a station
    in normal use (StationStatus 50); stations being built, closed or in maintenance count for nothing."""
    connectors = Connector.objects.filter(
        Q(removed_at__isnull=True) | Q(removed_at__gt=start),
        created__lt=end,
        station__station_status=StationStatus.NORMAL,
        station__removed_at__isnull=True,
    )
    if operator_ids is not None:
        connectors = connectors.filter(operator_id__in=list(operator_ids))
    return connectors


def connector_days(
    day: date, *, now: datetime | None = None, operator_ids: Iterable[str] | None = None
) -> Iterator[ConnectorDay]:
    """Every in-service connector's day, in connector order."""
    start, end = day_bounds(day, now=now)
    yield from connector_spans(in_service(start, end, operator_ids), start, end)


# Up to this many connectors the history is read for them by key (a station's page); above it the window's rows
# are read whole (a day of the city), where a list of keys would only make the statement longer.
NARROW_CONNECTORS = 1000


def connector_spans(listed: QuerySet[Connector], start: datetime, end: datetime) -> Iterator[ConnectorDay]:
    """Each of the `listed` connectors over [start, end) (any window: the indicators' day, a station page's last 24
    hours), cut into pieces by the rules above, in connector order. A connector listed or removed inside the window
    counts from its listing to its removal."""
    if end <= start:
        return
    # The operators first (their status-pull intervals give the gaps, their sweeps the blackouts), then the
    # connectors and the day's history as two streams in the same order (connectors by pk, the history by
    # connector): a connector is built as it is reached and its rows read then, so neither the city's connectors
    # nor the day's millions of rows are ever held at once.
    pulls = listed.order_by().values_list("operator_id", "operator__pull_status_minutes")
    gaps = {operator_id: _gap_seconds(minutes) for operator_id, minutes in pulls.distinct()}
    if not gaps:
        return
    blackouts = _blackouts(gaps, start, end, gaps)
    exclusions = Exclusions(gaps, start, end)
    few = list(listed.order_by().values_list("pk", flat=True)[: NARROW_CONNECTORS + 1])
    history = _day_reports(start, end, few if len(few) <= NARROW_CONNECTORS else None)
    pending = next(history, None)
    for row in _listed_rows(listed, start):
        low = max(start, row["created"])
        high = min(end, row["removed_at"]) if row["removed_at"] else end
        pk = row["pk"]
        cd = ConnectorDay(
            pk=pk,
            connector_id=row["connector_id"],
            operator_id=row["operator_id"],
            station_pk=row["station_id"],
            station_id=row["station__station_id"],
            area_code=row["station__area_code"],
            power=float(row["power"]),
            start=_ts(low),
            end=_ts(high),
            seed_status=row["seed_status"],
            station_size=row["station_size"],
        )
        while pending is not None and pending[0] < pk:
            pending = next(history, None)
        reported: list[Report] = []
        if pending is not None and pending[0] == pk:
            reported, cd.changes = pending[1], pending[2]
        if row["seed_status"] is not None:
            # The last status before the day holds until the day's first row (LEAD cannot see across the bound).
            reported = [(row["seed_status"], _ts(row["seed_time"]), reported[0][1] if reported else None), *reported]
        cd.pieces = _pieces(cd, reported, blackouts[cd.operator_id], gaps[cd.operator_id], exclusions.of(cd))
        yield cd


_FIELDS = (
    "pk", "connector_id", "operator_id", "station_id", "station__station_id", "station__area_code", "power", "created",
    "removed_at", "operator__pull_status_minutes", "station_size",
)  # fmt: skip


def _listed_rows(listed: QuerySet[Connector], start: datetime) -> Iterable[dict]:
    """The listed connectors in pk order, each with its last status before the day (`seed_status`, `seed_time`).

    On PostgreSQL that last status is one LATERAL probe per connector of the history's (connector, -status_time,
    -id) index returning both columns; the ORM's two correlated subqueries probed every partition twice (6.6 s
    at 20,000 connectors). Elsewhere (SQLite, `make run`) the ORM's subqueries."""
    # Only connectors with some time in the day (listed before it was removed), each with its station's count of
    # them: a station's saturation is computed once its last connector is done.
    connectors = (
        listed.filter(Q(removed_at__isnull=True) | Q(removed_at__gt=F("created")))
        .annotate(station_size=Window(Count("pk"), partition_by=[F("station_id")]))
        .order_by("pk")
    )
    if connection.vendor != "postgresql":
        before = ConnectorStatusHistory.objects.filter(connector_id=OuterRef("pk"), status_time__lt=start).order_by(
            "-status_time", "-id"
        )
        return connectors.annotate(
            seed_status=Subquery(before.values("status")[:1]), seed_time=Subquery(before.values("status_time")[:1])
        ).values(*_FIELDS, "seed_status", "seed_time")
    inner, params = connectors.values(*_FIELDS).query.sql_with_params()
    history = ConnectorStatusHistory._meta.db_table
    sql = f"""
        SELECT q.*, seed.status AS seed_status, seed.status_time AS seed_time FROM ({inner}) q
        LEFT JOIN LATERAL (
            SELECT h.status, h.status_time FROM {history} h WHERE h.connector_id = q.pk AND h.status_time < %s
            ORDER BY h.status_time DESC, h.id DESC LIMIT 1
        ) seed ON true
        ORDER BY q.pk
    """  # noqa: S608 (the inner query is the ORM's, the table the model's, the values parameters)

    def fetched() -> Iterator[dict]:
        with connection.chunked_cursor() as cursor:  # server-side: the connectors are read as they are reached
            cursor.execute(sql, [*params, start])
            while chunk := cursor.fetchmany(5000):
                names = [column[0] for column in cursor.description]  # a named cursor describes once it fetched
                yield from (dict(zip(names, row, strict=True)) for row in chunk)

    return fetched()


def _day_reports(start: datetime, end: datetime, pks: list[int] | None = None):
    """(connector pk, its reports, its changes) for every connector with rows inside the window (only `pks` when
    given), in pk order: one windowed statement (the merge skips connectors not listed)."""
    following = Window(Lead("status_time"), partition_by=[F("connector_id")], order_by=[F("status_time"), F("id")])
    window = ConnectorStatusHistory.objects.filter(status_time__gte=start, status_time__lt=end)
    if pks is not None:
        window = window.filter(connector_id__in=pks)
    history = (
        window.annotate(next_time=following)
        .order_by("connector_id", "status_time", "id")
        .values_list("connector_id", "status", "status_time", "next_time", "source", "created")
    )
    current: int | None = None
    reported: list[Report] = []
    changes: list[Change] = []
    for connector_pk, status, status_time, next_time, source, created in history.iterator(chunk_size=20000):
        if connector_pk != current:
            if current is not None and reported:
                yield current, reported, changes
            current, reported, changes = connector_pk, [], []
        reported.append((status, _ts(status_time), None if next_time is None else _ts(next_time)))
        changes.append((status, status_time, source, created))
    if current is not None and reported:
        yield current, reported, changes


def _pieces(
    day: ConnectorDay, reported: list[Report], blackouts: list[Interval], gap: float, excluded: list[Interval]
) -> list[Piece]:
    pieces: list[Piece] = []
    first = reported[0][1] if reported else INFINITY
    if first > day.start:
        pieces.append(Piece(day.start, min(first, day.end), UNKNOWN, None))
    starts = [b[0] for b in blackouts]
    for status, at, until in reported:
        low, high = max(at, day.start), min(day.end if until is None else until, day.end)
        if high <= low:
            continue
        piece = Piece(low, high, STATE_OF[status], status)
        # Unknown inside this report's stretch: where the operator's sweeps left a blackout and this report
        # itself is older than the gap.
        holes = []
        for b_start, b_end in blackouts[max(0, bisect.bisect_right(starts, low) - 1) :]:
            if b_start >= high:
                break
            holes.append((max(b_start, at + gap), min(b_end, high)))
        pieces.extend(_cut(piece, union(holes), UNKNOWN) if holes else [piece])
    if excluded:
        pieces = [cut for piece in pieces for cut in _cut(piece, excluded, EXCLUDED)]
    return [piece for piece in pieces if piece.end > piece.start]
