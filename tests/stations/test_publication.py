"""Publication to third-party platforms: query_stations_info, query_station_status and query_station_stats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.interconnect.services import operator_provision
from apps.operators.choices import OperatorKind, OperatorStatus
from apps.operators.models import Operator
from apps.protocol import Ret, format_datetime, schema
from apps.stations import choices as sc
from apps.stations.interfaces import MAX_PAGE_SIZE
from apps.stations.models import (
    Connector,
    Equipment,
    Station,
)
from tests import factories
from tests.caller import Caller, keyset

pytestmark = pytest.mark.django_db

CONSUMER_ID = "MA5CONSU1"
CPO_A = "MA59CU773"
CPO_B = "395815801"
INTERFACES = ["query_stations_info", "query_station_status", "query_station_stats"]


@pytest.fixture
def consumer(client) -> Caller:
    """A third-party platform with its own keys, logged in."""
    keys = operator_provision(operator_id=CONSUMER_ID, name="第三方平台", kind=OperatorKind.CONSUMER)
    caller = Caller(client=client, operator_id=CONSUMER_ID, keys=keyset(keys["inbound"]))
    caller.login()
    return caller


@pytest.fixture
def cpos() -> dict[str, Operator]:
    return {"a": factories.operator(CPO_A), "b": factories.operator(CPO_B)}


def _site(op: Operator, station_id: str, *, equipment: int = 1, connectors: int = 1, **overrides) -> Station:
    station = factories.station(op, station_id, **overrides)
    for e in range(equipment):
        eq = factories.equipment(station, f"{station_id}E{e}")
        for c in range(connectors):
            factories.connector(eq, f"{station_id}E{e}C{c}")
    return station


def _standard_keys_only(value: dict, struct: schema.Struct, path: str = "Data") -> None:
    """No key the standard does not define, at any depth (validate() ignores unknown keys)."""
    assert set(value) <= set(struct.by_name), f"{path}: {sorted(set(value) - set(struct.by_name))}"
    for name, item in value.items():
        spec = struct.by_name[name]
        if isinstance(spec, schema.Obj):
            _standard_keys_only(item, spec.struct, f"{path}.{name}")
        elif isinstance(spec, schema.List) and spec.struct is not None:
            for index, element in enumerate(item):
                _standard_keys_only(element, spec.struct, f"{path}.{name}[{index}]")


def _ok(answer, response_struct: schema.Struct) -> dict:
    """The answer is a success whose Data is exactly the standard response structure."""
    assert answer.ret == Ret.OK, answer.envelope.msg
    assert schema.validate(answer.data, response_struct) == []
    _standard_keys_only(answer.data, response_struct)
    return answer.data


def _ids(data: dict) -> list[tuple[str, str]]:
    return [(s["OperatorID"], s["StationID"]) for s in data["StationInfos"]]


# --- who may call ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", INTERFACES)
def test_operator_platforms_are_refused(caller, name):
    caller.login()  # the `caller` fixture is a charging operator (kind operator)
    answer = caller.call(
        name, {"StationIDs": ["S1"], "StationID": "S1", "StartTime": "2024-01-01", "EndTime": "2024-01-01"}
    )
    assert answer.ret == Ret.PARAMETERS
    assert name in answer.envelope.msg


@pytest.mark.parametrize("name", INTERFACES)
def test_a_token_is_required(consumer, name):
    consumer.token = None
    assert consumer.call(name, {}).ret == Ret.TOKEN


# --- query_stations_info --------------------------------------------------------------------------------------------


def test_stations_info_is_the_standard_structure_aggregated_over_operators(consumer, cpos):
    _site(cpos["b"], "B1")
    full = _site(
        cpos["a"],
        "A2",
        equipment=2,
        connectors=2,
        station_tel="010-12345678",
        busine_hours="00:00-24:00",
        pictures=["https://example.com/a.jpg"],
        support_order=sc.SupportOrder.YES,
    )
    Equipment.objects.filter(station=full).update(
        production_date=dt.date(2023, 5, 1), equipment_lng=Decimal("116.400000"), manufacturer_id="MA0000001"
    )
    _site(cpos["a"], "A1")
    data = _ok(consumer.call("query_stations_info", {}), schema.QUERY_STATIONS_INFO_RESPONSE)

    assert (data["PageNo"], data["PageCount"], data["ItemSize"]) == (1, 1, 3)
    assert _ids(data) == [(CPO_B, "B1"), (CPO_A, "A1"), (CPO_A, "A2")]  # (OperatorID, StationID): "3…" < "M…"
    bare, rich = data["StationInfos"][0], data["StationInfos"][2]
    assert "StationTel" not in bare and "Pictures" not in bare  # optional and empty: left out
    assert rich["StationTel"] == "010-12345678"
    assert rich["BusineHours"] == "00:00-24:00"  # the spec's spelling
    assert rich["Pictures"] == ["https://example.com/a.jpg"]
    assert rich["SupportOrder"] == 1
    assert rich["EquipmentOwnerID"] == CPO_A
    assert str(rich["StationLng"]) == "116.461286"  # Decimals travel with their exact digits
    assert [e["EquipmentID"] for e in rich["EquipmentInfos"]] == ["A2E0", "A2E1"]
    equipment = rich["EquipmentInfos"][0]
    assert equipment["ProductionDate"] == "2023-05-01"
    assert equipment["ManufacturerID"] == "MA0000001"
    assert str(equipment["Power"]) == "120.0"
    assert "EquipmentLat" not in equipment and "EquipmentName" not in equipment
    assert [c["ConnectorID"] for c in equipment["ConnectorInfos"]] == ["A2E0C0", "A2E0C1"]
    connector = equipment["ConnectorInfos"][0]
    assert connector == {
        "ConnectorID": "A2E0C0",
        "ConnectorType": 4,
        "VoltageUpperLimits": 750,
        "VoltageLowerLimits": 200,
        "Current": 250,
        "Power": Decimal("60.0"),
        "NationalStandard": 2,
    }


def test_paging(consumer, cpos):
    for i in range(25):
        _site(cpos["a"], f"S{i:02d}")
    pages = []
    for number in (1, 2, 3):
        data = _ok(
            consumer.call("query_stations_info", {"PageNo": number, "PageSize": 10}),
            schema.QUERY_STATIONS_INFO_RESPONSE,
        )
        assert (data["PageNo"], data["PageCount"], data["ItemSize"]) == (number, 3, 25)
        pages.append([s["StationID"] for s in data["StationInfos"]])
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [sid for page in pages for sid in page] == [f"S{i:02d}" for i in range(25)]  # every station once, in order

    beyond = _ok(
        consumer.call("query_stations_info", {"PageNo": 4, "PageSize": 10}), schema.QUERY_STATIONS_INFO_RESPONSE
    )
    assert (beyond["PageNo"], beyond["PageCount"], beyond["ItemSize"], beyond["StationInfos"]) == (4, 3, 25, [])


def test_paging_defaults_to_page_1_of_10(consumer, cpos):
    for i in range(11):
        _site(cpos["a"], f"S{i:02d}")
    data = _ok(consumer.call("query_stations_info", {}), schema.QUERY_STATIONS_INFO_RESPONSE)
    assert (data["PageNo"], data["PageCount"], len(data["StationInfos"])) == (1, 2, 10)


def test_empty_directory_has_no_pages(consumer):
    data = _ok(consumer.call("query_stations_info", {"PageNo": 1}), schema.QUERY_STATIONS_INFO_RESPONSE)
    assert (data["PageNo"], data["PageCount"], data["ItemSize"], data["StationInfos"]) == (1, 0, 0, [])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"PageSize": MAX_PAGE_SIZE + 1}, "PageSize"),
        ({"PageSize": 0}, "PageSize"),
        ({"PageNo": 0}, "PageNo"),
        ({"LastQueryTime": "2024-01-01T00:00:00"}, "LastQueryTime"),
    ],
)
def test_bad_paging_parameters_are_4004_naming_the_field(consumer, payload, field):
    answer = consumer.call("query_stations_info", payload)
    assert answer.ret == Ret.BUSINESS
    assert field in answer.envelope.msg


def test_the_largest_page_is_allowed(consumer, cpos):
    _site(cpos["a"], "S1")
    data = _ok(consumer.call("query_stations_info", {"PageSize": MAX_PAGE_SIZE}), schema.QUERY_STATIONS_INFO_RESPONSE)
    assert data["ItemSize"] == 1


def test_last_query_time_returns_stations_whose_station_equipment_or_connector_changed(consumer, cpos):
    for sid in ("SA", "SB", "SC", "SD"):
        _site(cpos["a"], sid)
    long_ago = timezone.now() - dt.timedelta(days=2)
    for model in (Operator, Station, Equipment, Connector):
        model.objects.update(updated=long_ago)
    since = timezone.now() - dt.timedelta(hours=1)
    Station.objects.filter(station_id="SA").update(updated=timezone.now())
    Equipment.objects.filter(station__station_id="SB").update(updated=timezone.now())
    Connector.objects.filter(station__station_id="SC").update(updated=timezone.now())

    data = _ok(
        consumer.call("query_stations_info", {"LastQueryTime": format_datetime(since)}),
        schema.QUERY_STATIONS_INFO_RESPONSE,
    )
    assert [s["StationID"] for s in data["StationInfos"]] == ["SA", "SB", "SC"]  # SD is unchanged
    assert data["ItemSize"] == 3
    # A changed station is sent whole: all its equipment and connectors, changed or not.
    assert data["StationInfos"][1]["EquipmentInfos"][0]["ConnectorInfos"][0]["ConnectorID"] == "SBE0C0"

    everything = _ok(consumer.call("query_stations_info", {"LastQueryTime": ""}), schema.QUERY_STATIONS_INFO_RESPONSE)
    assert everything["ItemSize"] == 4  # empty LastQueryTime: full load


def test_last_query_time_is_beijing_time(consumer, cpos):
    _site(cpos["a"], "S1")
    changed = timezone.now() - dt.timedelta(minutes=30)
    for model in (Operator, Station, Equipment, Connector):
        model.objects.update(updated=changed)
    before = format_datetime(changed - dt.timedelta(minutes=1))
    after = format_datetime(changed + dt.timedelta(minutes=1))
    assert consumer.call("query_stations_info", {"LastQueryTime": before}).data["ItemSize"] == 1
    assert consumer.call("query_stations_info", {"LastQueryTime": after}).data["ItemSize"] == 0


def test_an_operator_back_in_service_republishes_its_stations_to_increments(consumer, cpos):
    _site(cpos["a"], "BACK")
    _site(cpos["b"], "STILL")
    long_ago = timezone.now() - dt.timedelta(days=2)
    Operator.objects.filter(pk=CPO_A).update(status=OperatorStatus.SUSPENDED)
    for model in (Operator, Station, Equipment, Connector):
        model.objects.update(updated=long_ago)
    since = format_datetime(timezone.now() - dt.timedelta(hours=1))
    assert consumer.call("query_stations_info", {"LastQueryTime": since}).data["ItemSize"] == 0

    operator = Operator.objects.get(pk=CPO_A)
    operator.status = OperatorStatus.ACTIVE
    operator.save()  # as the admin saves it: `updated` moves

    data = _ok(consumer.call("query_stations_info", {"LastQueryTime": since}), schema.QUERY_STATIONS_INFO_RESPONSE)
    assert _ids(data) == [(CPO_A, "BACK")]


def test_removed_stations_and_unpublished_operators_are_left_out(consumer, cpos):
    _site(cpos["a"], "KEPT")
    _site(cpos["a"], "GONE", removed_at=timezone.now())
    for status in (OperatorStatus.SUSPENDED, OperatorStatus.TESTING, OperatorStatus.APPLIED):
        op = factories.operator(f"MA5{status.upper()[:6]:0<6}", status=status)
        _site(op, f"X{status[:4]}")
    data = _ok(consumer.call("query_stations_info", {}), schema.QUERY_STATIONS_INFO_RESPONSE)
    assert _ids(data) == [(CPO_A, "KEPT")]
    assert data["ItemSize"] == 1

    Operator.objects.filter(pk=CPO_A).update(status=OperatorStatus.SUSPENDED)
    assert consumer.call("query_stations_info", {}).data["ItemSize"] == 0


def test_query_count_does_not_grow_with_the_page(consumer, cpos):
    def queries(size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            data = _ok(consumer.call("query_stations_info", {"PageSize": size}), schema.QUERY_STATIONS_INFO_RESPONSE)
        assert len(data["StationInfos"]) == size
        return len(ctx.captured_queries)

    for i in range(40):
        _site(cpos["a" if i % 2 else "b"], f"S{i:02d}", equipment=2, connectors=2)
    small, large = queries(2), queries(40)
    assert small == large


def test_a_full_page_is_answered_in_few_queries(consumer, cpos, django_assert_max_num_queries):
    for i in range(MAX_PAGE_SIZE):
        _site(cpos["a"], f"S{i:03d}", equipment=2, connectors=2)
    # 12 today: keys, token, replay mark, journal (pipeline), then count + stations + equipment + connectors.
    with django_assert_max_num_queries(15):
        data = _ok(
            consumer.call("query_stations_info", {"PageSize": MAX_PAGE_SIZE}), schema.QUERY_STATIONS_INFO_RESPONSE
        )
    assert len(data["StationInfos"]) == MAX_PAGE_SIZE
    assert sum(len(e["ConnectorInfos"]) for s in data["StationInfos"] for e in s["EquipmentInfos"]) == 4 * MAX_PAGE_SIZE


# --- query_station_status -------------------------------------------------------------------------------------------


def _status(connector_id: str, status: int, **extra) -> None:
    factories.ConnectorStatusFactory(
        connector=Connector.objects.get(connector_id=connector_id), status=status, status_time=timezone.now(), **extra
    )


def test_equipment_and_connectors_the_operator_stopped_listing_are_not_published(consumer, cpos):
    _site(cpos["a"], "S1", equipment=2, connectors=2)
    Equipment.objects.filter(equipment_id="S1E1").update(removed_at=timezone.now())
    Connector.objects.filter(connector_id__in=["S1E1C0", "S1E1C1", "S1E0C1"]).update(removed_at=timezone.now())
    data = _ok(consumer.call("query_stations_info", {}), schema.QUERY_STATIONS_INFO_RESPONSE)
    equipment = data["StationInfos"][0]["EquipmentInfos"]
    assert [(e["EquipmentID"], [c["ConnectorID"] for c in e["ConnectorInfos"]]) for e in equipment] == [
        ("S1E0", ["S1E0C0"])
    ]
    status = _ok(consumer.call("query_station_status", {"StationIDs": ["S1"]}), schema.QUERY_STATION_STATUS_RESPONSE)
    assert [c["ConnectorID"] for c in status["StationStatusInfos"][0]["ConnectorStatusInfos"]] == ["S1E0C0"]


def test_station_status_answers_current_statuses(consumer, cpos):
    _site(cpos["a"], "S1", equipment=1, connectors=3)
    _site(cpos["a"], "S2")
    _status(
        "S1E0C0", sc.ConnectorStatus.CHARGING, park_status=sc.ParkStatus.OCCUPIED, lock_status=sc.LockStatus.UNLOCKED
    )
    _status("S1E0C1", sc.ConnectorStatus.IDLE)
    _status("S2E0C0", sc.ConnectorStatus.FAULT)
    data = _ok(
        consumer.call("query_station_status", {"StationIDs": ["S2", "S1", "NOPE", "S2"]}),
        schema.QUERY_STATION_STATUS_RESPONSE,
    )
    assert data["Total"] == 2  # the unknown ID is left out, the repeated one answered once
    assert [s["StationID"] for s in data["StationStatusInfos"]] == ["S2", "S1"]  # the request's order
    assert data["StationStatusInfos"][0]["ConnectorStatusInfos"] == [{"ConnectorID": "S2E0C0", "Status": 255}]
    assert data["StationStatusInfos"][1]["ConnectorStatusInfos"] == [
        {"ConnectorID": "S1E0C0", "Status": 3, "ParkStatus": 50, "LockStatus": 10},
        {"ConnectorID": "S1E0C1", "Status": 1},
        {"ConnectorID": "S1E0C2", "Status": 0},  # no status known yet: 离网
    ]


def test_station_status_leaves_out_unpublished_stations(consumer, cpos):
    _site(cpos["a"], "KEPT")
    _site(cpos["a"], "GONE", removed_at=timezone.now())
    _site(factories.operator("MA5SUSPEN", status=OperatorStatus.SUSPENDED), "HIDDEN")
    data = _ok(
        consumer.call("query_station_status", {"StationIDs": ["KEPT", "GONE", "HIDDEN"]}),
        schema.QUERY_STATION_STATUS_RESPONSE,
    )
    assert [s["StationID"] for s in data["StationStatusInfos"]] == ["KEPT"]


def test_a_station_id_shared_by_two_operators_gets_both_entries(consumer, cpos):
    _site(cpos["a"], "SHARED", connectors=2)
    _site(cpos["b"], "SHARED")
    data = _ok(consumer.call("query_station_status", {"StationIDs": ["SHARED"]}), schema.QUERY_STATION_STATUS_RESPONSE)
    assert data["Total"] == 2
    connectors = [[c["ConnectorID"] for c in s["ConnectorStatusInfos"]] for s in data["StationStatusInfos"]]
    assert connectors == [["SHAREDE0C0"], ["SHAREDE0C0", "SHAREDE0C1"]]  # operator 395815801, then MA59CU773


def test_more_than_50_station_ids_is_4004(consumer, cpos):
    answer = consumer.call("query_station_status", {"StationIDs": [f"S{i}" for i in range(51)]})
    assert answer.ret == Ret.BUSINESS
    assert "StationIDs" in answer.envelope.msg
    assert consumer.call("query_station_status", {"StationIDs": [f"S{i}" for i in range(50)]}).ret == Ret.OK


# --- query_station_stats --------------------------------------------------------------------------------------------


def _stats(station: Station, start: str, end: str, station_kwh: str, breakdown: dict[str, dict[str, str | None]]):
    row = factories.StationStatsFactory(
        station=station,
        start_time=dt.date.fromisoformat(start),
        end_time=dt.date.fromisoformat(end),
        station_electricity=Decimal(station_kwh),
    )
    for equipment_id, connectors in breakdown.items():
        es = factories.EquipmentStatsFactory(
            station_stats=row,
            equipment=Equipment.objects.get(operator=station.operator, equipment_id=equipment_id),
            equipment_electricity=sum((Decimal(v) for v in connectors.values() if v), Decimal("0.0")),
        )
        for connector_id, kwh in connectors.items():
            factories.ConnectorStatsFactory(
                equipment_stats=es,
                connector=Connector.objects.get(operator=station.operator, connector_id=connector_id),
                connector_electricity=Decimal(kwh) if kwh is not None else None,
            )


def _ask_stats(consumer: Caller, start: str, end: str, station_id: str = "S1", **extra):
    return consumer.call("query_station_stats", {"StationID": station_id, "StartTime": start, "EndTime": end, **extra})


def test_station_stats_sums_the_stored_days_exactly(consumer, cpos):
    station = _site(cpos["a"], "S1", equipment=2, connectors=2)
    _stats(station, "2024-03-01", "2024-03-01", "0.3", {"S1E0": {"S1E0C0": "0.1", "S1E0C1": "0.2"}})
    _stats(
        station,
        "2024-03-02",
        "2024-03-02",
        "10.6",
        {"S1E0": {"S1E0C0": "0.2", "S1E0C1": None}, "S1E1": {"S1E1C0": "10.4"}},
    )
    _stats(station, "2024-03-03", "2024-03-03", "99.9", {"S1E1": {"S1E1C0": "99.9"}})  # outside the range
    _stats(station, "2024-02-29", "2024-03-01", "55.5", {})  # only partly inside: cannot be split, not counted

    data = _ok(_ask_stats(consumer, "2024-03-01", "2024-03-02"), schema.QUERY_STATION_STATS_RESPONSE)
    stats = data["StationStats"]
    assert (stats["StationID"], stats["StartTime"], stats["EndTime"]) == ("S1", "2024-03-01", "2024-03-02")
    assert stats["StationElectricity"] == Decimal("10.9")
    assert str(stats["StationElectricity"]) == "10.9"  # 0.3 + 10.6 exactly, not 10.899999…
    assert stats["EquipmentStatsInfos"] == [
        {
            "EquipmentID": "S1E0",
            "EquipmentElectricity": Decimal("0.5"),
            "ConnectorStatsInfos": [
                {"ConnectorID": "S1E0C0", "ConnectorElectricity": Decimal("0.3")},
                {"ConnectorID": "S1E0C1"},  # one day had no figure: a partial sum would understate it
            ],
        },
        {
            "EquipmentID": "S1E1",
            "EquipmentElectricity": Decimal("10.4"),
            "ConnectorStatsInfos": [{"ConnectorID": "S1E1C0", "ConnectorElectricity": Decimal("10.4")}],
        },
    ]


def test_station_stats_does_not_count_a_day_twice(consumer, cpos):
    station = _site(cpos["a"], "S1")
    _stats(station, "2024-03-01", "2024-03-01", "1.0", {"S1E0": {"S1E0C0": "1.0"}})
    _stats(station, "2024-03-02", "2024-03-02", "2.0", {"S1E0": {"S1E0C0": "2.0"}})
    _stats(station, "2024-03-01", "2024-03-02", "3.1", {"S1E0": {"S1E0C0": "3.1"}})  # same days, imported as one
    stats = _ok(_ask_stats(consumer, "2024-03-01", "2024-03-31"), schema.QUERY_STATION_STATS_RESPONSE)["StationStats"]
    assert stats["StationElectricity"] == Decimal("3.0")
    assert stats["EquipmentStatsInfos"][0]["EquipmentElectricity"] == Decimal("3.0")


def test_station_stats_without_stored_days_is_zero(consumer, cpos):
    _site(cpos["a"], "S1")
    stats = _ok(_ask_stats(consumer, "2024-03-01", "2024-03-01"), schema.QUERY_STATION_STATS_RESPONSE)["StationStats"]
    assert str(stats["StationElectricity"]) == "0.0"
    assert stats["EquipmentStatsInfos"] == []


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2024-03-02", "2024-03-01", "EndTime"),  # ends before it starts
        ("2023-01-01", "2024-01-02", "EndTime"),  # 367 days
        ("2024-02-30", "2024-03-01", "StartTime"),
        ("2024/03/01", "2024-03-01", "StartTime"),
    ],
)
def test_station_stats_dates_are_checked(consumer, cpos, start, end, field):
    _site(cpos["a"], "S1")
    answer = _ask_stats(consumer, start, end)
    assert answer.ret == Ret.BUSINESS
    assert field in answer.envelope.msg


def test_station_stats_allows_a_leap_year(consumer, cpos):
    _site(cpos["a"], "S1")
    assert _ask_stats(consumer, "2024-01-01", "2024-12-31").ret == Ret.OK  # 366 days


def test_station_stats_of_unknown_or_unpublished_stations_is_4004(consumer, cpos):
    _site(cpos["a"], "GONE", removed_at=timezone.now())
    _site(factories.operator("MA5SUSPEN", status=OperatorStatus.SUSPENDED), "HIDDEN")
    for station_id in ("NOPE", "GONE", "HIDDEN"):
        answer = _ask_stats(consumer, "2024-03-01", "2024-03-01", station_id)
        assert answer.ret == Ret.BUSINESS
        assert "StationID" in answer.envelope.msg and station_id in answer.envelope.msg


def test_station_stats_of_a_shared_station_id_needs_the_operator(consumer, cpos):
    _site(cpos["a"], "S1")
    station_b = _site(cpos["b"], "S1")
    _stats(station_b, "2024-03-01", "2024-03-01", "7.5", {"S1E0": {"S1E0C0": "7.5"}})
    ambiguous = _ask_stats(consumer, "2024-03-01", "2024-03-01")
    assert ambiguous.ret == Ret.BUSINESS
    assert (
        CPO_A in ambiguous.envelope.msg and CPO_B in ambiguous.envelope.msg and "OperatorID" in ambiguous.envelope.msg
    )

    data = _ok(_ask_stats(consumer, "2024-03-01", "2024-03-01", OperatorID=CPO_B), schema.QUERY_STATION_STATS_RESPONSE)
    assert data["StationStats"]["StationElectricity"] == Decimal("7.5")
    assert _ask_stats(consumer, "2024-03-01", "2024-03-01", OperatorID="bad").ret == Ret.BUSINESS
