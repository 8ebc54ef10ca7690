"""The seeded operators' day: each connector's sessions, statuses, status pushes, the portal's pulls and the orders,
from midnight to now, written the way health, the dashboard and the lists read them, and carried on while the
live demo runs (`seeded_day` again with `since`), so a seeded operator never looks stale beside its own data.

A connector's day is a pure function of (seed, connector, date): the first load and every later catch-up write
parts of the same day, and a rerun writes it again identically.
"""

from __future__ import annotations

import itertools
import random
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.core.rows import insert_rows
from apps.interconnect.choices import Direction, RunStatus
from apps.interconnect.models import Exchange, SyncRun
from apps.operators.models import Operator
from apps.orders.choices import OrderInterface, StopReason
from apps.orders.services import order_receive
from apps.protocol import format_datetime, format_timestamp
from apps.protocol.names import Interface
from apps.stations import choices as sc
from apps.stations.models import Connector, ConnectorStatus, ConnectorStatusHistory, Station

# Beijing's commercial time-of-use periods: valley 23–07, flat, peak 10–15 and 18–21.
TARIFF = [
    ("000000", "0.3200"),
    ("070000", "0.7000"),
    ("100000", "1.1500"),
    ("150000", "0.7000"),
    ("180000", "1.1500"),
    ("210000", "0.7000"),
    ("230000", "0.3200"),
]
SERVICE_PRICE = Decimal("0.8000")
CENT = Decimal("0.01")
SEEDED_OPERATORS = ("MA01BJ001", "MA01BJ002", "MA01BJ003")
# A connector's day: sessions of 20–60 min (DC, 60 kW) or 2–5 h (AC, 7 kW), idle gaps between them, now and then a
# fault or an offline spell; an order reaches the portal 12–40 s after its session ends (Beijing: within 30 s, give
# or take the network).
DC_MINUTES, DC_GAP = (20, 60), (480, 1200)
AC_MINUTES, AC_GAP = (120, 300), (600, 1440)
# The days before hold one order per DC gun a day (data.py): today keeps that pace, slower still before 07:00.
NIGHT, NIGHT_FACTOR = range(7), 2.5
ORDER_DELAY = (12, 40)
# The days before today that hold orders (data.py) and the statuses those orders' sessions imply; the portal's pulls
# are written from the first of them, so the indicators' nightly lookback and every health column have their days.
PAST_DAYS = 3


@dataclass
class Session:
    operator_id: str
    connector_id: str
    start: datetime
    end: datetime
    kw: Decimal

    @property
    def arrives(self) -> datetime:
        """When its order push reaches the portal."""
        return self.end + timedelta(seconds=ORDER_DELAY[0] + zlib.crc32(self.seq.encode()) % (ORDER_DELAY[1] - 12))

    @property
    def seq(self) -> str:
        """A walk-in's StartChargeSeq: the operator's own number (OperatorID + start time + a per-connector part)."""
        local = timezone.localtime(self.start)
        return f"{self.operator_id}{local:%Y%m%d%H%M%S}{zlib.crc32(self.connector_id.encode()) % 10000:04d}"


@dataclass
class Plan:
    """One connector's day: its status changes (time, status) in order and its sessions."""

    changes: list[tuple[datetime, int]] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)

    def status_at(self, moment: datetime) -> int | None:
        current = None
        for at, status in self.changes:
            if at > moment:
                break
            current = status
        return current


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    """A random span in whole seconds: the wire's times have no fractions, so the timeline's match the orders'."""
    return timedelta(seconds=round(rng.uniform(low, high) * 60))


