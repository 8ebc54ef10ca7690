"""Pulls against a simulated operator platform over real HTTP: the portal's data equals the operator's."""

from __future__ import annotations

import copy
import json
import time
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from apps.interconnect.models import Exchange, RejectedRecord, SyncRun
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.protocol import CST, format_datetime
from apps.protocol.names import wire_name
from apps.simulator import handlers as sim_handlers
from apps.simulator.directory import Directory
from apps.stations.directory import CONNECTOR_FIELDS, EQUIPMENT_FIELDS, STATION_FIELDS
from apps.stations.models import Connector, ConnectorStatus, DirectoryChange, Equipment, Station, StationStats
from apps.stations.pulls import (
    StationsInfoPull,
    checked_page,
    station_stats_pull,
    station_status_pull,
    stations_info_pull,
    stations_info_watermark,
)
from tests import factories
from tests.simulator.support import SIM_ID, keys_file

pytestmark = pytest.mark.django_db(transaction=True)


def _same(model_obj, info, names):
    for name in names:
        wire = info.get(wire_name(name))
        stored = getattr(model_obj, name)
        if wire is None or wire == "":
            assert stored in (None, "", 0, []), (name, stored)
        elif isinstance(stored, Decimal):
            assert stored == Decimal(str(wire)), (name, stored, wire)
        elif hasattr(stored, "isoformat"):
            assert stored.isoformat() == wire, (name, stored, wire)
        else:
            assert stored == wire, (name, stored, wire)


def assert_portal_equals_platform(sim):
    infos = [sim.directory.station_info(st) for st in sim.directory.stations if not st.removed]
    assert Station.objects.filter(operator_id=SIM_ID, removed_at__isnull=True).count() == len(infos)
    equipment_ids = {e["EquipmentID"] for info in infos for e in info["EquipmentInfos"]}
    connector_ids = {c["ConnectorID"] for info in infos for e in info["EquipmentInfos"] for c in e["ConnectorInfos"]}
    live = {"operator_id": SIM_ID, "removed_at__isnull": True, "station__removed_at__isnull": True}
    assert set(Equipment.objects.filter(**live).values_list("equipment_id", flat=True)) == equipment_ids
    assert set(Connector.objects.filter(**live).values_list("connector_id", flat=True)) == connector_ids
    for info in infos:
        station = Station.objects.get(operator_id=SIM_ID, station_id=info["StationID"])
        _same(station, info, STATION_FIELDS)
        for e in info["EquipmentInfos"]:
            equipment = Equipment.objects.get(operator_id=SIM_ID, equipment_id=e["EquipmentID"])
            assert equipment.station_id == station.pk
            _same(equipment, e, EQUIPMENT_FIELDS)
            for c in e["ConnectorInfos"]:
                connector = Connector.objects.get(operator_id=SIM_ID, connector_id=c["ConnectorID"])
                assert (connector.station_id, connector.equipment_id) == (station.pk, equipment.pk)
                _same(connector, c, CONNECTOR_FIELDS)


def test_full_crawl_copies_the_directory_exactly(platform):
    sim = platform()
    run = stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True)
    assert (run.status, run.error, run.created_count, run.rejected_count) == ("succeeded", "", 25, 0)
    assert_portal_equals_platform(sim)
    again = stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 25)


