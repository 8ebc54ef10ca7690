"""The TimeStamp window (HLHT_CLOCK_SKEW) at its edges, on the portal under gunicorn: a message at the edge is taken
and stored once, one a second past it is refused 4003 naming TimeStamp and stores nothing.

A TimeStamp has whole seconds and the server measures the skew to the microsecond, so the edges are, for a message
sent in second T (the server still in it): T + window (the latest accepted; skew ≤ window), T + window + 1 (refused),
T + 1 − window (the oldest accepted; skew < window) and T − window (refused: skew = window + the part of T passed)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
import requests
from django.db import connection

from apps.core.conf import conf
from apps.demo.benchkit import bulk_directory, database_url
from apps.interconnect.models import Exchange
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.protocol import CST, Ret, format_timestamp
from apps.protocol.names import Interface
from apps.stations.models import ConnectorStatusHistory
from tests.simulator.support import INBOUND, SIM_ID, keys_file

from .processes import Platform, gunicorn

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="gunicorn's workers need a database they can share"),
]
PUSH = Interface.NOTIFICATION_STATION_STATUS


def _status(n: int) -> dict:
    return {"ConnectorStatusInfo": {"ConnectorID": f"PC{n:06d}", "Status": 2, "ParkStatus": 10, "LockStatus": 0}}


def _start_of_a_second() -> datetime:
    """Now, just after a second began (so a request sent at once reaches the server within that second)."""
    while (fraction := time.time() % 1) > 0.1:
        time.sleep(1.0 - fraction + 0.005)
    return datetime.now(CST).replace(microsecond=0)


def test_a_timestamp_at_the_windows_edge_is_taken_once_and_one_a_second_past_is_refused():
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    bulk_directory(Operator.objects.get(pk=SIM_ID), 4, prefix="P")
    window = conf().protocol.clock_skew_seconds
    cases = [  # (connector, offset from the second it is sent in, taken)
        (0, window, True),
        (1, window + 1, False),
        (2, 1 - window, True),
        (3, -window, False),
    ]
    with gunicorn(database_url(), workers=1) as (url, _server), requests.Session() as session:
        platform = Platform(url, SIM_ID, INBOUND)
        platform.login(session)
        answers = {}
        for connector, offset, _ in cases:
            second = _start_of_a_second()
            stamp = format_timestamp(second + timedelta(seconds=offset))
            answers[connector] = platform.post(PUSH, _status(connector), session, timestamp=stamp, seq="0001")
            assert time.time() - second.timestamp() < 1, "the answer came after its second: the edge was not tested"
        # At the edge again, the same status in a new envelope (taken: it confirms the status's time, no new history
        # row), then that envelope once more, byte for byte: a replay, refused.
        second = _start_of_a_second()
        stamp = format_timestamp(second + timedelta(seconds=window))
        body = platform.post(PUSH, _status(0), session, timestamp=stamp, seq="0002")
        again = platform.post(PUSH, _status(0), session, timestamp=stamp, seq="0002")

    for connector, _offset, taken in cases:
        ret, msg, data = answers[connector]
        stored = ConnectorStatusHistory.objects.filter(connector__connector_id=f"PC{connector:06d}").count()
        if taken:
            assert (ret, data, stored) == (Ret.OK, {"Status": 0}, 1), (connector, msg)
        else:
            assert ret == Ret.PARAMETERS and "TimeStamp" in msg and f"超过{window}秒" in msg, (connector, msg)
            assert stored == 0
    assert body[0] == Ret.OK
    assert again[0] == Ret.PARAMETERS and "重复" in again[1]
    assert ConnectorStatusHistory.objects.filter(connector__connector_id="PC000000").count() == 1
    refused = Exchange.objects.filter(interface=PUSH, ret=Ret.PARAMETERS).count()
    assert refused == 3  # the two outside the window and the replay, journalled with their answer
    assert platform.strays == []