def day_plan(connector: Connector, day: date, seed: int) -> Plan:
    """The connector's whole day (including what is still to come): a pure function of its arguments."""
    rng = random.Random(f"{seed}:{connector.connector_id}:{day.isoformat()}")  # noqa: S311 - demo data
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = start + timedelta(days=1)
    plan = Plan()
    if connector.station.station_status != sc.StationStatus.NORMAL:
        # A station under maintenance (or being built, or closed) charges nobody all day: its piles are off the network.
        plan.changes.append((start, sc.ConnectorStatus.OFFLINE))
        return plan
    dc = connector.connector_type == sc.ConnectorType.DC_GUN
    minutes, gap = (DC_MINUTES, DC_GAP) if dc else (AC_MINUTES, AC_GAP)
    kw = Decimal("45.0") if dc else Decimal("6.6")  # average delivered power of a 60 kW gun / a 7 kW plug
    plan.changes.append((start, sc.ConnectorStatus.IDLE))
    at = start + _minutes(rng, 0, gap[1])
    while at < end:
        draw = rng.random()
        if draw < 0.04:  # a fault, repaired within hours
            plan.changes.append((at, sc.ConnectorStatus.FAULT))
            at += _minutes(rng, 60, 240)
        elif draw < 0.07:  # the pile lost its network for a while
            plan.changes.append((at, sc.ConnectorStatus.OFFLINE))
            at += _minutes(rng, 20, 90)
        else:  # a driver plugs in, charges, unplugs and leaves
            plan.changes.append((at, sc.ConnectorStatus.OCCUPIED))
            begins = at + timedelta(seconds=rng.randint(20, 90))
            ends = begins + _minutes(rng, *minutes)
            plan.changes.append((begins, sc.ConnectorStatus.CHARGING))
            plan.changes.append((ends, sc.ConnectorStatus.OCCUPIED))
            plan.sessions.append(Session(connector.operator_id, connector.connector_id, begins, ends, kw))
            at = ends + _minutes(rng, 2, 10)
        plan.changes.append((at, sc.ConnectorStatus.IDLE))
        pause = _minutes(rng, *gap)
        at += pause * NIGHT_FACTOR if timezone.localtime(at).hour in NIGHT else pause
    return plan


def order_payload(
    connector_id: str,
    seq: str,
    start: datetime,
    end: datetime,
    power: Decimal,
    stop_reason: int,
    *,
    split: datetime | None = None,
) -> dict[str, Any]:
    """An order as an operator pushes it, priced at the period the session started in. With `split` (a period
    boundary inside the session) it has two details, both still at the first period's price: an operator that
    billed the next period at the old price, which the price check finds."""
    local = timezone.localtime(start)
    price = Decimal(next(p for s, p in reversed(TARIFF) if s <= f"{local:%H%M%S}"))
    bounds = [start, end] if split is None else [start, split, end]
    seconds = Decimal((end - start).total_seconds())
    details: list[dict[str, Any]] = []
    left, elec, service = power, Decimal("0.00"), Decimal("0.00")
    for index, (begins, ends) in enumerate(itertools.pairwise(bounds)):
        last = index == len(bounds) - 2
        share = left if last else (power * Decimal((ends - begins).total_seconds()) / seconds).quantize(CENT)
        left -= share
        elec += (share * price).quantize(CENT)
        service += (share * SERVICE_PRICE).quantize(CENT)
        details.append(
            {
                "DetailStartTime": format_datetime(begins),
                "DetailEndTime": format_datetime(ends),
                "ElecPrice": price,
                "SevicePrice": SERVICE_PRICE,
                "DetailPower": share,
                "DetailElecMoney": (share * price).quantize(CENT),
                "DetailSeviceMoney": (share * SERVICE_PRICE).quantize(CENT),
            }
        )
    return {
        "StartChargeSeq": seq,
        "ConnectorID": connector_id,
        "StartTime": format_datetime(start),
        "EndTime": format_datetime(end),
        "TotalPower": power,
        "TotalElecMoney": elec,
        "TotalSeviceMoney": service,
        "TotalMoney": elec + service,
        "StopReason": stop_reason,
        "SumPeriod": len(details),
        "ChargeDetails": details,
    }


