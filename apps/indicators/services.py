"""Indicators of a day written as rows, and their roll-ups to week, month and quarter (Σ numerators ÷ Σ denominators).

One run per day (`indicators_compute_day`): the connectors' time in state (timeline.py) with their orders give the
connector figures, summed into station, operator, district and city rows; the stations' merged timelines give SAT
and the full-use peaks; the operators' pushes give the timeliness figures; the orders give the prices. A day's rows
are replaced as a whole (a rerun after late orders or a reconciliation changes them), then each period containing
the day moves by the difference (PostgreSQL; elsewhere it is summed again from its day rows). On PostgreSQL the
connectors' own period rows are summed when first asked for (`connector_periods_ensure`), not nightly.
"""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from apps.charging.choices import CommandKind
from apps.charging.models import ChargingSession, CommandAttempt
from apps.core.conf import conf
from apps.core.rows import insert_many
from apps.interconnect.choices import Direction
from apps.interconnect.models import Exchange, RejectedRecord, SyncRun
from apps.orders.choices import FindingCategory, OrderInterface
from apps.orders.models import ChargeOrder, OrderFinding
from apps.orders.selectors import with_trusted_times
from apps.pricing.models import BusinessPolicy, PolicySource
from apps.protocol.names import Interface
from apps.settlement.models import ReconciliationRun
from apps.stations.choices import ConnectorStatus as S
from apps.stations.choices import StatusSource
from apps.stations.models import DirectoryChange

from .codes import CITY_CODE, CODES
from .models import Indicator, Level, Period
from .timeline import DURATIONS, FREE, OCCUPIED, ConnectorDay, Interval, connector_days, day_bounds, union

logger = logging.getLogger(__name__)

SESSION_MIN_SECONDS = 120  # SESS_OK: a session counts as successful above 2 minutes …
SESSION_MIN_KWH = 0.5  # … and 0.5 kWh (spec §2)
ORDER_PUSH_DUE = {OrderInterface.ORDER: ("T_ORDER", 30), OrderInterface.BONUS: ("T_BONUS", 150)}  # seconds (§3)
RESULT_DUE = timedelta(seconds=50)  # start/stop results after the command, charging pushes between each other
RECON_BY = timedelta(hours=3)  # check_charge_orders for day D arrives between 00:00 and 03:00 of D+1
DRIFT_WINDOW = timedelta(days=1)  # TARIFF_DRIFT: published fees should change within a day of the policy
SAMPLES = 20  # late and missed items listed in a timeliness row's details
QUALITY_SAMPLES = 10  # sample records per operator and rule (spec §5)
WRITE_CHUNK = 5000  # indicator rows per INSERT


@dataclass
class Row:
    numerator: float = 0.0
    denominator: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    operator_id: str | None = None
    station_pk: int | None = None
    connector_pk: int | None = None
    area_code: str = ""

    def add(self, numerator: float, denominator: float, details: dict[str, float] | None = None) -> None:
        self.numerator += numerator
        self.denominator += denominator
        for key, value in (details or {}).items():
            self.details[key] = round(self.details.get(key, 0.0) + value, 3)


class Writer:
    """Rows of one period and start written set-based as they come (apps.core.rows: one JSON document per chunk on
    PostgreSQL): a city's day is over a million rows, and model instances cost more than the insert."""

    def __init__(self, period: str, first: date) -> None:
        self.period, self.first, self.now, self.count = period, first, timezone.now(), 0
        self.batch: list[dict[str, Any]] = []
        self.copy: ConnectorCopy | None = None

    def add(self, code: str, level: str, target: str, row: Row) -> None:
        self.batch.append({
            "code": code, "level": level, "target": target, "period": self.period, "start": self.first,
            "value": CODES[code].value(row.numerator, row.denominator),
            "numerator": round(row.numerator, 3), "denominator": round(row.denominator, 3),
            "details": _finish(row, code), "operator_id": row.operator_id, "station_id": row.station_pk,
            "connector_id": row.connector_pk, "area_code": row.area_code, "computed": self.now,
        })  # fmt: skip
        if len(self.batch) >= WRITE_CHUNK:
            self.flush()

    def add_connector(self, cd: ConnectorDay, durations: dict[str, float], figures: Iterable[Figure]) -> None:
        """A connector's rows of `CONNECTOR_CODES` (final once the connector is done). On PostgreSQL one line of a
        COPY per connector, expanded to its seven rows by one INSERT … SELECT at the end (`flush`): a city's day is
        1.4 million such rows, and a dict, a JSON document and the server's JSON parse per row cost more than the
        pass that computed them. Numerators, denominators and values are Python's own (rounded as `add` rounds
        them); the details are the durations (and UTIL_E's energy and kW) as the connector had them."""
        if connection.vendor != "postgresql":
            target = target_of(Level.CONNECTOR, cd.operator_id, cd.connector_id)
            for code, numerator, denominator, details in figures:
                row = Row(operator_id=cd.operator_id, station_pk=cd.station_pk, connector_pk=cd.pk,
                          area_code=cd.area_code)  # fmt: skip
                row.add(numerator, denominator, details)
                self.add(code, Level.CONNECTOR, target, row)
            return
        if self.copy is None:
            self.copy = ConnectorCopy()
        self.copy.add(cd, durations, figures)
        if self.copy.pending >= COPY_CHUNK:
            self.copy.send()

    def flush(self) -> None:
        insert_many(Indicator, self.batch)
        self.count += len(self.batch)
        self.batch = []
        if self.copy is not None:
            self.count += self.copy.finish(self.period, self.first, self.now)
            self.copy = None


Figure = tuple[str, float, float, dict[str, float] | None]  # code, numerator, denominator, details
CONNECTOR_CODES = ("AVAIL", "UPTIME", "UTIL_T", "UTIL_E", "SESS_OK", "FALSE_FREE", "FALSE_BUSY")
_WITH_DURATIONS = {"AVAIL", "UPTIME", "UTIL_T", "UTIL_E"}
COPY_CHUNK = 20000  # connector lines per COPY