def test_incremental_crawl_fetches_only_changes_and_records_them(platform):
    sim = platform()
    operator = Operator.objects.get(pk=SIM_ID)
    stations_info_pull(operator=operator, full=True)
    moment = int(sim.clock.time()) + 60
    renamed = sim.directory.stations[3]
    sim.directory.rename_station(renamed, moment)
    new = sim.directory.add_station(moment)
    run = stations_info_pull(operator=operator)
    first = SyncRun.objects.filter(full=True).get()
    assert run.last_query_time  # an increment, not a full crawl
    assert run.last_query_time < first.started.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
    assert (run.created_count, run.updated_count, run.unchanged_count) == (1, 1, 0)
    assert_portal_equals_platform(sim)
    change = DirectoryChange.objects.get(run=run, kind="station", action="updated")
    assert change.station_id == renamed.sid
    assert change.changes["station_name"][1] == renamed.name
    assert DirectoryChange.objects.filter(run=run, station_id=new.sid, action="created").exists()
    # From which message: the journalled answer that carried the new name.
    assert (change.exchange.interface, change.exchange.direction, change.exchange.ret) == (
        "query_stations_info",
        "out",
        0,
    )
    # Journalled compact (a list's length and digest); the change itself holds what changed.
    assert change.exchange.response["StationInfos"]["_items"] >= 2 and change.exchange.response["_compact"]
    assert renamed.name not in json.dumps(change.exchange.response, ensure_ascii=False)


def test_a_crawl_page_is_journalled_whole_where_the_setting_asks(platform, settings):
    settings.HLHT_JOURNAL_FULL_PAYLOAD = ["query_stations_info"]
    platform()
    run = stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True)
    pages = Exchange.objects.filter(interface="query_stations_info", direction="out", ret=0)
    assert pages.count() == run.pages and all(len(p.response["StationInfos"]) > 0 for p in pages)


def test_full_crawl_marks_a_disappeared_station_removed(platform):
    sim = platform()
    operator = Operator.objects.get(pk=SIM_ID)
    stations_info_pull(operator=operator, full=True)
    gone = sim.directory.stations[0]
    sim.directory.remove_station(gone, int(sim.clock.time()) + 60)
    stations_info_pull(operator=operator)  # an increment cannot tell removal from silence
    assert Station.objects.get(station_id=gone.sid).removed_at is None
    run = stations_info_pull(operator=operator, full=True)
    assert Station.objects.get(station_id=gone.sid).removed_at is not None  # kept, not deleted
    assert DirectoryChange.objects.filter(run=run, station_id=gone.sid, action="removed").exists()
    assert (run.removed_count, run.updated_count) == (1, 0)  # a removal is not an accepted update
    assert_portal_equals_platform(sim)


def test_invalid_records_are_rejected_with_reasons_and_the_rest_kept(platform):
    platform(stations=40, faults="invalid_records:0.3")
    run = stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True)
    assert run.status == "succeeded"
    assert run.rejected_count > 0
    assert run.created_count + run.rejected_count == 40
    rejected = list(RejectedRecord.objects.filter(run=run))
    assert len(rejected) == run.rejected_count
    assert all(r.rules and r.reasons and r.payload for r in rejected)
    assert all(r.exchange.interface == "query_stations_info" for r in rejected)  # the message it came in
    rules = {rule for r in rejected for rule in r.rules}
    assert rules & {"enum", "max_len", "china", "beijing", "range"}, rules
    kept = set(Station.objects.values_list("station_id", flat=True))
    assert not kept & {r.record_key for r in rejected}


def test_a_failed_crawl_keeps_its_pages_and_does_not_move_the_watermark(platform):
    platform(stations=25, faults="busy:1")
    operator = Operator.objects.get(pk=SIM_ID)
    run = stations_info_pull(operator=operator, full=True)
    assert run.status == "failed"
    assert "TransientError" in run.error
    assert stations_info_watermark(SIM_ID) == ""


def test_status_and_stats_pulls(platform):
    sim = platform()
    operator = Operator.objects.get(pk=SIM_ID)
    stations_info_pull(operator=operator, full=True)
    run = station_status_pull(operator=operator)
    assert (run.status, run.rejected_count) == ("succeeded", 0)
    expected = {c.id: c.status for c in sim.directory.connectors if not c.station.removed}
    stored = dict(ConnectorStatus.objects.values_list("connector__connector_id", "status"))
    assert stored == expected
    again = station_status_pull(operator=operator)
    assert again.updated_count == 0  # nothing changed: no new history either
    stats = station_stats_pull(operator=operator, day=(datetime.now(CST) - timedelta(days=1)).date())
    assert (stats.status, stats.rejected_count, stats.created_count) == ("succeeded", 0, 25)
    assert StationStats.objects.count() == 25