def _exchange(operator_id: str, interface: str, direction: str, at: datetime, request: Any) -> dict[str, Any]:
    return {
        "operator_id": operator_id,
        "claimed_operator_id": operator_id,
        "interface": interface,
        "direction": direction,
        "timestamp": format_timestamp(timezone.localtime(at)),
        "seq": "0001",
        "ret": 0,
        "msg": "",
        "http_status": 200,
        "latency_ms": 12.0,
        "request": request,
        "response": None,
        "error": "",
        "remote_addr": None,
        "created": at,
    }


def _pulls(operator: Operator, since: datetime, now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The portal's pulls of the operator that fell in (since, now], on its own intervals, as sync runs and journal
    rows (the seeded operators have no platform to answer them: what a pull would have found is the day itself)."""
    runs: list[dict[str, Any]] = []
    exchanges: list[dict[str, Any]] = []
    stations = Station.objects.filter(operator=operator, removed_at__isnull=True).count()
    day0 = timezone.make_aware(datetime.combine(timezone.localdate(since), time.min))
    schedule = (
        (Interface.QUERY_STATION_STATUS, timedelta(minutes=operator.pull_status_minutes), timedelta(0)),
        (Interface.QUERY_STATIONS_INFO, timedelta(minutes=operator.pull_info_minutes), timedelta(minutes=2)),
        (Interface.QUERY_STATION_STATS, timedelta(days=1), timedelta(hours=1)),  # yesterday's, at 01:00
    )
    for interface, every, offset in schedule:
        at = day0 + offset
        while at <= now:
            if at > since:
                finished = at + timedelta(seconds=2)
                full = interface == Interface.QUERY_STATIONS_INFO and at.hour == 0 and at.minute < every.seconds // 60
                # A full crawl reads every station again, all valid and unchanged (the data-quality figures count
                # them); an increment finds nothing changed since the last.
                runs.append({"operator_id": operator.pk, "interface": interface, "full": full,
                             "status": RunStatus.SUCCEEDED, "started": at, "finished": min(finished, now),
                             "last_query_time": "", "pages": 1, "created_count": 0, "updated_count": 0,
                             "unchanged_count": stations if full else 0, "rejected_count": 0, "removed_count": 0,
                             "error": "", "retryable": False})  # fmt: skip
                exchanges.append(_exchange(operator.pk, interface, Direction.OUT, at, {"_compact": True}))
            at += every
    return runs, exchanges


def seeded_day(*, seed: int, now: datetime | None = None, since: datetime | None = None) -> dict[str, int]:
    """Write the seeded operators' activity in (since, now]: status changes (history, current row, the push in the
    journal), finished sessions' orders (through `order_receive`, as their pushes would), the portal's pulls; then
    every current status is confirmed at the last status sweep, as a pull confirms it. Without `since`, today from
    midnight (and the pulls since `past_start`), after clearing what an earlier load wrote for today.
    Returns counts of what was written."""
    now = now or timezone.now()
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    if since is None:
        since = midnight - timedelta(microseconds=1)
        pulls_since = past_start(now)
        ConnectorStatusHistory.objects.filter(
            connector__operator__in=SEEDED_OPERATORS, status_time__gte=midnight
        ).delete()
        Exchange.objects.filter(operator__in=SEEDED_OPERATORS, created__gte=pulls_since).delete()
        SyncRun.objects.filter(operator__in=SEEDED_OPERATORS, started__gte=pulls_since).delete()
    else:
        # The window is written afresh: a catch-up that overlaps the last one (the live demo starts from the last
        # sweep written, not from when that was) writes the same rows again, never twice.
        pulls_since = since
        ConnectorStatusHistory.objects.filter(
            connector__operator__in=SEEDED_OPERATORS, status_time__gt=since, status_time__lte=now
        ).delete()
        Exchange.objects.filter(operator__in=SEEDED_OPERATORS, created__gt=since, created__lte=now).delete()
        SyncRun.objects.filter(operator__in=SEEDED_OPERATORS, started__gt=since, started__lte=now).delete()
    days = sorted({timezone.localdate(since + timedelta(microseconds=1)), timezone.localdate(now)})
    connectors = Connector.objects.filter(operator__in=SEEDED_OPERATORS, removed_at__isnull=True).select_related(
        "station"
    )
    history: list[dict[str, Any]] = []
    exchanges: list[dict[str, Any]] = []
    counts = {"statuses": 0, "orders": 0, "runs": 0}
    last_sweep: dict[str, datetime] = {}
    for operator in Operator.objects.filter(pk__in=SEEDED_OPERATORS):
        runs, journal = _pulls(operator, pulls_since, now)
        insert_rows(SyncRun, runs)
        exchanges += journal
        counts["runs"] += len(runs)
        sweep = (
            SyncRun.objects.filter(operator=operator, interface=Interface.QUERY_STATION_STATUS, started__lte=now)
            .order_by("-started")
            .values_list("finished", flat=True)
            .first()
        )
        if sweep is not None:
            last_sweep[operator.pk] = sweep
    for connector in connectors:
        plans = [day_plan(connector, day, seed) for day in days]
        current, changed = None, since
        for plan in plans:
            for at, status in plan.changes:
                if at <= now:
                    current, changed = status, at
                if since < at <= now:
                    history.append(_history(connector, at, status))
                    exchanges.append(_status_push(connector, at, status))
            for session in plan.sessions:
                if since < session.arrives <= now:
                    _order(connector, session)
                    exchanges.append(
                        _exchange(connector.operator_id, Interface.NOTIFICATION_CHARGE_ORDER_INFO, Direction.IN,
                                  session.arrives, {"StartChargeSeq": session.seq})
                    )  # fmt: skip
                    counts["orders"] += 1
        if current is not None:
            # The newest word on it: its last push, or the last status sweep after it (a pull confirms the time).
            sweep = last_sweep.get(connector.operator_id)
            pulled = sweep is not None and sweep >= changed
            ConnectorStatus.objects.update_or_create(
                connector=connector,
                defaults={
                    "status": current,
                    "park_status": _park(current),
                    "lock_status": sc.LockStatus.UNKNOWN,
                    "status_time": sweep if sweep is not None and pulled else changed,
                    "source": sc.StatusSource.PULL if pulled else sc.StatusSource.PUSH,
                },
            )
    insert_rows(ConnectorStatusHistory, history)
    insert_rows(Exchange, exchanges)
    counts["statuses"] = len(history)
    return counts


def past_start(now: datetime) -> datetime:
    """Midnight PAST_DAYS days before today: where the demo's history and pulls begin."""
    return timezone.make_aware(datetime.combine(timezone.localdate(now) - timedelta(days=PAST_DAYS), time.min))