def _text(value: str) -> str:
    """A COPY text-format field."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _number(value: float | None) -> str:
    return "\\N" if value is None else repr(float(value))


class ConnectorCopy:
    """The day's connector rows on PostgreSQL: one COPY line per connector into a temporary table, then one
    INSERT … SELECT writing seven indicator rows per line."""

    TABLE = "indicator_connector_day"
    COLUMNS = (
        "connector_pk integer, target text, operator_id text, station_pk integer, area_code text, "
        + ", ".join(f"{code.lower()}_v float8, {code.lower()}_n float8, {code.lower()}_d float8"
                    for code in CONNECTOR_CODES)
        + ", " + ", ".join(f"{name} float8" for name in (*DURATIONS, "energy_kwh", "kw"))
    )  # fmt: skip

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.pending = 0
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.TABLE}; CREATE TEMPORARY TABLE {self.TABLE} ({self.COLUMNS})")

    def add(self, cd: ConnectorDay, durations: dict[str, float], figures: Iterable[Figure]) -> None:
        fields = [str(cd.pk), _text(target_of(Level.CONNECTOR, cd.operator_id, cd.connector_id)),
                  _text(cd.operator_id), str(cd.station_pk), _text(cd.area_code)]  # fmt: skip
        extra: dict[str, float] = {}
        for code, numerator, denominator, details in figures:
            fields += [_number(CODES[code].value(numerator, denominator)), _number(round(numerator, 3)),
                       _number(round(denominator, 3))]  # fmt: skip
            if code == "UTIL_E" and details:
                extra = details
        fields += [_number(round(durations[name], 3)) for name in DURATIONS]
        fields += [_number(round(extra.get("energy_kwh", 0.0), 3)), _number(round(extra.get("kw", 0.0), 3))]
        self.lines.append("\t".join(fields))
        self.pending += 1

    def send(self) -> None:
        if self.lines:
            with connection.cursor() as cursor:
                cursor.copy_expert(f"COPY {self.TABLE} FROM STDIN", io.StringIO("\n".join(self.lines) + "\n"))
        self.lines, self.pending = [], 0

    def finish(self, period: str, first: date, now: datetime) -> int:
        self.send()
        durations = ", ".join(f"'{name}', {name}" for name in DURATIONS)
        figures = ",\n".join(
            f"('{code}', c.{code.lower()}_v, c.{code.lower()}_n, c.{code.lower()}_d, "
            + ("c.d || jsonb_build_object('energy_kwh', c.energy_kwh, 'kw', c.kw)" if code == "UTIL_E"
               else "c.d" if code in _WITH_DURATIONS else "'{}'::jsonb")
            + ")"
            for code in CONNECTOR_CODES
        )  # fmt: skip
        sql = f"""
            INSERT INTO {Indicator._meta.db_table} (code, level, target, period, start, value, numerator, denominator,
                                                    details, operator_id, station_id, connector_id, area_code, computed)
            SELECT f.code, %(level)s, c.target, %(period)s, %(first)s, f.value, f.num, f.den, f.details,
                   c.operator_id, c.station_pk, c.connector_pk, c.area_code, %(now)s
            FROM (SELECT *, jsonb_build_object({durations}) AS d FROM {self.TABLE}) c
            CROSS JOIN LATERAL (VALUES {figures}) AS f(code, value, num, den, details)
        """  # noqa: S608 (the names are the model's and this module's own, the values parameters)
        with connection.cursor() as cursor:
            cursor.execute(sql, {"level": Level.CONNECTOR.value, "period": period, "first": first, "now": now})
            written = cursor.rowcount
            cursor.execute(f"DROP TABLE {self.TABLE}")
        return written


class StationSums:
    """One station's connector figures summed as its connectors are done (Row.add's arithmetic, in the same order):
    the durations once (AVAIL, UPTIME, UTIL_T and UTIL_E carry the same), and its status changes' counts."""

    __slots__ = ("rows", "status", "target", "where")

    def __init__(self, target: str, where: dict[str, Any]) -> None:
        self.target, self.where = target, where
        self.rows = {code: Row(**where) for code in CONNECTOR_CODES}
        self.status = [0.0, 0.0, 0.0]  # T_STATUS: changes pushed on time, changes, changes pushed at all


class Rows:
    """The day's figures keyed by (code, level, target), each summed as it is added (the aggregation rule). Connector
    rows (final once their connector is done) are written at once through the writer; a station's rows once its last
    connector is done, after their sums were spread to its operator, district and the city: only those few rows are
    held to the end."""

    def __init__(self, writer: Writer) -> None:
        self.rows: dict[tuple[str, str, str], Row] = {}
        self.writer = writer
        self.stations: dict[int, StationSums] = {}

    def get(self, code: str, level: str, target: str, **where: Any) -> Row:
        key = (code, level, target)
        if key not in self.rows:
            self.rows[key] = Row(**where)
        return self.rows[key]

    def add_connector(
        self, cd: ConnectorDay, durations: dict[str, float], figures: Iterable[Figure], status: tuple[int, int, int]
    ) -> None:
        """A connector's figures: its own rows (written at once) and their share of its station, and its status
        changes' counts (on time, all, pushed)."""
        sums = self.stations.get(cd.station_pk)
        if sums is None:
            where = {"operator_id": cd.operator_id, "station_pk": cd.station_pk, "area_code": cd.area_code}
            sums = self.stations[cd.station_pk] = StationSums(target_of(Level.STATION, cd.operator_id, cd.station_id),
                                                              where)  # fmt: skip
        for code, numerator, denominator, details in figures:
            row = sums.rows[code]
            row.numerator += numerator
            row.denominator += denominator
            if code == "UTIL_E" and details:
                row.add(0.0, 0.0, {"energy_kwh": details["energy_kwh"], "kw": details["kw"]})
        sums.rows["AVAIL"].add(0.0, 0.0, durations)
        for n, value in enumerate(status):
            sums.status[n] += value
        self.writer.add_connector(cd, durations, figures)

    def close_station(self, station_pk: int) -> None:
        """A station whose connectors are all done: its rows written and summed into its operator, district and
        the city (the aggregation rule), then let go."""
        sums = self.stations.pop(station_pk, None)
        if sums is None:
            return
        durations = sums.rows["AVAIL"].details
        for code in ("UPTIME", "UTIL_T"):
            sums.rows[code].details = dict(durations)
        sums.rows["UTIL_E"].details.update(durations)
        operator_id, area = sums.where["operator_id"], sums.where["area_code"]
        for code, row in sums.rows.items():
            self.writer.add(code, Level.STATION, sums.target, row)
            self.get(code, Level.OPERATOR, operator_id, operator_id=operator_id).add(
                row.numerator, row.denominator, row.details
            )
            self.get(code, Level.DISTRICT, area, area_code=area).add(row.numerator, row.denominator, row.details)
            self.get(code, Level.CITY, CITY_CODE).add(row.numerator, row.denominator, row.details)
        on_time, changes, pushed = sums.status
        if changes:
            # Per station too: Beijing's reward grades each station on its pushes' timeliness; `pushed` (on time or
            # late) is the annual assessment's push coverage (apps.indicators.annual).
            row = Row(on_time, changes, {"pushed": pushed}, **sums.where)
            self.writer.add("T_STATUS", Level.STATION, sums.target, row)


# Connector and station IDs are unique within an operator only: their targets carry the OperatorID.
_OWNED = {Level.CONNECTOR, Level.STATION}


def target_of(level: str, operator_id: str, key: str) -> str:
    return f"{operator_id}:{key}" if level in _OWNED else key


def _overlap(intervals: list[Interval], start: float, end: float) -> float:
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in intervals)


def _orders(start: datetime, end: datetime, operator_ids: Iterable[str] | None):
    orders = with_trusted_times(ChargeOrder.objects.all())
    if operator_ids is not None:
        orders = orders.filter(operator_id__in=list(operator_ids))
    return orders