def test_hlht_pull_command_prints_the_summary(platform):
    platform()
    out = StringIO()
    call_command("hlht_pull", "--operator-id", SIM_ID, "--interface", "query_stations_info", "--full", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary == {
        "interface": "query_stations_info", "status": "succeeded", "pages": 1, "created": 25, "updated": 0,
        "unchanged": 0, "rejected": 0, "error": None,
    }  # fmt: skip
    assert SyncRun.objects.count() == 1


def test_hlht_pull_exit_code_on_failure(platform):
    platform(faults="busy:1")
    out = StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("hlht_pull", "--operator-id", SIM_ID, "--interface", "query_stations_info", stdout=out)
    assert exc.value.code == 1
    assert json.loads(out.getvalue())["status"] == "failed"


def test_a_connector_claimed_by_two_stations_of_one_page_keeps_the_first(db):
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    directory = Directory(SIM_ID, seed=3, count=3, start=time.time())
    first, second, third = (directory.station_info(st) for st in directory.stations)
    thief = copy.deepcopy(second)
    stolen = first["EquipmentInfos"][0]["ConnectorInfos"][0]["ConnectorID"]
    thief["EquipmentInfos"][0]["ConnectorInfos"][0]["ConnectorID"] = stolen
    run = factories.SyncRunFactory(operator=Operator.objects.get(pk=SIM_ID))  # a station crawl, running
    listed: set[str] = set()

    job = StationsInfoPull(operator=Operator.objects.get(pk=SIM_ID), run=run, client=None, heartbeat=None)
    page = {"StationInfos": [first, thief, third, copy.deepcopy(third)]}
    job._stored((1, job._prepare(checked_page(page, operator_id=SIM_ID), listed, None)()))

    assert (run.created_count, run.rejected_count) == (2, 2)
    rejected = {r.record_key: r for r in RejectedRecord.objects.filter(run=run)}
    assert set(rejected) == {second["StationID"], third["StationID"]}
    assert rejected[second["StationID"]].rules == ["unique"]
    assert (
        stolen in rejected[second["StationID"]].reasons[0]
        and first["StationID"] in rejected[second["StationID"]].reasons[0]
    )
    assert Connector.objects.get(connector_id=stolen).station.station_id == first["StationID"]
    assert listed == {first["StationID"], second["StationID"], third["StationID"]}  # rejected is not removed


def _misbehaving(monkeypatch, distort):
    """The simulator's query_stations_info, with its answer bent by `distort(payload, answer)`: a buggy platform."""
    real = sim_handlers.INTERFACES["query_stations_info"]

    def handler(sim, envelope, payload):
        answer = real(sim, envelope, payload)  # the page as JSON text (see the simulator's handler)
        return json.dumps(distort(payload, json.loads(answer)), ensure_ascii=False)

    monkeypatch.setitem(sim_handlers.INTERFACES, "query_stations_info", handler)


@pytest.mark.parametrize(
    ("distort", "reason"),
    [
        (lambda payload, answer: {**answer, "StationInfos": []} if payload["PageNo"] == 2 else answer, "第 2 页为空"),
        (lambda payload, answer: {**answer, "StationInfos": []} if payload["PageNo"] == 3 else answer, "只收到 200"),
        (lambda payload, answer: {**answer, "ItemSize": answer["ItemSize"] + 5}, "ItemSize 为 255"),
        (lambda payload, answer: {**answer, "PageCount": 1}, "只收到 100"),
        (lambda payload, answer: {k: v for k, v in answer.items() if k != "PageCount"}, "PageCount"),
    ],
    ids=["empty-middle-page", "empty-last-page", "item-size-larger", "page-count-short", "no-page-count"],
)
def test_a_full_crawl_that_is_not_complete_fails_and_removes_nothing(platform, monkeypatch, distort, reason):
    sim = platform(stations=250)  # three pages of 100
    operator = Operator.objects.get(pk=SIM_ID)
    assert stations_info_pull(operator=operator, full=True).status == "succeeded"
    _misbehaving(monkeypatch, distort)

    run = stations_info_pull(operator=operator, full=True)

    assert run.status == "failed" and reason in run.error and not run.retryable
    assert run.removed_count == 0
    assert Station.objects.filter(operator_id=SIM_ID, removed_at__isnull=True).count() == len(sim.directory.stations)
    assert stations_info_watermark(SIM_ID) < format_datetime(run.started)  # the watermark did not move


def test_a_full_crawl_listing_nothing_does_not_empty_the_directory(platform, monkeypatch):
    platform(stations=20)
    operator = Operator.objects.get(pk=SIM_ID)
    stations_info_pull(operator=operator, full=True)
    _misbehaving(monkeypatch, lambda payload, answer: {**answer, "StationInfos": [], "ItemSize": 0, "PageCount": 0})

    run = stations_info_pull(operator=operator, full=True)

    assert run.status == "failed" and "没有列出任何充电站" in run.error
    assert Station.objects.filter(operator_id=SIM_ID, removed_at__isnull=True).count() == 20


def test_a_pulled_record_with_nul_is_rejected_and_the_rest_of_the_page_kept(db):
    # On PostgreSQL the RejectedRecord's payload (jsonb) refused the NUL and the page's transaction rolled back.
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    directory = Directory(SIM_ID, seed=4, count=2, start=time.time())
    good, bad = (directory.station_info(st) for st in directory.stations)
    bad["StationName"] = "坏\x00站\ud800"
    bad["X\x00"] = {"deep": [[[[["x"]]]]]}
    run = factories.SyncRunFactory(operator=Operator.objects.get(pk=SIM_ID))  # a station crawl, running
    job = StationsInfoPull(operator=Operator.objects.get(pk=SIM_ID), run=run, client=None, heartbeat=None)
    job._stored((1, job._prepare(checked_page({"StationInfos": [good, bad]}, operator_id=SIM_ID), set(), None)()))
    assert (run.created_count, run.rejected_count) == (1, 1)
    assert Station.objects.filter(station_id=good["StationID"]).exists()
    record = RejectedRecord.objects.get(run=run)
    assert record.rules == ["characters"] and "StationName" in record.reasons[0]
    assert record.payload["StationName"] == "坏\\x00站\\ud800" and "X\\x00" in record.payload


def test_stats_are_asked_concurrently_and_journalled_in_the_order_asked(platform):
    """pull_concurrency calls on the wire at once: with every answer delayed, the pull takes less time than its
    exchanges added up (they overlapped); the answers are still journalled and stored station by station."""
    sim = platform(faults="slow:0.2")
    operator = Operator.objects.get(pk=SIM_ID)
    stations_info_pull(operator=operator, full=True)
    Operator.objects.filter(pk=SIM_ID).update(pull_concurrency=5)
    operator.refresh_from_db()
    run = station_stats_pull(operator=operator, day=(datetime.now(CST) - timedelta(days=1)).date())
    assert (run.status, run.rejected_count, run.created_count, run.pages) == ("succeeded", 0, 25, 25)
    asked = Exchange.objects.filter(interface="query_station_stats", direction="out", created__gte=run.started)
    rows = list(asked.order_by("id").values_list("request", "latency_ms"))
    listed = sorted(st.sid for st in sim.directory.stations if not st.removed)
    assert [request["StationID"] for request, _ in rows] == listed  # one call each, journalled in order
    elapsed_ms = (run.finished - run.started).total_seconds() * 1000
    assert sum(latency for _, latency in rows) > 2 * elapsed_ms  # ≥ 25 × 200 ms of exchanges in far less time
    assert StationStats.objects.filter(station__operator_id=SIM_ID).count() == 25