def seeded_past(sessions: dict[str, list[tuple[datetime, datetime]]], *, now: datetime) -> int:
    """The days before today as their orders tell them (`sessions`: connector ID → (start, end) of each ordered
    session, data.py's): each seeded connector idle from the first day's midnight and charging through each of its
    sessions, every change pushed (history and journal), so the indicators' time in state agrees with the orders;
    off the network all along at a station not in normal use, as `day_plan` has it. Written afresh on every load;
    returns the history rows written."""
    first = past_start(now)
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    ConnectorStatusHistory.objects.filter(
        connector__operator__in=SEEDED_OPERATORS, status_time__gte=first, status_time__lt=midnight
    ).delete()
    Exchange.objects.filter(
        operator__in=SEEDED_OPERATORS, interface=Interface.NOTIFICATION_STATION_STATUS,
        created__gte=first, created__lt=midnight,
    ).delete()  # fmt: skip
    history: list[dict[str, Any]] = []
    exchanges: list[dict[str, Any]] = []
    connectors = Connector.objects.filter(operator__in=SEEDED_OPERATORS, removed_at__isnull=True).select_related(
        "station"
    )
    for connector in connectors:
        changes: list[tuple[datetime, int]]
        if connector.station.station_status != sc.StationStatus.NORMAL:
            changes = [(first, sc.ConnectorStatus.OFFLINE)]
        else:
            spells = list(sessions.get(connector.connector_id, ()))
            for day in range(PAST_DAYS):
                # Now and then a fault or a lost network in the small hours, repaired before the day's sessions
                # (they start from 07:00): availability and uptime have something to rank.
                rng = random.Random(f"{connector.connector_id}:past:{day}")  # noqa: S311 - demo data
                if rng.random() < 0.15:
                    begins = first + timedelta(days=day, hours=rng.randint(0, 2), minutes=rng.randint(0, 59))
                    spells.append((begins, begins + _minutes(rng, 60, 240)))
            changes = [(first, sc.ConnectorStatus.IDLE)]
            for start, end in sorted(spells):
                if first <= start and end < midnight:
                    status = sc.ConnectorStatus.CHARGING if timezone.localtime(start).hour >= 7 else _out(start)
                    changes += [(start, status), (end, sc.ConnectorStatus.IDLE)]
        for at, status in changes:
            history.append(_history(connector, at, status))
            exchanges.append(_status_push(connector, at, status))
    insert_rows(ConnectorStatusHistory, history)
    insert_rows(Exchange, exchanges)
    return len(history)


