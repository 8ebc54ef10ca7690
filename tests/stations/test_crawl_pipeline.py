"""The crawl's pipeline: page N written on a second connection while page N + 1 is read and diffed, and still exact."""

from __future__ import annotations

import copy
import json
import threading
import time

import pytest
from django.db import connection

from apps.operators.models import Operator
from apps.simulator import handlers as sim_handlers
from apps.stations import pulls
from apps.stations.models import Connector, DirectoryChange, Equipment, Station
from apps.stations.pulls import stations_info_pull
from tests.simulator.support import SIM_ID

pytestmark = pytest.mark.django_db(transaction=True)

SLOW_WRITE = 0.4  # seconds each page's write waits before it starts: page N + 1 is read meanwhile, if pipelined


def _serve(monkeypatch, pages):
    """The platform's query_stations_info answers these pages (lists of StationInfos), whatever it was asked."""

    def handler(sim, envelope, payload):
        infos = pages[payload["PageNo"] - 1]
        answer = {"PageNo": payload["PageNo"], "PageCount": len(pages), "ItemSize": sum(map(len, pages))}
        return json.dumps(answer | {"StationInfos": infos}, ensure_ascii=False)

    monkeypatch.setitem(sim_handlers.INTERFACES, "query_stations_info", handler)


def _backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.fixture
def spans(monkeypatch):
    """Each page's plan and write as it ran: (what, first StationID, backend pid, start, end, result), in order;
    every write starts SLOW_WRITE late."""
    seen: list[tuple] = []
    lock = threading.Lock()
    plan, write = pulls.station_infos_plan, pulls.station_infos_write

    def timed(what, real, first, *args, **kwargs):
        began = time.monotonic()
        if what == "write":
            time.sleep(SLOW_WRITE)
        result = real(*args, **kwargs)
        with lock:
            seen.append((what, first, _backend_pid(), began, time.monotonic(), result))
        return result

    monkeypatch.setattr(
        pulls, "station_infos_plan", lambda **kw: timed("plan", plan, kw["infos"][0]["StationID"], **kw)
    )
    monkeypatch.setattr(
        pulls, "station_infos_write", lambda p: timed("write", write, p.changes[0][2] if p.changes else "", p)
    )
    return seen


def _crawled(platform, spans):
    """A platform crawled once (full); its StationInfos as the portal has them; spans from here on."""
    sim = platform()
    operator = Operator.objects.get(pk=SIM_ID)
    assert stations_info_pull(operator=operator, full=True).status == "succeeded"
    spans.clear()
    return operator, [sim.directory.station_info(st) for st in sim.directory.stations]


def test_the_next_page_is_read_while_the_page_before_is_written_on_another_connection(platform, monkeypatch, spans):
    operator, infos = _crawled(platform, spans)
    first, second = copy.deepcopy(infos[0]), copy.deepcopy(infos[1])
    first["StationName"], second["StationName"] = "甲站", "乙站"
    _serve(monkeypatch, [[first], [second]])

    run = stations_info_pull(operator=operator)

    assert (run.status, run.pages, run.updated_count) == ("succeeded", 2, 2)
    plans = [s for s in spans if s[0] == "plan"]
    writes = [s for s in spans if s[0] == "write"]
    assert [p[1] for p in plans] == [first["StationID"], second["StationID"]]
    assert {w[2] for w in writes} != {p[2] for p in plans}  # the writes ran on a connection of their own
    # Page 2 was read and diffed before page 1's write (SLOW_WRITE long) had finished: one after the other, it
    # would have started after it.
    assert plans[1][4] < writes[0][4] and writes[0][3] < plans[1][4]
    assert Station.objects.get(station_id=second["StationID"]).station_name == "乙站"


def test_a_station_listed_on_two_consecutive_pages_waits_for_the_page_that_holds_it(platform, monkeypatch, spans):
    operator, infos = _crawled(platform, spans)
    once, twice, other = copy.deepcopy(infos[0]), copy.deepcopy(infos[0]), infos[1]
    old_name = once["StationName"]
    once["StationName"], twice["StationName"] = "甲站", "乙站"
    _serve(monkeypatch, [[once], [twice, other]])

    run = stations_info_pull(operator=operator)

    assert (run.status, run.updated_count, run.unchanged_count, run.created_count) == ("succeeded", 2, 1, 0)
    writes = [s for s in spans if s[0] == "write"]
    plans = [s for s in spans if s[0] == "plan"]
    assert plans[1][3] >= writes[0][4]  # page 2 was read after page 1's write had finished
    diffs = list(
        DirectoryChange.objects.filter(run=run, object_id=once["StationID"])
        .order_by("id")
        .values_list("changes", flat=True)
    )
    assert [d["station_name"] for d in diffs] == [[old_name, "甲站"], ["甲站", "乙站"]]
    assert Station.objects.get(station_id=once["StationID"]).station_name == "乙站"


def test_a_pile_moved_on_the_page_before_is_not_removed_by_the_next_read_before_that_write(
    platform, monkeypatch, spans
):
    operator, infos = _crawled(platform, spans)
    source = copy.deepcopy(next(i for i in infos if len(i["EquipmentInfos"]) >= 2))  # keeps a pile of its own
    target = copy.deepcopy(next(i for i in infos if i["StationID"] != source["StationID"]))
    pile = source["EquipmentInfos"].pop()
    target["EquipmentInfos"].append(pile)
    _serve(monkeypatch, [[target], [source]])

    run = stations_info_pull(operator=operator)

    assert run.status == "succeeded", run.error
    # Page 2 was read while the pile was still at its old station: it looked gone there...
    second = [s for s in spans if s[0] == "plan"][1][5]
    gone = [key for _, rows in second.gone for _, key, _, _ in rows]
    assert pile["EquipmentID"] in gone
    # ...but page 1 had moved it by the time page 2 was written, so it is kept, at its new station.
    equipment = Equipment.objects.get(operator_id=SIM_ID, equipment_id=pile["EquipmentID"])
    assert (equipment.station.station_id, equipment.removed_at) == (target["StationID"], None)
    for c in pile["ConnectorInfos"]:
        connector = Connector.objects.get(operator_id=SIM_ID, connector_id=c["ConnectorID"])
        assert (connector.station.station_id, connector.removed_at) == (target["StationID"], None)
    changes = DirectoryChange.objects.filter(run=run, object_id=pile["EquipmentID"]).values_list("action", flat=True)
    assert list(changes) == ["updated"]
    # As when the pages were written one after the other: the move is the target's change; the source is unchanged.
    assert (run.updated_count, run.unchanged_count) == (1, 1)


def test_a_failed_write_fails_the_run_and_keeps_the_pages_before(platform, monkeypatch):
    sim = platform(stations=250)  # three pages of 100
    write = pulls.station_infos_write
    calls = []

    def failing(plan):
        calls.append(plan)
        if len(calls) == 2:
            raise RuntimeError("写入失败")
        return write(plan)

    monkeypatch.setattr(pulls, "station_infos_write", failing)

    run = stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True)

    assert run.status == "failed" and "写入失败" in run.error
    assert (run.pages, run.created_count, run.removed_count) == (1, 100, 0)
    assert len(calls) == 2  # page 3 was not written
    assert Station.objects.filter(operator_id=SIM_ID).count() == 100 < len(sim.directory.stations)
