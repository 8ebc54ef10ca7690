"""PostgreSQL stopped and started under status and order pushes, with real processes: the portal under gunicorn on a
private cluster, platforms that resend what was not acknowledged. Every message acknowledged is stored exactly once;
while the database is down the answers are Ret -1 envelopes (or a refused connection), never an HTML 500; gunicorn's
workers serve again once it is back, without a restart. And gunicorn's workers SIGKILLed in the middle of
messages: each message is done once (or not at all, and then resent)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import psycopg2
import pytest
import requests
from django.db import connection
from psycopg2 import sql

from apps.demo.benchkit import bulk_directory, database_url
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
    pytest.mark.slow,
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


def _fixtures() -> list[tuple[str, dict]]:
    """The directory and the messages: statuses and orders interleaved, so orders meet the fault too."""
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    bulk_directory(Operator.objects.get(pk=SIM_ID), CONNECTORS, prefix="P")
    directory(SIM_ID)  # the orders' connector C1 and its tariff
    messages = [(Interface.NOTIFICATION_STATION_STATUS, p) for p in _statuses()]
    messages += [(Interface.NOTIFICATION_CHARGE_ORDER_INFO, p) for p in _orders()]
    return messages[::2] + messages[1::2]


def _load(url: str, messages: list[tuple[str, dict]], fault: Callable[[], None]) -> tuple[Platform, list, Counter]:
    """SENDERS platforms' threads deliver every message (resending until Ret 0); `fault` runs a third through.
    Returns the platform (its tally of answers), what was acknowledged, and the answers met until the fault ended."""
    platform = Platform(url, SIM_ID, INBOUND)
    platform.login(requests.Session())
    acknowledged: list[tuple[str, dict]] = []
    queue = list(messages)
    lock = threading.Lock()

    def sender() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    if not queue:
                        return
                    interface, payload = queue.pop(0)
                data = platform.deliver(interface, payload, session)
                with lock:
                    acknowledged.append((interface, data))

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < len(messages) // 3 and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    before = Counter(platform.answers)
    fault()
    during = Counter(platform.answers) - before
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return platform, acknowledged, during


def _stored_once(platform: Platform, acknowledged: list, count: Callable[[str, type], tuple]) -> None:
    """Every message acknowledged, each stored exactly once; nothing but envelopes and refused connections met."""
    assert platform.strays == []
    assert set(platform.answers) <= {0, -1, "refused"}, platform.answers
    assert len(acknowledged) == CONNECTORS * ROUNDS + ORDERS
    # Every status is one history row, none twice (a resend of one already stored only confirms it).
    stored, distinct = count(
        "SELECT count(*), count(DISTINCT (connector_id, status, park_status, lock_status)) FROM {}",
        ConnectorStatusHistory,
    )
    assert (stored, distinct) == (CONNECTORS * ROUNDS, CONNECTORS * ROUNDS)
    # Every order is one order with one report of revision 1 (a resend of one already stored counts as a repeat).
    orders, distinct_orders = count("SELECT count(*), count(DISTINCT start_charge_seq) FROM {}", ChargeOrder)
    reports, revision = count("SELECT count(*), max(revision) FROM {}", OrderReport)
    assert (orders, distinct_orders, reports, revision) == (ORDERS, ORDERS, ORDERS, 1)
    confirmed = [data["ConfirmResult"] for i, data in acknowledged if i == Interface.NOTIFICATION_CHARGE_ORDER_INFO]
    assert confirmed == [0] * ORDERS


def _counter(database: str) -> Callable[[str, type], tuple]:
    def count(query: str, model: type) -> tuple:
        with psycopg2.connect(database) as db, db.cursor() as cursor:
            cursor.execute(sql.SQL(query).format(sql.Identifier(model._meta.db_table)))
            return cursor.fetchone()

    return count


def test_postgresql_restarted_under_pushes_loses_and_doubles_nothing():
    messages = _fixtures()
    with private_postgres() as cluster:
        database = cluster.copy_of_test_database("hlht_faults_pg")
        with gunicorn(database, workers=2) as (url, server):
            workers: list[int] = []

            def outage() -> None:
                workers.extend(_children(server.pid))
                cluster.stop("fast")  # every connection closed, new ones refused
                time.sleep(4)
                cluster.start()

            platform, acknowledged, during = _load(url, messages, outage)
            assert server.poll() is None and _children(server.pid) == workers  # the same workers serve on
        # While it was down: Ret -1 envelopes (the platforms resent), never an HTML page or a Ret 500.
        assert during[-1] > 0, during
        _stored_once(platform, acknowledged, _counter(database))


def test_gunicorn_workers_killed_mid_message_leave_each_message_done_once_or_not_at_all():
    # The pushes are processed inside the request (an order's checks, its report and its answer in one transaction):
    # a worker killed mid-message rolls it back with its connection, the platform meets a dropped connection and
    # resends; gunicorn's master starts a new worker.
    messages = _fixtures()
    with gunicorn(database_url(), workers=2) as (url, server):
        killed: list[int] = []

        def kills() -> None:
            for _ in range(3):
                victim = _children(server.pid)[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)
                time.sleep(0.7)

        platform, acknowledged, during = _load(url, messages, kills)
        assert server.poll() is None and not set(killed) & set(_children(server.pid))  # replaced, still serving
    assert during["refused"] > 0, during  # the kills met messages in flight
    _stored_once(platform, acknowledged, _counter(database_url()))


def _children(pid: int) -> list[int]:
    return sorted(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
