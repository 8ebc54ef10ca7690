"""Set-based writes (apps.core.rows) on the test database's own backend: the same SQL on PostgreSQL and SQLite."""

import datetime as dt
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.rows import CHUNK, insert_many, insert_rows, insert_statement, write_together
from apps.interconnect.models import Exchange, SeenEnvelope
from apps.stations.models import ConnectorStatus, ConnectorStatusHistory, Equipment
from tests import factories

pytestmark = pytest.mark.django_db


def _mark(seq: str) -> dict:
    return {"operator_id": "123456789", "timestamp": "20261202120000", "seq": seq, "sig": "A" * 32,
            "received_at": timezone.now()}  # fmt: skip


def test_insert_returns_keys_and_stores_values_as_the_orm_reads_them():
    when = timezone.now().replace(microsecond=0)
    payload = {"ConnectorID": "C1", "Power": "7.5", "Nested": [1, {"A": None}], "名称": "北京"}
    blank = {"claimed_operator_id": "", "timestamp": "", "seq": "", "ret": None, "msg": "", "http_status": None,
             "response": None, "error": ""}  # fmt: skip
    rows = [{**blank, "interface": "x", "direction": "in", "request": payload, "created": when, "latency_ms": 1.5,
             "operator_id": None, "remote_addr": "127.0.0.1"},
            {**blank, "interface": "y", "direction": "out", "request": None, "created": when, "latency_ms": 0.0,
             "operator_id": None, "remote_addr": None}]  # fmt: skip
    keys = insert_rows(Exchange, rows, returning=True)
    assert len(keys) == 2 and keys[0] != keys[1]
    first = Exchange.objects.get(pk=keys[0])
    assert (first.request, first.created, first.latency_ms, first.remote_addr) == (payload, when, 1.5, "127.0.0.1")
    assert Exchange.objects.get(pk=keys[1]).request is None  # SQL NULL, not JSON null


def test_on_conflict_do_nothing_tells_a_first_sight_from_a_repeat():
    assert insert_rows(SeenEnvelope, [_mark("0001")], conflict=[]) == 1
    assert insert_rows(SeenEnvelope, [_mark("0001")], conflict=[]) == 0  # the transaction stays usable
    assert insert_rows(SeenEnvelope, [_mark("0002")], conflict=[]) == 1
    assert SeenEnvelope.objects.count() == 2


def test_an_upsert_updates_only_the_named_fields_and_write_together_runs_every_statement():
    connector = factories.connector(factories.equipment(factories.station(factories.operator(), "S1"), "E1"), "C1")
    t0 = timezone.now().replace(microsecond=0)
    row = {"connector_id": connector.pk, "status": 1, "park_status": None, "lock_status": None, "status_time": t0,
           "source": "push", "created": t0, "updated": t0}  # fmt: skip
    insert_rows(ConnectorStatus, [row], conflict=["connector"], update=["status", "status_time", "updated"])
    later = t0 + timedelta(seconds=5)
    newer = {**row, "status": 3, "status_time": later, "source": "pull", "created": later, "updated": later}
    write_together([
        insert_statement(ConnectorStatusHistory, [dict(newer)]),
        insert_statement(ConnectorStatus, [newer], conflict=["connector"], update=["status", "status_time", "updated"]),
    ])  # fmt: skip
    current = ConnectorStatus.objects.get()
    assert (current.status, current.status_time, current.source, current.created) == (3, later, "push", t0)
    assert ConnectorStatusHistory.objects.get().status == 3


def test_many_rows_are_one_statement(django_assert_num_queries):
    rows = [_mark(f"{n:04d}") for n in range(1, 301)]
    with django_assert_num_queries(1):
        assert insert_rows(SeenEnvelope, rows, conflict=[]) == 300
    assert SeenEnvelope.objects.count() == 300


def _pile(station, n: int, when, **overrides) -> dict:
    return {"operator_id": station.operator_id, "equipment_id": f"E{n:05d}", "station_id": station.pk,
            "manufacturer_id": "", "manufacturer_name": "厂商\"引号", "equipment_model": "M", "equipment_type": 1,
            "production_date": dt.date(2024, 2, 29), "equipment_lng": Decimal("116.400001"), "equipment_lat": None,
            "power": Decimal("60.0"), "equipment_name": "桩", "removed_at": None, "created": when, "updated": when,
            **overrides}  # fmt: skip


def test_insert_many_upserts_more_rows_than_a_chunk_and_stores_values_exactly():
    """On PostgreSQL the rows travel as one JSON document; elsewhere in chunks. Either way: exact decimals, dates,
    aware datetimes, text with quotes; an upsert that updates the named fields; (pk, key) pairs that match."""
    station = factories.station(factories.operator(), "S1")
    when = timezone.now()
    rows = [_pile(station, n, when) for n in range(CHUNK + 7)]
    names = ("equipment_lng", "equipment_lat", "power", "production_date", "removed_at", "updated")
    pairs = insert_many(Equipment, rows, conflict=("operator", "equipment_id"), update=names,
                        returning=("id", "equipment_id"))  # fmt: skip
    assert len(pairs) == CHUNK + 7
    stored = dict(Equipment.objects.values_list("equipment_id", "pk"))
    assert {key: pk for pk, key in pairs} == stored
    first = Equipment.objects.get(equipment_id="E00000")
    assert (first.equipment_lng, first.power, first.production_date, first.created, first.manufacturer_name) == (
        Decimal("116.400001"),
        Decimal("60.0"),
        dt.date(2024, 2, 29),
        when,
        '厂商"引号',
    )

    later = when + timedelta(minutes=1)
    again = [_pile(station, n, later, power=Decimal("7.5"), manufacturer_name="不更新") for n in (0, 1)]
    assert insert_many(Equipment, again, conflict=("operator", "equipment_id"), update=names) == 2
    first.refresh_from_db()
    assert (first.power, first.updated, first.created, first.manufacturer_name) == (
        Decimal("7.5"),
        later,
        when,
        '厂商"引号',
    )  # only the named fields move
    assert Equipment.objects.count() == CHUNK + 7