def _orders_by_connector(start: datetime, end: datetime, operator_ids) -> Iterator[tuple[int, list, list]]:
    """Per connector, in pk order (the order of the day's pass, which merges this stream): the intervals its orders
    ran over the day, and the orders that ended in it (seconds, kWh). One server-side stream: the day's orders are
    never all held."""
    orders = _orders(start, end, operator_ids).filter(
        Q(start_time__lt=end, end_time__gt=start) | Q(end_time__gte=start, end_time__lt=end), connector__isnull=False
    )
    current: int | None = None
    running: list[Interval] = []
    sessions: list[tuple[float, float]] = []
    for connector_pk, begun, ended, power in (
        orders.order_by("connector_id")
        .values_list("connector_id", "start_time", "end_time", "total_power")
        .iterator(chunk_size=5000)
    ):
        if connector_pk != current:
            if current is not None:
                yield current, running, sessions
            current, running, sessions = connector_pk, [], []
        if begun < end and ended > start:
            running.append((begun.timestamp(), ended.timestamp()))
        if start <= ended < end:
            sessions.append(((ended - begun).total_seconds(), float(power or 0)))
    if current is not None:
        yield current, running, sessions


def _connector_figures(rows: Rows, day: date, start: datetime, end: datetime, operator_ids, now: datetime) -> set[str]:
    """AVAIL, UPTIME, UTIL_T, UTIL_E, SESS_OK, FALSE_FREE, FALSE_BUSY per connector (and summed upwards)."""
    orders = _orders_by_connector(start, end, operator_ids)
    pending = next(orders, None)
    operators: set[str] = set()
    waiting: dict[int, list[ConnectorDay]] = defaultdict(list)
    grace = conf().indicators.push_grace.total_seconds()
    for cd in connector_days(day, now=now, operator_ids=operator_ids):
        operators.add(cd.operator_id)
        status = _status_timeliness(rows, cd, grace)
        cd.changes = []
        while pending is not None and pending[0] < cd.pk:
            pending = next(orders, None)
        running, sessions = (pending[1], pending[2]) if pending is not None and pending[0] == cd.pk else ([], [])
        d = cd.durations()
        available = d["t_free"] + d["t_occupied"]
        counted = d["t_period"] - d["t_excluded"]
        energy = sum(power for _, power in sessions)
        ok = sum(1 for seconds, power in sessions if seconds > SESSION_MIN_SECONDS and power > SESSION_MIN_KWH)
        busy = union(running)
        false_free = sum(_overlap(busy, p.start, p.end) for p in cd.pieces if p.state == FREE) if busy else 0.0
        charging = [p for p in cd.pieces if p.state == OCCUPIED and p.status == S.CHARGING]
        false_busy = sum((p.end - p.start) - _overlap(busy, p.start, p.end) for p in charging)
        rows.add_connector(cd, d, (
            ("AVAIL", available, counted, d),
            ("UPTIME", counted - d["t_out"] - d["t_unknown"], counted, d),
            ("UTIL_T", d["t_charging"], available, d),
            ("UTIL_E", energy, cd.power * counted / 3600, {"energy_kwh": energy, "kw": cd.power, **d}),
            ("SESS_OK", ok, len(sessions), None),
            ("FALSE_FREE", round(false_free, 3), d["t_free"], None),
            ("FALSE_BUSY", round(false_busy, 3), d["t_charging"], None),
        ), status)  # fmt: skip
        # A station's saturation and rows as soon as its last connector is done; then its pieces are let go (the
        # day's millions of pieces, and the city's stations' rows, are never all held).
        waiting[cd.station_pk].append(cd)
        if len(waiting[cd.station_pk]) == cd.station_size:
            group = waiting.pop(cd.station_pk)
            _station_figures(rows, group, start)
            rows.close_station(cd.station_pk)
            for done in group:
                done.pieces = []
    for station_pk, group in waiting.items():
        _station_figures(rows, group, start)
        rows.close_station(station_pk)
    return operators


