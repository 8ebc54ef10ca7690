"""Big-table benchmark: the status history and the journal at millions of rows, their admin pages and API list.

Builds `--rows` status-history rows and as many journal rows (PostgreSQL: generate_series straight into the monthly
partitions, a year of them), then times what a regulator opens: the changelists unfiltered, filtered by operator,
status, interface and time, searched by connector, a deep page, and the API's history list — each the median of
`--repeat` requests through Django (server time: middleware, queries, template). The floor is the same first page
as bare SQL (ORDER BY … LIMIT 100); a plain COUNT(*) is timed too, to show what the bounded count saves.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client, override_settings

from apps.core.partitions import partitions_ensure
from apps.demo.benchkit import bulk_directory, operators_delete, sql_delete
from apps.interconnect.journal import journal_insert
from apps.interconnect.models import Exchange
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.protocol.names import Interface
from apps.simulator.directory import Directory, station_status, status_info
from apps.stations.models import Connector, ConnectorStatusHistory

OPERATOR_ID = "BENCHHIST"
USERNAME = "bench-history-regulator"
TARGET_MS = 300.0
SPAN = timedelta(days=360)  # the rows spread over about a year, newest now


def _timed(action) -> float:
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


class Command(BaseCommand):
    help = "Benchmark the status history and the journal at millions of rows: admin changelists and the API list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=5_000_000, help="rows of each table")
        parser.add_argument("--connectors", type=int, default=10_000)
        parser.add_argument("--repeat", type=int, default=5)
        parser.add_argument("--sample", type=int, default=1000, help="journal rows written to measure each row kind")
        parser.add_argument("--keep", action="store_true", help="leave the rows for another run (--reuse)")
        parser.add_argument("--reuse", action="store_true", help="measure rows a --keep run left")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("hlht_bench_history measures PostgreSQL: set DATABASE_URL=postgres://…")
        rows, self.sample = options["rows"], options["sample"]
        if not options["reuse"]:
            operators_delete([OPERATOR_ID])
            self._build(rows, options["connectors"])
        user = get_user_model().objects.filter(username=USERNAME).first() or get_user_model().objects.create_superuser(
            USERNAME, password=None
        )
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        connector = (
            Connector.objects.filter(operator_id=OPERATOR_ID)
            .order_by("pk")
            .values_list("connector_id", flat=True)[options["connectors"] // 2]
        )
        # As the admin's own date filter writes it: an aware midnight, seven days back.
        week = quote(
            (datetime.now(UTC) - timedelta(days=7)).replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
        )
        history, journal = "/admin/stations/connectorstatushistory/", "/admin/interconnect/exchange/"
        deep = max(1, min(150, rows // 200))  # a deep page (100 rows a page), inside the pages the rows make
        pages: list[tuple[str, str] | tuple[str, str, bool]] = [
            ("history: first page", history),
            ("history: operator", f"{history}?connector__operator={OPERATOR_ID}"),
            ("history: status 3 (charging)", f"{history}?status__exact=3"),
            ("history: one connector", f"{history}?q={connector}"),
            ("history: past 7 days", f"{history}?status_time__gte={week}"),
            (f"history: page {deep}", f"{history}?p={deep}"),
            ("journal: first page", journal),
            ("journal: operator", f"{journal}?operator={OPERATOR_ID}"),
            ("journal: interface", f"{journal}?interface={Interface.NOTIFICATION_STATION_STATUS}"),
            ("journal: Ret 0, past 7 days", f"{journal}?ret=0&created__gte={week}"),
            (f"journal: page {deep}", f"{journal}?p={deep}"),
            ("API: history list", "/api/status-history/"),
            ("API: one connector", f"/api/status-history/?connector={connector}"),
            # The regulator's dashboard, its figures computed afresh (the cache emptied first) and then cached.
            ("admin home: figures computed", "/admin/", True),
            ("admin home: figures cached", "/admin/"),
        ]
        self.stdout.write(
            f"{rows:,} history rows, "
            f"{rows:,} journal rows; median of {options['repeat']} requests each (server time through Django)"
        )
        worst = 0.0
        try:
            for title, url, *fresh in pages:
                response = client.get(url)
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code}")

                def get(u: str = url, clear: bool = bool(fresh)) -> None:
                    if clear:
                        cache.clear()
                    client.get(u)

                median = statistics.median(_timed(get) for _ in range(options["repeat"]))
                worst = max(worst, median)
                self.stdout.write(f"  {title:<30} {median:8.1f} ms  {'ok' if median <= TARGET_MS else 'SLOW'}")
            self._floors(options["repeat"])
            self._journal_bytes()
        finally:
            if not options["keep"]:
                get_user_model().objects.filter(username=USERNAME).delete()
                operators_delete([OPERATOR_ID])
        verdict = "met" if worst <= TARGET_MS else "NOT met"
        self.stdout.write(f"slowest page {worst:.1f} ms: target ≤ {TARGET_MS:g} ms {verdict}")

    def _journal_bytes(self) -> None:
        """Bytes a journal row of each kind takes in the table and its indexes (measured: SAMPLE rows written by
        journal_insert, as the portal writes them), and what a day of Beijing writes (assumptions printed)."""
        directory = Directory(OPERATOR_ID, seed=7, count=100, start=time.time())
        page = {
            "PageNo": 1,
            "PageCount": 100,
            "ItemSize": 10_000,
            "StationInfos": [directory.station_info(st) for st in directory.stations],
        }
        sweep = {"Total": 50, "StationStatusInfos": [station_status(st) for st in directory.stations[:50]]}
        push = {"ConnectorStatusInfo": status_info(next(iter(directory.stations[0].connectors)))}
        kinds = [
            ("status push", Interface.NOTIFICATION_STATION_STATUS, "in", push, {"Status": 0}),
            ("status sweep (50 stations)", Interface.QUERY_STATION_STATUS, "out", {"StationIDs": ["x"] * 50}, sweep),
            ("crawl page (100 stations)", Interface.QUERY_STATIONS_INFO, "out", {"PageNo": 1, "PageSize": 100}, page),
        ]
        # A day of Beijing: 100,000 connectors changing 20 times a day; 10,000 stations swept every 5 minutes in
        # calls of 50; one full crawl (100 pages) and 24 increments (~5 pages each).
        per_day = {"status push": 2_000_000, "status sweep (50 stations)": 200 * 288, "crawl page (100 stations)": 220}
        sample = self.sample
        self.stdout.write(
            f"journal bytes per row (table + indexes, {sample} rows each, a tenth for crawl pages) and per Beijing day:"
        )
        total = {"compact": 0.0, "whole": 0.0}
        for title, interface, direction, request, response in kinds:
            sizes, rows = {}, sample if len(repr(response)) < 10_000 else max(10, sample // 10)  # big rows: fewer
            for mode in ("compact", "whole"):
                with override_settings(HLHT_JOURNAL_FULL_PAYLOAD=[interface] if mode == "whole" else []):
                    before, written = self._journal_size(), []
                    fields = {
                        "operator": None,
                        "claimed_operator_id": OPERATOR_ID,
                        "interface": interface,
                        "direction": direction,
                        "timestamp": "20261202120000",
                        "seq": "0001",
                        "ret": 0,
                        "msg": "",
                        "http_status": 200,
                        "latency_ms": 3.0,
                    }
                    for _ in range(rows):
                        written.append(journal_insert(**fields, request=request, response=response))
                    sizes[mode] = (self._journal_size() - before) / rows
                    sql_delete(Exchange, "id", written)
                total[mode] += sizes[mode] * per_day[title]
            self.stdout.write(
                f"  {title:<28} compact {sizes['compact']:8.0f} B   whole {sizes['whole']:8.0f} B   "
                f"× {per_day[title]:>9,}/day = {sizes['compact'] * per_day[title] / 2**20:8.0f} MiB compact, "
                f"{sizes['whole'] * per_day[title] / 2**20:8.0f} MiB whole"
            )
        self.stdout.write(
            f"  a Beijing day: {total['compact'] / 2**30:.2f} GiB compact, {total['whole'] / 2**30:.2f} GiB whole"
        )

    def _journal_size(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree(%s)",
                [Exchange._meta.db_table],
            )
            return int(cursor.fetchone()[0])

    def _floors(self, repeat: int) -> None:
        with connection.cursor() as cursor:
            for title, sql in (
                (
                    "floor: history page, bare SQL",
                    "SELECT * FROM stations_connectorstatushistory ORDER BY status_time DESC, id DESC LIMIT 100",
                ),
                (
                    "floor: journal page, bare SQL",
                    "SELECT * FROM interconnect_exchange ORDER BY created DESC, id DESC LIMIT 100",
                ),
                ("what is avoided: COUNT(*) journal", "SELECT count(*) FROM interconnect_exchange"),
            ):
                median = statistics.median(
                    _timed(lambda s=sql: (cursor.execute(s), cursor.fetchall())) for _ in range(repeat)
                )
                self.stdout.write(f"  {title:<30} {median:8.1f} ms")

    def _build(self, rows: int, connectors: int) -> None:
        began = time.perf_counter()
        operator_provision(operator_id=OPERATOR_ID, name="大表基准测试运营商")
        bulk_directory(Operator.objects.get(pk=OPERATOR_ID), connectors, prefix="H")
        now = datetime.now(UTC)
        month = now - SPAN
        while month <= now:  # a partition for every month the rows span (the scheduled task makes them ahead)
            for model in (ConnectorStatusHistory, Exchange):
                partitions_ensure(model, months_ahead=0, today=month.date())
            month += timedelta(days=28)
        step = SPAN.total_seconds() / rows
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO stations_connectorstatushistory (connector_id, status, park_status, lock_status, "
                "status_time, source, created, updated) "
                "SELECT ids[1 + g %% cardinality(ids)], (ARRAY[0,1,2,3,4,255])[1 + g %% 6], "
                "(ARRAY[0,10,50])[1 + g %% 3], NULL, now() - g * %s * interval '1 second', 'push', now(), now() "
                "FROM generate_series(0, %s - 1) g, "
                "(SELECT array_agg(id ORDER BY id) AS ids FROM stations_connector WHERE operator_id = %s) c",
                [step, rows, OPERATOR_ID],
            )
            cursor.execute(
                "INSERT INTO interconnect_exchange (operator_id, claimed_operator_id, interface, direction, timestamp, "
                "seq, ret, msg, http_status, latency_ms, request, response, error, remote_addr, created) "
                "SELECT %s, %s, (ARRAY[%s, %s, %s])[1 + g %% 3], 'in', "
                "to_char(now() - g * %s * interval '1 second', 'YYYYMMDDHH24MISS'), "
                "lpad((1 + g %% 9999)::text, 4, '0'), "
                "CASE WHEN g %% 50 = 0 THEN 4004 ELSE 0 END, '', 200, 3.5, "
                "jsonb_build_object('ConnectorStatusInfo', jsonb_build_object('ConnectorID', 'H' || g %% %s, "
                "'Status', 2)), '{\"Status\": 0}'::jsonb, '', '127.0.0.1', now() - g * %s * interval '1 second' "
                "FROM generate_series(0, %s - 1) g",
                [
                    OPERATOR_ID,
                    OPERATOR_ID,
                    Interface.NOTIFICATION_STATION_STATUS,
                    Interface.NOTIFICATION_CHARGE_ORDER_INFO,
                    Interface.QUERY_TOKEN,
                    step,
                    connectors,
                    step,
                    rows,
                ],
            )
            # Every connector has a current status, as in service (the dashboard counts them by status and district).
            cursor.execute(
                "INSERT INTO stations_connectorstatus (connector_id, status, park_status, lock_status, status_time, "
                "source, created, updated) SELECT id, (ARRAY[0,1,2,3,4,255])[1 + id %% 6], 0, NULL, now(), 'push', "
                "now(), now() FROM stations_connector WHERE operator_id = %s ON CONFLICT DO NOTHING",
                [OPERATOR_ID],
            )
            # As autovacuum would soon after a load this size: without statistics the planner takes 200,000
            # connectors for a handful and picks plans that cost minutes.
            for table in (
                "stations_station",
                "stations_equipment",
                "stations_connector",
                "stations_connectorstatus",
                "stations_connectorstatushistory",
                "interconnect_exchange",
            ):
                cursor.execute(f"ANALYZE {table}")
        self.stdout.write(f"built {rows:,} + {rows:,} rows in {time.perf_counter() - began:.0f} s")