def _out(start: datetime) -> int:
    """A small-hours spell's status: a fault or a lost network, decided by its time (the same on every load)."""
    return sc.ConnectorStatus.FAULT if start.minute % 2 else sc.ConnectorStatus.OFFLINE


def seeded_since() -> datetime | None:
    """Up to when the seeded day was last written (its newest pull): where the live demo's catch-ups begin."""
    return (
        SyncRun.objects.filter(operator__in=SEEDED_OPERATORS)
        .order_by("-started")
        .values_list("started", flat=True)
        .first()
    )


def _park(status: int) -> int:
    busy = status in (sc.ConnectorStatus.OCCUPIED, sc.ConnectorStatus.CHARGING, sc.ConnectorStatus.RESERVED)
    return sc.ParkStatus.OCCUPIED if busy else sc.ParkStatus.FREE


def _history(connector: Connector, at: datetime, status: int) -> dict[str, Any]:
    """A pushed change as the history keeps it, received when it happened (`created` is the arrival the indicators'
    push timeliness reads: a row stamped with the load's time would make every seeded push days late)."""
    return {
        "connector_id": connector.pk,
        "status": status,
        "park_status": _park(status),
        "lock_status": sc.LockStatus.UNKNOWN,
        "status_time": at,
        "source": sc.StatusSource.PUSH,
        "created": at,
        "updated": at,
    }


def _status_push(connector: Connector, at: datetime, status: int) -> dict[str, Any]:
    """The journal row of the push that carried a change, received when it happened."""
    info = {"ConnectorID": connector.connector_id, "Status": status}
    return _exchange(connector.operator_id, Interface.NOTIFICATION_STATION_STATUS, Direction.IN, at,
                     {"ConnectorStatusInfo": info})  # fmt: skip


def _order(connector: Connector, session: Session) -> None:
    hours = Decimal((session.end - session.start).total_seconds()) / Decimal(3600)
    power = (hours * session.kw).quantize(Decimal("0.01"))
    seq = session.seq
    stop = StopReason.BMS if zlib.crc32(seq.encode()) % 2 else StopReason.USER
    order_receive(
        operator_id=connector.operator_id,
        interface=OrderInterface.ORDER,
        payload=order_payload(connector.connector_id, seq, session.start, session.end, power, stop),
        received_at=session.arrives,
    )