def _station_figures(rows: Rows, days: list[ConnectorDay], start: datetime) -> None:
    """SAT, PU_MAX and PU_LEN per station, from its connectors' pieces merged on one time line."""
    by_station: dict[int, list[ConnectorDay]] = defaultdict(list)
    for cd in days:
        by_station[cd.station_pk].append(cd)
    day_start = start.timestamp()
    for connectors in by_station.values():
        events: dict[float, list[int]] = defaultdict(lambda: [0, 0])
        for cd in connectors:
            for piece in cd.pieces:
                slot = 0 if piece.state == FREE else 1 if piece.state == OCCUPIED else None
                if slot is not None:
                    events[piece.start][slot] += 1
                    events[piece.end][slot] -= 1
        free = occupied = 0
        available = saturated = longest = run = 0.0
        per_hour: dict[int, float] = defaultdict(float)
        times = sorted(events)
        for here, after in pairwise(times):
            free += events[here][0]
            occupied += events[here][1]
            length = after - here
            if free + occupied:
                available += length
            if free == 0 and occupied:
                saturated += length
                run += length
                longest = max(longest, run)
                hour = int((here - day_start) // 3600)
                while here < after:
                    edge = min(after, day_start + (hour + 1) * 3600)
                    per_hour[hour] += edge - here
                    here, hour = edge, hour + 1
            else:
                run = 0.0
        head = connectors[0]
        where: dict[str, Any] = {
            "operator_id": head.operator_id,
            "station_pk": head.station_pk,
            "area_code": head.area_code,
        }
        target = target_of(Level.STATION, head.operator_id, head.station_id)
        # The station's own rows are written at once (final); the SAT sums go on to its operator, district, city.
        rows.writer.add("SAT", Level.STATION, target, Row(round(saturated, 3), round(available, 3), **where))
        for level, key, scope in (
            (Level.OPERATOR, head.operator_id, {"operator_id": head.operator_id}),
            (Level.DISTRICT, head.area_code, {"area_code": head.area_code}),
            (Level.CITY, CITY_CODE, {}),
        ):
            rows.get("SAT", level, key, **scope).add(round(saturated, 3), round(available, 3))
        peak_hour = max(per_hour, key=lambda hour: per_hour[hour], default=None)
        peak = Row(
            round(per_hour[peak_hour] / 60, 3) if peak_hour is not None else 0.0, 1, {"hour": peak_hour}, **where
        )
        rows.writer.add("PU_MAX", Level.STATION, target, peak)
        rows.writer.add("PU_LEN", Level.STATION, target, Row(round(longest / 60, 3), 1, **where))


def _timeliness(rows: Rows, start: datetime, end: datetime, operator_ids, operators: set[str], now) -> None:
    """T_ORDER, T_BONUS, T_STATUS, T_RECON per operator (and the city), with the late and missed items listed."""
    orders = _orders(start, end, operator_ids).filter(end_time__gte=start, end_time__lt=end)
    for interface, (code, due) in ORDER_PUSH_DUE.items():
        first = (
            orders.annotate(first=Min("reports__received_at", filter=Q(reports__interface=interface)))
            .filter(first__isnull=False)
            .values_list("operator_id", "start_charge_seq", "end_time", "first")
        )
        for operator_id, seq, ended, first_arrival in first.iterator(chunk_size=5000):  # a city's day: 300,000
            delay = (first_arrival - ended).total_seconds()
            on_time = delay <= due
            row = rows.get(code, Level.OPERATOR, operator_id, operator_id=operator_id)
            row.add(on_time, 1)
            rows.get(code, Level.CITY, CITY_CODE).add(on_time, 1)
            if not on_time and len(row.details.setdefault("late", [])) < SAMPLES:
                row.details["late"].append({"StartChargeSeq": seq, "delay_s": round(delay, 3)})
    _session_timeliness(rows, start, end, operator_ids, now)
    if now is None or now >= end + RECON_BY:
        runs = ReconciliationRun.objects.filter(
            operator_id__in=operators, start_time__gte=start, start_time__lt=end
        ).values_list("operator_id", "received_at")
        arrived: dict[str, list[datetime]] = defaultdict(list)
        for operator_id, received_at in runs:
            arrived[operator_id].append(received_at)
        for operator_id in sorted(operators):
            times = arrived.get(operator_id, [])
            on_time = any(end <= moment < end + RECON_BY for moment in times)
            row = rows.get("T_RECON", Level.OPERATOR, operator_id, operator_id=operator_id)
            row.add(on_time, 1)
            row.details["received"] = [timezone.localtime(moment).isoformat() for moment in sorted(times)[:SAMPLES]]
            rows.get("T_RECON", Level.CITY, CITY_CODE).add(on_time, 1)


def _pushes(interface: str, start: datetime, end: datetime, seqs: set[str]) -> dict[str, list[datetime]]:
    """Arrival times of an operator push per StartChargeSeq, from the journal (the Data it carried, as received)."""
    found: dict[str, list[datetime]] = defaultdict(list)
    if not seqs:
        return found
    journal = Exchange.objects.filter(
        interface=interface, direction=Direction.IN, created__gte=start, created__lt=end
    ).values_list("request", "created")
    for request, created in journal.iterator(chunk_size=5000):
        seq = request.get("StartChargeSeq") if isinstance(request, dict) else None
        if seq in seqs:
            found[seq].append(created)
    for times in found.values():
        times.sort()
    return found


def _session_timeliness(rows: Rows, start: datetime, end: datetime, operator_ids, now: datetime) -> None:
    """T_START, T_STOP: the result push ≤ 50 s after the portal's command was answered (its first answered outbox
    attempt that day); T_CHARGING: the gaps between a charging session's status pushes (from its start to its end),
    each at most 50 s."""
    for kind, interface, code in (
        (CommandKind.START, Interface.NOTIFICATION_START_CHARGE_RESULT, "T_START"),
        (CommandKind.STOP, Interface.NOTIFICATION_STOP_CHARGE_RESULT, "T_STOP"),
    ):
        attempts = CommandAttempt.objects.filter(ok=True, command__kind=kind, at__gte=start, at__lt=end)
        if operator_ids is not None:
            attempts = attempts.filter(command__session__operator_id__in=list(operator_ids))
        answered: dict[str, tuple[str, datetime]] = {}
        for operator_id, seq, moment in attempts.order_by("at").values_list(
            "command__session__operator_id", "command__session__start_charge_seq", "at"
        ):
            answered.setdefault(seq, (operator_id, moment))
        pushes = _pushes(interface.value, start, end + RESULT_DUE, set(answered))
        for seq, (operator_id, moment) in answered.items():
            arrived = next((t for t in pushes.get(seq, []) if t >= moment), None)
            if arrived is None and now < moment + RESULT_DUE:
                continue  # not due yet
            delay = None if arrived is None else (arrived - moment).total_seconds()
            on_time = delay is not None and delay <= RESULT_DUE.total_seconds()
            row = rows.get(code, Level.OPERATOR, operator_id, operator_id=operator_id)
            row.add(on_time, 1)
            rows.get(code, Level.CITY, CITY_CODE).add(on_time, 1)
            if not on_time and len(row.details.setdefault("late", [])) < SAMPLES:
                row.details["late"].append({"StartChargeSeq": seq, "delay_s": delay})
    sessions = ChargingSession.objects.filter(started_at__lt=end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=start)
    )
    sessions = sessions.exclude(started_at__isnull=True)
    if operator_ids is not None:
        sessions = sessions.filter(operator_id__in=list(operator_ids))
    charging = {seq: (operator_id, begun, ended) for seq, operator_id, begun, ended in sessions.values_list(
        "start_charge_seq", "operator_id", "started_at", "ended_at")}  # fmt: skip
    pushes = _pushes(Interface.NOTIFICATION_EQUIP_CHARGE_STATUS.value, start, end, set(charging))
    for seq, (operator_id, begun, ended) in charging.items():
        if begun is None:
            continue
        low, high = max(begun, start), min(ended or now, end)
        marks = [low, *(t for t in pushes.get(seq, []) if low < t < high), high]
        gaps = [(b - a).total_seconds() for a, b in pairwise(marks) if b > a]
        late = [gap for gap in gaps if gap > RESULT_DUE.total_seconds()]
        row = rows.get("T_CHARGING", Level.OPERATOR, operator_id, operator_id=operator_id)
        row.add(len(gaps) - len(late), len(gaps))
        rows.get("T_CHARGING", Level.CITY, CITY_CODE).add(len(gaps) - len(late), len(gaps))
        if late and len(row.details.setdefault("late", [])) < SAMPLES:
            row.details["late"].append({"StartChargeSeq": seq, "gaps": len(late), "longest_s": max(late)})


def _status_timeliness(rows: Rows, cd: ConnectorDay, grace: float) -> tuple[int, int, int]:
    """One connector's status changes of the day (a row whose status differs from the connector's previous one):
    a push within HLHT_PUSH_GRACE of its time is on time, a later one late, a change only a pull saw is a missed
    push. Called for each connector as the day's pass reaches it (its rows from that same read of the history);
    returns its changes on time, all of them and those pushed at all (its station's share)."""
    previous = cd.seed_status
    on_time = changes = pushed = 0
    row: Row | None = None
    for status, status_time, source, arrived in cd.changes:
        changed, previous = status != previous, status
        if not changed or source not in (StatusSource.PUSH, StatusSource.PULL):
            continue
        changes += 1
        pushed += source == StatusSource.PUSH
        delay = (arrived - status_time).total_seconds()
        if source == StatusSource.PUSH and delay <= grace:
            on_time += 1
            continue
        row = row or rows.get("T_STATUS", Level.OPERATOR, cd.operator_id, operator_id=cd.operator_id)
        kind = "missed" if source == StatusSource.PULL else "late"
        items = row.details.setdefault(kind, [])
        if len(items) < SAMPLES:
            item = {
                "ConnectorID": cd.connector_id,
                "Status": status,
                "time": timezone.localtime(status_time).isoformat(),
            }
            if kind == "late":
                item["delay_s"] = round(delay, 3)
            items.append(item)
    if changes:
        rows.get("T_STATUS", Level.OPERATOR, cd.operator_id, operator_id=cd.operator_id).add(on_time, changes)
        rows.get("T_STATUS", Level.CITY, CITY_CODE).add(on_time, changes)
    return on_time, changes, pushed


