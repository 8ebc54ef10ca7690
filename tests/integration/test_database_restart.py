"""PostgreSQL stopped and started under status and order pushes, with real processes: the portal under gunicorn on a
private cluster, platforms that resend what was not acknowledged. Every message acknowledged is stored exactly once;
while the database is down the answers are Ret -1 envelopes (or a refused connection), never an HTML 500; gunicorn's
workers serve again once it is back, without a restart."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg2
import pytest
import requests
from django.db import connection
from psycopg2 import sql

from apps.demo.benchkit import bulk_directory
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.orders.models import ChargeOrder, OrderReport
from apps.protocol import CST
from apps.protocol.names import Interface
from apps.stations.models import ConnectorStatusHistory
from tests.orders.support import directory, order, seq
from tests.simulator.support import INBOUND, SIM_ID, keys_file

from .processes import Platform, gunicorn, private_postgres

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the private cluster is a copy of a PostgreSQL test database"
    ),
]
CONNECTORS, ROUNDS, ORDERS, SENDERS = 40, 5, 40, 4  # 200 status pushes and 40 orders
COMBOS = [(2, 10, 0), (3, 10, 0), (2, 50, 0), (1, 50, 0), (4, 0, 10)]  # a new status each round, never a repeat


def _statuses() -> list[dict]:
    return [
        {"ConnectorStatusInfo": {"ConnectorID": f"PC{c:06d}", "Status": s, "ParkStatus": p, "LockStatus": lk}}
        for (s, p, lk) in COMBOS[:ROUNDS]
        for c in range(CONNECTORS)
    ]


def _orders() -> list[dict]:
    start = datetime.now(CST).replace(microsecond=0) - timedelta(hours=3)
    return [
        order(start=start + timedelta(minutes=n), minutes=30, kwh="12.00", number=seq(SIM_ID)) for n in range(ORDERS)
    ]


def test_postgresql_restarted_under_pushes_loses_and_doubles_nothing():
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    bulk_directory(Operator.objects.get(pk=SIM_ID), CONNECTORS, prefix="P")
    directory(SIM_ID)  # the orders' connector C1 and its tariff
    messages = [(Interface.NOTIFICATION_STATION_STATUS, p) for p in _statuses()]
    messages += [(Interface.NOTIFICATION_CHARGE_ORDER_INFO, p) for p in _orders()]
    messages = messages[::2] + messages[1::2]  # orders spread through the load, not all at its end

    with private_postgres() as cluster:
        database = cluster.copy_of_test_database("hlht_faults_pg")
        with gunicorn(database, workers=2) as (url, server):
            platform = Platform(url, SIM_ID, INBOUND)
            platform.login(requests.Session())
            acknowledged: list[tuple[str, dict]] = []
            queue = list(enumerate(messages))
            lock = threading.Lock()

            def sender() -> None:
                with requests.Session() as session:
                    while True:
                        with lock:
                            if not queue:
                                return
                            _, (interface, payload) = queue.pop(0)
                        data = platform.deliver(interface, payload, session)
                        with lock:
                            acknowledged.append((interface, data))

            threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
            for thread in threads:
                thread.start()
            while len(acknowledged) < len(messages) // 3:  # a third through the load
                time.sleep(0.05)
            workers_before = _children(server.pid)
            cluster.stop("fast")  # every connection closed, new ones refused
            time.sleep(4)
            during = dict(platform.answers)
            cluster.start()
            for thread in threads:
                thread.join(timeout=120)
            assert not any(t.is_alive() for t in threads)
            assert server.poll() is None and _children(server.pid) == workers_before  # the same workers serve on

        # What the platforms were told: nothing but envelopes (Ret 0 or Ret -1) and refused connections.
        assert platform.strays == []
        assert set(platform.answers) <= {0, -1, "refused"}, platform.answers
        assert during.get(-1, 0) + during.get("refused", 0) > 0, during  # the outage was met, not slept through
        assert len(acknowledged) == len(messages)

        def one(query: str, model: type) -> tuple:
            with psycopg2.connect(database) as db, db.cursor() as cursor:
                cursor.execute(sql.SQL(query).format(sql.Identifier(model._meta.db_table)))
                return cursor.fetchone()

        stored, distinct = one(
            "SELECT count(*), count(DISTINCT (connector_id, status, park_status, lock_status)) FROM {}",
            ConnectorStatusHistory,
        )
        orders, distinct_orders = one("SELECT count(*), count(DISTINCT start_charge_seq) FROM {}", ChargeOrder)
        reports, revision = one("SELECT count(*), max(revision) FROM {}", OrderReport)
        # Every status acknowledged is one history row, none twice (a resend of a stored one only confirms it).
        assert (stored, distinct) == (CONNECTORS * ROUNDS, CONNECTORS * ROUNDS)
        # Every order acknowledged is one order with one report of revision 1 (a resend counts as a repeat).
        assert (orders, distinct_orders, reports, revision) == (ORDERS, ORDERS, ORDERS, 1)
        assert all(
            data["ConfirmResult"] == 0
            for interface, data in acknowledged
            if "Order" in interface or "order" in interface
        )


def _children(pid: int) -> list[int]:
    return sorted(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
