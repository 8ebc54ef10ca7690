"""What each endpoint returns: wire names, current status, nesting, pagination, and a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.stations import choices as sc
from apps.stations.models import Station
from tests import factories
from tests.api.conftest import ENDPOINTS, A, B, at, stats

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_list_and_detail(as_regulator, city, endpoint):
    listing = as_regulator.get(f"/api/{endpoint}/")
    assert listing.status_code == 200
    first = listing.json()["results"][0]
    detail = as_regulator.get(f"/api/{endpoint}/{first.get('id', first['OperatorID'])}/")
    assert detail.status_code == 200
    body = detail.json()
    # A detail may add nested lists (a station's EquipmentInfos), never change what the list said.
    assert {key: body[key] for key in first} == first


def test_unknown_detail_is_404(as_regulator, city):
    assert as_regulator.get("/api/stations/999999/").status_code == 404
    assert as_regulator.get("/api/operators/ZZZZZZZZZ/").status_code == 404


def test_station_in_wire_names_with_labels_and_numbers(as_regulator, city):
    row = as_regulator.get("/api/stations/", {"area_code": "110108"}).json()["results"][0]
    assert row["StationID"] == "HD-DEPOT"
    assert row["OperatorID"] == A
    assert row["EquipmentOwnerID"] == A
    assert row["AreaCode"] == "110108"
    assert row["BusineHours"] == "00:00-24:00"
    assert row["StationLng"] == pytest.approx(116.461286) and isinstance(row["StationLng"], float)
    assert row["StationType"] == 100 and row["StationTypeLabel"] == "公交（专用）"
    assert row["StationStatus"] == 6 and row["StationStatusLabel"] == "维护中"
    assert row["RemovedAt"] == "2024-01-20T12:00:00+08:00"
    assert not any("_" in key for key in row)


def test_connectors_carry_their_current_status_or_null(as_regulator, city):
    rows = {row["ConnectorID"]: row for row in as_regulator.get("/api/connectors/").json()["results"]}
    ac = rows["CN-AC"]
    assert (ac["OperatorID"], ac["StationID"], ac["EquipmentID"]) == (A, "HD-DEPOT", "EQ-AC")
    assert ac["Power"] == 7.0
    assert ac["Status"] == 3 and ac["StatusLabel"] == "占用（充电中）"
    assert ac["ParkStatus"] == 50 and ac["ParkStatusLabel"] == "占用"
    assert ac["LockStatus"] == 10 and ac["LockStatusLabel"] == "已解锁"
    assert ac["StatusTime"] == "2024-01-02T12:00:00+08:00"
    silent = rows[f"CN{B}"]
    for key in ("Status", "StatusLabel", "ParkStatus", "LockStatus", "StatusTime"):
        assert silent[key] is None


def test_station_stats_nest_equipment_and_connectors(as_regulator, city):
    rows = as_regulator.get("/api/station-stats/", {"station": f"ST{B}"}).json()["results"]
    assert rows == [
        {
            "id": rows[0]["id"],
            "OperatorID": B,
            "StationID": f"ST{B}",
            "StartTime": "2024-01-15",
            "EndTime": "2024-01-15",
            "StationElectricity": 30.0,
            "EquipmentStatsInfos": [
                {
                    "EquipmentID": f"EQ{B}",
                    "EquipmentElectricity": 30.0,
                    "ConnectorStatsInfos": [{"ConnectorID": f"CN{B}", "ConnectorElectricity": 30.0}],
                }
            ],
        }
    ]


def test_status_history_newest_first(as_regulator, city):
    rows = as_regulator.get("/api/status-history/", {"connector": f"CN{A}"}).json()["results"]
    assert [(r["Status"], r["StatusTime"], r["Source"]) for r in rows] == [
        (3, "2024-01-02T12:00:00+08:00", "push"),
        (1, "2024-01-01T12:00:00+08:00", "push"),
    ]


def test_pagination(as_regulator, directory):
    for n in range(5):
        factories.station(directory["a"], f"P{n}")
    first = as_regulator.get("/api/stations/", {"page_size": 3}).json()
    assert first["count"] == 7
    assert len(first["results"]) == 3
    assert first["previous"] is None and "page=2" in first["next"]
    last = as_regulator.get("/api/stations/", {"page_size": 3, "page": 3}).json()
    assert len(last["results"]) == 1 and last["next"] is None
    seen = [
        r["StationID"]
        for p in (1, 2, 3)
        for r in as_regulator.get(f"/api/stations/?page_size=3&page={p}").json()["results"]
    ]
    assert len(set(seen)) == 7
    assert as_regulator.get("/api/stations/", {"page": 99}).status_code == 404


def test_default_page_is_fifty(as_regulator, directory):
    Station.objects.bulk_create(factories.StationFactory.build_batch(55, operator=directory["a"]))
    body = as_regulator.get("/api/stations/").json()
    assert body["count"] == 57 and len(body["results"]) == 50


def grow(directory, copies: int) -> None:
    """Add `copies` more of everything for operator A, each with status, history, stats and pull records."""
    a = directory["a"]
    for n in range(copies):
        station = factories.station(a, f"G{n}")
        equipment = factories.equipment(station, f"GE{n}")
        for k in range(2):
            conn = factories.connector(equipment, f"GC{n}-{k}")
            factories.ConnectorStatusFactory(connector=conn, park_status=10, status_time=at(1))
            factories.ConnectorStatusHistoryFactory(connector=conn, status_time=at(1))
        stats(station, at(1).date(), "1.0")
        factories.DirectoryChangeFactory(operator=a, station_id=station.station_id)
        factories.RejectedRecordFactory(operator=a, record_key=f"R{n}")  # with its run


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["regulator", "manager_a"])
def test_queries_do_not_grow_with_rows(api, city, who, request, django_assert_max_num_queries):
    api.force_login(request.getfixturevalue(who))
    urls = [f"/api/{endpoint}/" for endpoint in ENDPOINTS]
    urls.append(f"/api/stations/{city['depot'].pk}/")
    before = {url: count_queries(api, url) for url in urls}
    grow(city, 4)
    after = {url: count_queries(api, url) for url in urls}
    assert after == before
    for url in urls:
        # Session, user, the user's and the groups' permissions (the rule's `may`), groups, operator account, count,
        # page, and at most two prefetches.
        with django_assert_max_num_queries(10):
            api.get(url)


def test_the_list_view_is_also_constant_for_token_callers(api, city, regulator):
    from rest_framework.authtoken.models import Token

    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=regulator).key}")
    before = count_queries(api, "/api/connectors/?status=1")
    grow(city, 3)
    assert count_queries(api, "/api/connectors/?status=1") == before
    assert api.get("/api/connectors/", {"status": sc.ConnectorStatus.IDLE}).json()["count"] == 1 + 3 * 2