def _prices(rows: Rows, start: datetime, end: datetime, operator_ids) -> None:
    """PRICE_AVG per station, operator, district and city; PRICE_INDEX per district and city; TARIFF_MISMATCH."""
    orders = _orders(start, end, operator_ids).filter(end_time__gte=start, end_time__lt=end)
    priced = orders.filter(total_money__isnull=False, total_power__gt=0).values_list(
        "operator_id", "connector__station_id", "connector__station__station_id", "connector__station__area_code",
        "total_money", "total_power", "total_elec_money", "total_sevice_money",
    )  # fmt: skip
    for operator_id, station_pk, station_id, area, money, power, elec, service in priced.iterator(chunk_size=5000):
        parts = {"elec_money": float(elec or 0), "service_money": float(service or 0)}
        targets = [(Level.OPERATOR, operator_id, {"operator_id": operator_id}), (Level.CITY, CITY_CODE, {})]
        if station_pk is not None:
            where = {"operator_id": operator_id, "station_pk": station_pk, "area_code": area}
            targets.append((Level.STATION, target_of(Level.STATION, operator_id, station_id), where))
            targets.append((Level.DISTRICT, area, {"area_code": area}))
        for level, target, where in targets:
            rows.get("PRICE_AVG", level, target, **where).add(float(money), float(power), parts)
            if level in (Level.DISTRICT, Level.CITY):
                rows.get("PRICE_INDEX", level, target, **where).add(float(money), float(power), parts)
    mismatch = Exists(OrderFinding.objects.filter(order=OuterRef("pk"), category=FindingCategory.PRICE))
    for operator_id, seq, found in (
        orders.annotate(found=mismatch)
        .values_list("operator_id", "start_charge_seq", "found")
        .iterator(chunk_size=5000)
    ):
        row = rows.get("TARIFF_MISMATCH", Level.OPERATOR, operator_id, operator_id=operator_id)
        row.add(found, 1)
        rows.get("TARIFF_MISMATCH", Level.CITY, CITY_CODE).add(found, 1)
        if found and len(row.details.setdefault("orders", [])) < SAMPLES:
            row.details["orders"].append(seq)


def _tariff_drift(rows: Rows, start: datetime, end: datetime, operator_ids) -> None:
    """TARIFF_DRIFT per operator: of the business-policy changes the day's pulls found (a connector's new version
    after an earlier one), those whose station's published fees (ElectricityFee, ServiceFee) did not change in the
    directory within a day of it."""
    earlier = BusinessPolicy.objects.filter(
        connector=OuterRef("connector"), effective_from__lt=OuterRef("effective_from")
    )
    found = BusinessPolicy.objects.filter(
        Exists(earlier), source=PolicySource.PULL, effective_from__gte=start, effective_from__lt=end
    )
    if operator_ids is not None:
        found = found.filter(operator_id__in=list(operator_ids))
    changes = list(found.values_list("operator_id", "connector__station__station_id", "connector__connector_id",
                                     "effective_from"))  # fmt: skip
    if not changes:
        return
    published: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    fees = DirectoryChange.objects.filter(
        Q(changes__has_key="electricity_fee") | Q(changes__has_key="service_fee"),
        kind="station",
        operator_id__in={operator_id for operator_id, *_ in changes},
        created__gte=start - DRIFT_WINDOW,
        created__lt=end + DRIFT_WINDOW,
    )
    for operator_id, station_id, created in fees.values_list("operator_id", "station_id", "created"):
        published[(operator_id, station_id)].append(created)
    for operator_id, station_id, connector_id, created in changes:
        drifted = not any(abs(created - moment) <= DRIFT_WINDOW for moment in published[(operator_id, station_id)])
        row = rows.get("TARIFF_DRIFT", Level.OPERATOR, operator_id, operator_id=operator_id)
        row.add(drifted, 1)
        rows.get("TARIFF_DRIFT", Level.CITY, CITY_CODE).add(drifted, 1)
        if drifted and len(row.details.setdefault("connectors", [])) < SAMPLES:
            row.details["connectors"].append({"StationID": station_id, "ConnectorID": connector_id})


def _rule_codes(rules: Any) -> list[str]:
    if isinstance(rules, str):
        rules = [rules]
    if not isinstance(rules, list | tuple):
        return ["unknown"]
    return sorted({str(code) for code in rules if code not in (None, "")}) or ["unknown"]


def _data_quality(rows: Rows, start: datetime, end: datetime, operator_ids) -> None:
    """Per operator and rule (DQ_RULE, target `OperatorID:rule`): records checked (of the rule's interface: the day's
    pulled records, and its inbound messages), records failing, up to ten samples, a severity (error: the record was
    refused or the order disputed; warning: kept with a finding); DQ per operator and city: 1 − failing ÷ checked."""
    checked: dict[tuple[str, str], int] = defaultdict(int)
    runs = SyncRun.objects.filter(started__gte=start, started__lt=end)
    journal = Exchange.objects.filter(
        direction=Direction.IN, created__gte=start, created__lt=end, operator__isnull=False
    )
    rejected = RejectedRecord.objects.filter(created__gte=start, created__lt=end)
    findings = OrderFinding.objects.filter(report__received_at__gte=start, report__received_at__lt=end)
    if operator_ids is not None:
        wanted = list(operator_ids)
        runs, journal = runs.filter(operator_id__in=wanted), journal.filter(operator_id__in=wanted)
        rejected, findings = rejected.filter(operator_id__in=wanted), findings.filter(order__operator_id__in=wanted)
    for operator_id, interface, n in (
        runs.order_by().values_list("operator_id", "interface")
        .annotate(n=Sum("created_count") + Sum("updated_count") + Sum("unchanged_count") + Sum("rejected_count"))
    ):  # fmt: skip
        checked[(operator_id, interface)] += n or 0
    for operator_id, interface, n in journal.order_by().values_list("operator_id", "interface").annotate(n=Count("pk")):
        checked[(operator_id, interface)] += n
    failing: dict[tuple[str, str, str], list] = defaultdict(
        list
    )  # (operator, interface, rule) → [severity, n, samples]
    records: dict[str, int] = defaultdict(int)
    for operator_id, interface, rules, key in rejected.values_list("operator_id", "interface", "rules", "record_key"):
        records[operator_id] += 1
        for rule in _rule_codes(rules):
            _fail(failing, (operator_id, interface, rule), "error", key)
    seen_orders: set[int] = set()
    for operator_id, interface, rule, disputes, order_pk, seq in findings.values_list(
        "order__operator_id", "report__interface", "rule", "disputes", "order_id", "order__start_charge_seq"
    ):
        if order_pk not in seen_orders:
            seen_orders.add(order_pk)
            records[operator_id] += 1
        _fail(failing, (operator_id, interface, rule), "error" if disputes else "warning", seq)
    for (operator_id, interface, rule), (severity, n, samples) in sorted(failing.items()):
        row = rows.get("DQ_RULE", Level.OPERATOR, f"{operator_id}:{rule}", operator_id=operator_id)
        row.add(n, max(checked.get((operator_id, interface), 0), n))
        row.details.update({"rule": rule, "interface": interface, "severity": severity, "samples": samples})
    for operator_id in {operator_id for operator_id, _ in checked} | set(records):
        total = sum(n for (op, _), n in checked.items() if op == operator_id)
        total = max(total, records[operator_id])
        rows.get("DQ", Level.OPERATOR, operator_id, operator_id=operator_id).add(total - records[operator_id], total)
        rows.get("DQ", Level.CITY, CITY_CODE).add(total - records[operator_id], total)


