"""Serial numbers come from a counter the database keeps: two processes in one second never issue the same one."""

import multiprocessing
from datetime import datetime

import pytest
from django.db import connection, connections

from apps.core import serials
from apps.protocol import CST
from apps.protocol.timestamps import is_serial_number

POSTGRES = connection.vendor == "postgresql"
SECOND = datetime(2026, 12, 6, 10, 0, 0, tzinfo=CST)


def _issue(n: int, out) -> None:
    connections.close_all()  # the child opens its own connection, as another gunicorn worker would
    out.put([serials.next_serial("MA01H3BQ2") for _ in range(n)])
    connections.close_all()


def test_serials_are_27_characters_and_distinct_in_one_second(monkeypatch, db):
    monkeypatch.setattr(serials, "now", lambda: SECOND)
    issued = [serials.next_serial("MA01H3BQ2") for _ in range(50)]
    assert len(set(issued)) == 50
    assert all(is_serial_number(s, "MA01H3BQ2") and s[9:23] == "20261206100000" for s in issued)
    with pytest.raises(ValueError, match="9 ASCII"):
        serials.next_serial("short")


@pytest.mark.skipif(not POSTGRES, reason="the test database of SQLite is in one process's memory")
@pytest.mark.django_db(transaction=True)
def test_two_processes_in_the_same_second_never_issue_the_same_serial(monkeypatch):
    # Before the counter was the database's, each process counted from 0001 in each second: two drivers starting
    # on two gunicorn workers in one second got the same StartChargeSeq, and the later was refused 409.
    monkeypatch.setattr(serials, "now", lambda: SECOND)
    connections.close_all()
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    children = [context.Process(target=_issue, args=(200, out)) for _ in range(2)]
    for child in children:
        child.start()
    issued = out.get(timeout=60) + out.get(timeout=60)
    for child in children:
        child.join(timeout=60)
    assert len(issued) == 400
    assert len(set(issued)) == 400
