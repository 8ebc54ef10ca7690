"""Indicators benchmark: a city's day of status history and orders, its indicators, and a quarter's roll-up.

Builds (PostgreSQL, set-based: generate_series straight into the history's partition) `--connectors` connectors ten to
a station, `--events` status rows over yesterday (plus each connector's status before it), `--orders` orders that
ended yesterday and an answered status sweep every five minutes; then times each stage beside its floor: the time
in state (timeline.connector_days over every connector) beside the same durations as one bare SQL statement over the
same history (LEAD, clipped to the day, summed per connector and state), the whole day (`indicators_compute_day`:
every code, written and rolled up), the quarter's roll-up again alone and its scorecard; each stage beside the floor
and the ratio. Peak RSS of this process is printed too. Targets on the 2-core machine: the whole day ≤ 3 minutes,
the quarter's scorecard ≤ 30 s, peak RSS ≤ 500 MB ("target met" / "target missed" each). Refuses any other database
than PostgreSQL, and works under its own operator only (removed first, and at the end unless --keep).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from apps.core.partitions import partitions_ensure
from apps.demo.benchkit import bulk_directory, fork, guarded, operators_delete, portal_peak_mib, receive, reset_peak
from apps.indicators.models import Indicator, Period, Scorecard
from apps.indicators.scorecard import scorecards_compute
from apps.indicators.services import (
    connector_periods_ensure,
    indicators_compute_day,
    indicators_roll_up,
    period_start,
)
from apps.indicators.timeline import connector_days, day_bounds
from apps.interconnect.choices import RunStatus
from apps.interconnect.models import SyncRun
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.protocol.names import Interface
from apps.stations.models import Connector, ConnectorStatusHistory

OPERATOR_ID = "BENCHINDI"
DAY_TARGET_S = 180.0
SCORECARD_TARGET_S = 30.0
RSS_TARGET_MB = 500.0
ANALYZED = (
    "operators_operator", "stations_station", "stations_equipment", "stations_connector",
    "stations_connectorstatushistory", "orders_chargeorder", "interconnect_syncrun",
)  # fmt: skip

# The time in state as one statement: the floor the Python pass over the same rows is measured against.
FLOOR_SQL = """
WITH rows AS (
  SELECT h.connector_id, h.status, h.status_time,
         LEAD(h.status_time) OVER (PARTITION BY h.connector_id ORDER BY h.status_time, h.id) AS next_time
  FROM stations_connectorstatushistory h
  WHERE h.status_time >= %(start)s AND h.status_time < %(end)s
)
SELECT connector_id, status, SUM(EXTRACT(EPOCH FROM COALESCE(next_time, %(end)s) - status_time))
FROM rows GROUP BY connector_id, status
"""


def _build_child(conn, connectors: int, events: int, orders: int, start, end) -> None:
    def body() -> None:
        Command._build(connectors, events, orders, start, end)
        conn.send("built")

    guarded(conn, body)


class Command(BaseCommand):
    help = "Benchmark the indicators: a day of a city's status history and orders, the day's indicators, a quarter."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connectors", type=int, default=200_000)
        parser.add_argument("--events", type=int, default=5_000_000, help="status rows over the day")
        parser.add_argument("--orders", type=int, default=300_000)
        parser.add_argument("--keep", action="store_true", help="leave the operator and its rows")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("hlht_bench_indicators measures PostgreSQL: set DATABASE_URL=postgres://…")
        if Operator.objects.exclude(pk=OPERATOR_ID).exists():
            raise CommandError("the database holds other operators: run the benchmark on a scratch database")
        day = timezone.localdate() - timedelta(days=1)
        start, end = day_bounds(day)
        self._clear()
        began = time.perf_counter()
        # Built in a forked child: the directory's model instances (bulk_directory) would otherwise stay in this
        # process's resident memory and be counted in the peak of the indicators' run.
        child, conn = fork(_build_child, options["connectors"], options["events"], options["orders"], start, end)
        receive(conn, child)
        child.join()
        self.stdout.write(f"built in {time.perf_counter() - began:.1f} s: {options['connectors']:,} connectors, "
                          f"{options['events']:,} status rows, {options['orders']:,} orders on {day}")  # fmt: skip
        with connection.cursor() as cursor:
            # What autovacuum would have done by the night's run: plans on the tables just filled, not on empty ones
            # (stale statistics turned the in-service connectors' read into a nested loop: 6.6 s at a tenth).
            # The shared server runs without autovacuum: the rows an earlier run deleted are vacuumed here too.
            for table in ANALYZED:
                cursor.execute(f"VACUUM ANALYZE {table}")
        reset_peak()
        floor = self._timed(lambda: self._floor(start, end))
        in_state = self._timed(lambda: sum(1 for _ in connector_days(day)))
        whole = self._timed(lambda: indicators_compute_day(day))
        quarter = period_start(Period.QUARTER, day)
        # The quarter's roll-up again alone (the day's run already did it with the week and month), then its
        # scorecard from the quarter's station rows.
        rolled = self._timed(lambda: indicators_roll_up(Period.QUARTER, quarter))
        scorecard = self._timed(lambda: scorecards_compute(quarter))
        # The connectors' quarter rows are summed when first asked for (the API, the explorer): all of them at once.
        on_request = self._timed(lambda: connector_periods_ensure(Period.QUARTER, [quarter], Indicator.objects.all()))
        peak = portal_peak_mib(True)
        rows = Indicator.objects.filter(period=Period.DAY, start=day).count()
        cards = Scorecard.objects.filter(quarter=quarter).count()
        self._line("time in state (every connector)", in_state, floor)
        self.stdout.write(f"{'floor (one SQL statement)':<44}{floor:8.1f} s")
        self._line(f"whole day ({rows:,} rows)", whole, floor, DAY_TARGET_S)
        self._line("quarter roll-up (again, alone)", rolled, floor)
        self._line(f"quarter scorecard ({cards:,} stations)", scorecard, floor, SCORECARD_TARGET_S)
        self._line("connector quarter rows (asked for, all)", on_request, floor)
        verdict = "target met" if peak <= RSS_TARGET_MB else "target missed"
        self.stdout.write(f"{'peak RSS':<44}{peak:8.0f} MB{'':28}target ≤ {RSS_TARGET_MB:.0f} MB  {verdict}")
        if not options["keep"]:
            self._clear()

    def _line(self, title: str, seconds: float, floor: float, target: float | None = None) -> None:
        """A stage beside the floor (the time in state as one SQL statement) and the ratio, and its target."""
        ratio = seconds / floor if floor else 0.0
        text = f"{title:<44}{seconds:8.1f} s   floor {floor:6.1f} s   ratio {ratio:5.1f}"
        if target is not None:
            text += f"   target ≤ {target:.0f} s  {'target met' if seconds <= target else 'target missed'}"
        self.stdout.write(text)

    @staticmethod
    def _clear() -> None:
        """The benchmark's rows: its indicators (the city and district rows too: this database holds no other
        operator) truncated — deleted, millions of dead rows would stay in the table and its unique index until a
        vacuum, and each new row of the same key would visit them —, then its operator and everything it left."""
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE indicators_indicator, indicators_scorecard")
        operators_delete([OPERATOR_ID])

    @staticmethod
    def _timed(action) -> float:
        began = time.perf_counter()
        action()
        return time.perf_counter() - began

    @staticmethod
    def _floor(start, end) -> None:
        with connection.cursor() as cursor:
            # Counted in the database: the floor is the statement, not a million rows held by the client.
            cursor.execute(f"SELECT COUNT(*) FROM ({FLOOR_SQL}) durations", {"start": start, "end": end})  # noqa: S608
            cursor.fetchall()

    @staticmethod
    @transaction.atomic
    def _build(connectors: int, events: int, orders: int, start, end) -> None:
        operator_provision(operator_id=OPERATOR_ID, name="指标基准测试运营商")
        operator = Operator.objects.get(pk=OPERATOR_ID)
        bulk_directory(operator, connectors, prefix="I")
        Connector.objects.filter(operator=operator).update(created=start - timedelta(days=30))
        partitions_ensure(ConnectorStatusHistory, months_ahead=0, today=(start - timedelta(hours=1)).date())
        partitions_ensure(ConnectorStatusHistory, months_ahead=0, today=start.date())
        per = max(1, events // max(1, connectors))
        with connection.cursor() as cursor:
            # Each connector's status before the day, then `per` changes at random moments of it.
            cursor.execute(
                """INSERT INTO stations_connectorstatushistory
                   (connector_id, status, status_time, source, created, updated)
                   SELECT c.id, 1, %(seed)s, 'pull', now(), now() FROM stations_connector c WHERE c.operator_id = %(op)s
                   UNION ALL
                   SELECT c.id, (ARRAY[1, 3, 1, 2, 0, 1, 3, 255])[1 + floor(random() * 8)::int],
                          %(start)s + random() * interval '1 day',
                          (ARRAY['push', 'pull'])[1 + floor(random() * 2)::int], now(), now()
                   FROM stations_connector c, generate_series(1, %(per)s) WHERE c.operator_id = %(op)s""",
                {"seed": start - timedelta(hours=1), "start": start, "per": per, "op": OPERATOR_ID},
            )
            cursor.execute(
                """INSERT INTO orders_chargeorder
                   (operator_id, connector_id, connector_code, station_code, equipment_code, start_charge_seq,
                    start_charge_seq_stat, charge_model, start_time, end_time, total_power, total_elec_money,
                    total_sevice_money, total_money, ident_code, user_name, order_received_at, created, updated)
                   SELECT %(op)s, c.id, c.connector_id, '', '', %(op)s || lpad(n::text, 18, '0'), 4, 0,
                          t.ended - (10 + random() * 80) * interval '1 minute', t.ended, 30, 21, 24, 45, '', '',
                          t.ended + random() * interval '40 second', now(), now()
                   FROM generate_series(1, %(orders)s) n
                   JOIN LATERAL (SELECT %(start)s + random() * interval '1 day' - interval '1 second' AS ended,
                                        n %% %(connectors)s AS slot) t ON true
                   JOIN stations_connector c
                     ON c.operator_id = %(op)s AND c.connector_id = 'IC' || lpad(t.slot::text, 6, '0')""",
                {"op": OPERATOR_ID, "orders": orders, "start": start, "connectors": connectors},
            )  # fmt: skip
        sweeps, moment = [], start - timedelta(minutes=10)
        while moment < end:
            sweeps.append(SyncRun(operator=operator, interface=Interface.QUERY_STATION_STATUS.value,
                                  status=RunStatus.SUCCEEDED, finished=moment))  # fmt: skip
            moment += timedelta(minutes=5)
        SyncRun.objects.bulk_create(sweeps)