def _fail(failing: dict, key: tuple[str, str, str], severity: str, sample: str) -> None:
    entry = failing.setdefault(key, ["warning", 0, []])
    if severity == "error":
        entry[0] = "error"
    entry[1] += 1
    if len(entry[2]) < QUALITY_SAMPLES:
        entry[2].append(sample)


def _finish(row: Row, code: str) -> dict[str, Any]:
    details = dict(row.details)
    for part in ("elec_money", "service_money"):
        if part in details and row.denominator:
            details[part.replace("money", "price")] = round(details[part] / row.denominator, 4)
    return details


@transaction.atomic
def indicators_compute_day(
    day: date, *, now: datetime | None = None, operator_ids: Iterable[str] | None = None, roll_up: bool = True
) -> int:
    """Replace the day rows of `day` (today: up to now) and roll the periods containing it up again (unless
    `roll_up` is False: the caller rolls up once after several days); returns the number of day rows written."""
    now = now or timezone.now()
    start, end = day_bounds(day, now=now)
    if end <= start:
        return 0
    incremental = roll_up and connection.vendor == "postgresql"
    if incremental:
        replaced = _set_aside(day)
    Indicator.objects.filter(period=Period.DAY, start=day).delete()
    writer = Writer(Period.DAY, day)
    rows = Rows(writer)
    operators = _connector_figures(rows, day, start, end, operator_ids, now)
    _timeliness(rows, start, end, operator_ids, operators, now)
    _prices(rows, start, end, operator_ids)
    _tariff_drift(rows, start, end, operator_ids)
    _data_quality(rows, start, end, operator_ids)
    for (code, level, target), row in rows.rows.items():
        writer.add(code, level, target, row)
    writer.flush()
    periods: list[tuple[str, date]] = [(period, period_start(period, day)) for period in ROLLED_UP]
    if incremental:
        _roll_up_delta(day, periods, replaced)
    elif roll_up:
        indicators_roll_up_periods(periods)
    return writer.count


ROLLED_UP = (Period.WEEK, Period.MONTH, Period.QUARTER)


def _replace(period: str, first: date, rows: dict[tuple[str, str, str], Row]) -> None:
    """The period's rows replaced whole."""
    Indicator.objects.filter(period=period, start=first).delete()
    writer = Writer(period, first)
    for (code, level, target), row in rows.items():
        writer.add(code, level, target, row)
    writer.flush()


def period_start(period: str, day: date) -> date:
    if period == Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period == Period.MONTH:
        return day.replace(day=1)
    if period == Period.QUARTER:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return day


def period_end(period: str, first: date) -> date:
    """The first day after the period that starts on `first`."""
    if period == Period.WEEK:
        return first + timedelta(days=7)
    months = {str(Period.MONTH): 1, str(Period.QUARTER): 3}.get(period, 0)
    if not months:
        return first + timedelta(days=1)
    month = first.month - 1 + months
    return date(first.year + month // 12, month % 12 + 1, 1)


_MAXED = {"PU_MAX", "PU_LEN"}  # peaks: a period's figure is its highest day, not a sum


def indicators_roll_up(period: str, first: date) -> int:
    """The period's rows from its day rows: Σ numerators ÷ Σ denominators (the peaks: the highest day), numeric
    details summed. On PostgreSQL one INSERT … SELECT … GROUP BY (a quarter of a city is over a hundred million day
    rows: they never leave the database), every level but the connectors' (summed when asked for); elsewhere (SQLite,
    `make run`) in Python, to the same figures, the connectors' included."""
    if connection.vendor == "postgresql":
        return _roll_up_sql([(period, first)])
    day_rows = Indicator.objects.filter(period=Period.DAY, start__gte=first, start__lt=period_end(period, first))
    merged: dict[tuple[str, str, str], Row] = {}
    for code, level, target, numerator, denominator, details, operator_id, station_pk, connector_pk, area in (
        day_rows.values_list(
            "code", "level", "target", "numerator", "denominator", "details", "operator_id", "station_id",
            "connector_id", "area_code",
        ).iterator(chunk_size=20000)
    ):  # fmt: skip
        key = (code, level, target)
        row = merged.get(key)
        if row is None:
            row = merged[key] = Row(operator_id=operator_id, station_pk=station_pk, connector_pk=connector_pk,
                                    area_code=area)  # fmt: skip
            row.details["days"] = 0
        row.details["days"] += 1
        if code in _MAXED:
            row.numerator, row.denominator = max(row.numerator, numerator), 1
            continue
        row.add(
            numerator, denominator, {k: v for k, v in details.items() if isinstance(v, int | float) and k in _SUMMED}
        )
    _replace(period, first, merged)
    return len(merged)


_SUMMED = {*DURATIONS, "energy_kwh", "elec_money", "service_money", "pushed"}


ROLL_UP_WORK_MEM = "128MB"  # the GROUP BY of a city's day rows sorts in memory instead of spilling to disk


def indicators_roll_up_periods(periods: Iterable[tuple[str, date]]) -> int:
    """Several periods' roll-ups, each once, one statement per period. (`_roll_up_sql` can take them all in one
    statement, reading the day rows once, but at a city's size that GROUP BY over three periods' 4.9 million groups
    sorted through 3 GB on disk and took 610 s against 101 s for the quarter alone.)"""
    return sum(indicators_roll_up(period, first) for period, first in sorted(set(periods)))


# On PostgreSQL the connectors' weeks, months and quarters are summed when first asked for, not nightly: they are
# six rows in seven of a city's periods (1.4 million of 1.64 million per period), and writing them for three periods
# every night cost more than the whole day's computation (README, Benchmark).
ON_REQUEST = Level.CONNECTOR


NARROWING_FILTERS = ("operator", "station", "connector")
NARROWING_NEEDED = (
    "按充电接口查看周、月、季度指标时请指定运营商、充电站或充电接口：这些数据在首次查看时汇总，全市范围过大"
)


def connector_periods_need_narrowing(period: str, city_scope: bool, narrowed: bool) -> bool:
    """A city-wide person asking for every connector's week, month or quarter must narrow it first: summing a city's
    connector rows on request (200,000 connectors × up to 92 days × every code) would hold a web worker for minutes."""
    return connection.vendor == "postgresql" and period in ROLLED_UP and city_scope and not narrowed


def connector_periods_ensure(period: str, starts: Iterable[date], day_rows: QuerySet[Indicator]) -> int:
    """The connector rows of `period` starting at `starts` that are not stored yet, summed from their day rows
    (PostgreSQL; elsewhere the roll-ups store them with the rest) and kept until a day of the period is computed
    again. `day_rows` narrows which (an operator's, a station's, one connector, one code: the request's filters).
    Returns the number of rows added."""
    if connection.vendor != "postgresql" or period not in ROLLED_UP:
        return 0
    periods = sorted({(period, period_start(period, start)) for start in starts})
    return _roll_up_sql(periods, within=day_rows) if periods else 0


@transaction.atomic
def _roll_up_sql(
    periods: list[tuple[str, date]], codes: list[str] | None = None, within: QuerySet[Indicator] | None = None
) -> int:
    """The periods' rows (only those of `codes` when given) summed again from their day rows, every level but the
    connectors' (whose stored period rows this removes: they are summed again when asked for); or, with `within`,
    only the connector rows among `within` that the periods lack."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [ROLL_UP_WORK_MEM])
    table = Indicator._meta.db_table
    extra: dict[str, Any] = {"lazy": ON_REQUEST.value}
    if within is None:
        replaced = Q()
        for period, first in periods:
            replaced |= Q(period=period, start=first)
        if codes is not None:
            replaced &= Q(code__in=codes)
        Indicator.objects.filter(replaced).delete()
        only = "AND d.level <> %(lazy)s"
        conflict = ""
    else:
        inner, inner_params = (
            within.filter(level=ON_REQUEST, period=Period.DAY).order_by().values("id").query.sql_with_params()
        )
        pieces = inner.split("%s")
        inner = "".join(f"{piece}%(w{n})s" for n, piece in enumerate(pieces[:-1])) + pieces[-1]
        extra |= {f"w{n}": value for n, value in enumerate(inner_params)}
        only = f"""AND d.level = %(lazy)s AND d.id IN ({inner}) AND NOT EXISTS (
            SELECT 1 FROM {table} x WHERE x.period = p.period AND x.start = p.first AND x.code = d.code
                                       AND x.level = d.level AND x.target = d.target)"""  # noqa: S608 (own names)
        conflict = "ON CONFLICT DO NOTHING"  # two requests summing the same rows at once
    bounds = [(period, first, period_end(period, first)) for period, first in periods]
    listed = ", ".join(f"(%(p{n})s, %(f{n})s::date, %(e{n})s::date)" for n in range(len(bounds)))
    values: dict[str, Any] = {
        f"{key}{n}": value for n, bound in enumerate(bounds) for key, value in zip("pfe", bound, strict=True)
    }
    summed = ", ".join(
        f"'{name}', ROUND(SUM((details->>'{name}')::float)::numeric, 3)::float" for name in sorted(_SUMMED)
    )
    prices = ", ".join(
        f"'{name.replace('money', 'price')}', "
        f"ROUND((SUM((details->>'{name}')::float) / NULLIF(SUM(denominator), 0))::numeric, 4)::float"
        for name in ("elec_money", "service_money")
    )
    if codes:
        only += " AND d.code = ANY(%(codes)s)"
    sql = f"""
        INSERT INTO {table} (code, level, target, period, start, value, numerator, denominator, details,
                             operator_id, station_id, connector_id, area_code, computed)
        SELECT d.code, d.level, d.target, p.period, p.first,
               CASE WHEN d.code = ANY(%(maxed)s) THEN MAX(numerator)
                    WHEN SUM(denominator) = 0 THEN NULL
                    ELSE ROUND((SUM(numerator) / SUM(denominator)
                                * CASE WHEN code = ANY(%(percent)s) THEN 100 ELSE 1 END)::numeric, 6)::float END,
               CASE WHEN code = ANY(%(maxed)s) THEN MAX(numerator) ELSE ROUND(SUM(numerator)::numeric, 3)::float END,
               CASE WHEN code = ANY(%(maxed)s) THEN 1 ELSE ROUND(SUM(denominator)::numeric, 3)::float END,
               jsonb_strip_nulls(jsonb_build_object('days', COUNT(*), {summed}, {prices})),
               MAX(operator_id), MAX(station_id), MAX(connector_id), MAX(area_code), now()
        FROM {table} d
        JOIN (VALUES {listed}) AS p(period, first, following)
          ON d.start >= p.first AND d.start < p.following
        WHERE d.period = %(day)s AND d.start >= %(low)s AND d.start < %(high)s {only}
        GROUP BY p.period, p.first, d.code, d.level, d.target
        {conflict}
    """  # noqa: S608 (the names are the model's own, the values parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, {
            **values, **extra, "low": min(b[1] for b in bounds), "high": max(b[2] for b in bounds), "day": Period.DAY,
            "codes": codes or [],
            "maxed": sorted(_MAXED), "percent": sorted(code for code, c in CODES.items() if c.unit == "%"),
        })  # fmt: skip
        return cursor.rowcount


def indicators_compute_recent(*, today: date | None = None) -> dict[str, int]:
    """The nightly run: the last HLHT_INDICATOR_LOOKBACK_DAYS days before today, so late orders and the
    reconciliation count (each day replaced whole, each period containing it rolled up again)."""
    today = today or timezone.localdate()
    # PostgreSQL: each day moves its periods by its own difference as it is replaced (`_roll_up_delta`). Elsewhere
    # each period is summed again, once after all its days (not once per day: the same week three times a night).
    incremental = connection.vendor == "postgresql"
    written, periods = {}, set()
    for back in range(conf().indicators.lookback_days, 0, -1):
        day = today - timedelta(days=back)
        written[day.isoformat()] = indicators_compute_day(day, roll_up=incremental)
        periods |= {(period, period_start(period, day)) for period in ROLLED_UP}
    if not incremental:
        indicators_roll_up_periods(periods)
    return written


# The day rows a rerun replaces, kept aside (in the same transaction) until the new ones are written: the periods
# containing the day move by the difference.
OLD_DAY = "indicator_day_replaced"


def _set_aside(day: date) -> bool:
    """The day's current rows copied into a temporary table; whether there were any."""
    table = Indicator._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DROP TABLE IF EXISTS {OLD_DAY}; CREATE TEMPORARY TABLE {OLD_DAY} AS "  # noqa: S608 (own names)
            f"SELECT code, level, target, numerator, denominator, details, operator_id, station_id, connector_id, "
            f"area_code FROM {table} WHERE period = %s AND start = %s",
            [Period.DAY, day],
        )
        return cursor.rowcount > 0


def _roll_up_delta(day: date, periods: list[tuple[str, date]], replaced: bool) -> int:
    """The periods containing `day` moved by the day's difference (PostgreSQL): each row of the week, month and
    quarter gets the new day row's numerator, denominator and summed details added and the replaced day row's
    taken off, in one `INSERT … ON CONFLICT DO UPDATE` over the day's rows — the same Σ numerators ÷ Σ
    denominators as summing every day of the period again (`indicators_roll_up`), at the cost of one day's rows
    instead of up to 92 days'. A period row no day is left in is removed; the peaks (a period's highest day: a
    maximum cannot be taken off) are summed again from their day rows when a day was replaced."""
    table = Indicator._meta.db_table
    values: dict[str, Any] = {"day": day, "period_day": Period.DAY, "maxed": sorted(_MAXED), "lazy": ON_REQUEST.value,
                              "percent": sorted(code for code, c in CODES.items() if c.unit == "%")}  # fmt: skip
    listed = ", ".join(f"(%(p{n})s, %(f{n})s::date)" for n in range(len(periods)))
    for n, (period, first) in enumerate(periods):
        values[f"p{n}"], values[f"f{n}"] = period, first
    names = sorted(_SUMMED)
    if replaced:
        # The difference per (code, level, target): the new row less the replaced one (a key either side lacks
        # counts 0; a key neither has stays absent). The peaks are left to the full sum below.
        def part(name: str) -> str:
            new, old = f"COALESCE((n.details->>'{name}')::float, 0)", f"COALESCE((o.details->>'{name}')::float, 0)"
            return f"CASE WHEN n.details ? '{name}' OR o.details ? '{name}' THEN {new} - {old} END"

        source = f"""
            SELECT COALESCE(n.code, o.code) AS code, COALESCE(n.level, o.level) AS level,
                   COALESCE(n.target, o.target) AS target,
                   COALESCE(n.numerator, 0) - COALESCE(o.numerator, 0) AS num,
                   COALESCE(n.denominator, 0) - COALESCE(o.denominator, 0) AS den,
                   (n.code IS NOT NULL)::int - (o.code IS NOT NULL)::int AS days,
                   {", ".join(f"{part(name)} AS {name}" for name in names)},
                   COALESCE(n.operator_id, o.operator_id) AS operator_id,
                   COALESCE(n.station_id, o.station_id) AS station_id,
                   COALESCE(n.connector_id, o.connector_id) AS connector_id,
                   COALESCE(n.area_code, o.area_code) AS area_code
            FROM (SELECT * FROM {table} WHERE period = %(period_day)s AND start = %(day)s AND level <> %(lazy)s) n
            FULL JOIN (SELECT * FROM {OLD_DAY} WHERE level <> %(lazy)s) o
              ON o.code = n.code AND o.level = n.level AND o.target = n.target
            WHERE NOT COALESCE(n.code, o.code) = ANY(%(maxed)s)
        """  # noqa: S608 (the names are the model's and this module's own, the values parameters)
    else:
        source = f"""
            SELECT code, level, target, numerator AS num, denominator AS den, 1 AS days,
                   {", ".join(f"(details->>'{name}')::float AS {name}" for name in names)},
                   operator_id, station_id, connector_id, area_code
            FROM {table} WHERE period = %(period_day)s AND start = %(day)s AND level <> %(lazy)s
        """  # noqa: S608 (as above)
    rounded = ", ".join(f"'{name}', ROUND(d.{name}::numeric, 3)::float" for name in names)
    prices = ", ".join(f"'{name.replace('money', 'price')}', ROUND((d.{name} / NULLIF(d.den, 0))::numeric, 4)::float"
                       for name in ("elec_money", "service_money"))  # fmt: skip

    def added(name: str) -> str:
        return f"(COALESCE((t.details->>'{name}')::float, 0) + COALESCE((EXCLUDED.details->>'{name}')::float, 0))"

    merged = ", ".join(
        f"'{name}', CASE WHEN t.details ? '{name}' OR EXCLUDED.details ? '{name}' THEN "
        f"ROUND({added(name)}::numeric, 3)::float END"
        for name in names
    )
    denominator = "(t.denominator + EXCLUDED.denominator)"
    merged_prices = ", ".join(
        f"'{name.replace('money', 'price')}', CASE WHEN t.details ? '{name}' OR EXCLUDED.details ? '{name}' THEN "
        f"ROUND(({added(name)} / NULLIF({denominator}, 0))::numeric, 4)::float END"
        for name in ("elec_money", "service_money")
    )
    percent = "CASE WHEN t.code = ANY(%(percent)s) THEN 100 ELSE 1 END"
    sql = f"""
        INSERT INTO {table} AS t (code, level, target, period, start, value, numerator, denominator, details,
                                  operator_id, station_id, connector_id, area_code, computed)
        SELECT d.code, d.level, d.target, p.period, p.first,
               CASE WHEN d.code = ANY(%(maxed)s) THEN d.num
                    WHEN d.den = 0 THEN NULL
                    ELSE ROUND((d.num / d.den * CASE WHEN d.code = ANY(%(percent)s) THEN 100 ELSE 1 END)::numeric,
                               6)::float END,
               ROUND(d.num::numeric, 3)::float, CASE WHEN d.code = ANY(%(maxed)s) THEN 1 ELSE
               ROUND(d.den::numeric, 3)::float END,
               jsonb_strip_nulls(jsonb_build_object('days', d.days, {rounded}, {prices})),
               d.operator_id, d.station_id, d.connector_id, d.area_code, now()
        FROM ({source}) d CROSS JOIN (VALUES {listed}) AS p(period, first)
        ON CONFLICT (period, start, code, level, target) DO UPDATE SET
            numerator = CASE WHEN t.code = ANY(%(maxed)s) THEN GREATEST(t.numerator, EXCLUDED.numerator)
                             ELSE ROUND((t.numerator + EXCLUDED.numerator)::numeric, 3)::float END,
            denominator = CASE WHEN t.code = ANY(%(maxed)s) THEN 1 ELSE ROUND({denominator}::numeric, 3)::float END,
            value = CASE WHEN t.code = ANY(%(maxed)s) THEN GREATEST(t.numerator, EXCLUDED.numerator)
                         WHEN {denominator} = 0 THEN NULL
                         ELSE ROUND(((t.numerator + EXCLUDED.numerator) / {denominator} * {percent})::numeric,
                                    6)::float END,
            details = jsonb_strip_nulls(jsonb_build_object(
                'days', COALESCE((t.details->>'days')::int, 0) + COALESCE((EXCLUDED.details->>'days')::int, 0),
                {merged}, {merged_prices})),
            computed = EXCLUDED.computed
    """  # noqa: S608 (the names are the model's and this module's own, the values parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        written = cursor.rowcount
        # The connectors' period rows summed on request before this day changed are stale now.
        cursor.execute(
            f"DELETE FROM {table} WHERE level = %(lazy)s AND (period, start) IN (VALUES {listed})",  # noqa: S608
            values,
        )
        if replaced:
            cursor.execute(
                f"DELETE FROM {table} WHERE (period, start) IN (VALUES {listed}) AND (details->>'days')::int <= 0",  # noqa: S608
                values,
            )
        cursor.execute(f"DROP TABLE IF EXISTS {OLD_DAY}")
    if replaced:
        written += _roll_up_sql(periods, codes=sorted(_MAXED))
    return written
