"""Rules of the Data validator: one failing example per rule code, every enum, scales, types and the helpers."""

from __future__ import annotations

import copy
from decimal import Decimal
from enum import IntEnum
from typing import Any

import pytest

from apps.protocol.errors import BusinessError, Ret
from apps.protocol.schema import (
    CHARGE_DETAIL,
    CHARGE_ORDER,
    CHECK_CHARGE_ORDERS_REQUEST,
    CHECK_CHARGE_ORDERS_RESPONSE,
    CONNECTOR_INFO,
    CONNECTOR_STATUS_INFO,
    DISPUTE_ORDER,
    EQUIP_CHARGE_STATUS,
    EQUIPMENT_INFO,
    INTERFACES,
    NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_REQUEST,
    NOTIFICATION_CHARGE_ORDER_INFO_REQUEST,
    NOTIFICATION_STATION_STATUS_REQUEST,
    OPERATOR_INFO,
    POLICY_INFO,
    QUERY_EQUIP_BUSINESS_POLICY_RESPONSE,
    QUERY_STATION_STATS_REQUEST,
    QUERY_STATION_STATUS_REQUEST,
    QUERY_STATIONS_INFO_RESPONSE,
    QUERY_TOKEN_RESPONSE,
    STATION_INFO,
    STATION_STATS_INFO,
    Int,
    Problem,
    Str,
    Struct,
    check,
    consistency_problems,
    status_infos,
    validate,
    validate_status_notification,
)

from .test_schema_examples import EXAMPLES, SEQ, charge_order, example, station, status_info

D = Decimal


def found(payload: Any, struct: Struct) -> set[tuple[str, str]]:
    return {(p.path, p.rule) for p in validate(payload, struct)}


def only(payload: Any, struct: Struct) -> Problem:
    problems = validate(payload, struct)
    assert len(problems) == 1, problems
    return problems[0]


def stations_response(**station_changes: Any) -> dict[str, Any]:
    payload = example("query_stations_info", 1)
    payload["StationInfos"] = [station(2, 2) for _ in range(4)]
    payload["StationInfos"][3] |= station_changes
    return payload


# --------------------------------------------------------------------------------------------------------------------
# One failing example per rule code: exact path, exact rule, message naming the wire name (and label)
# --------------------------------------------------------------------------------------------------------------------


def test_message_wording_of_the_brief() -> None:
    payload = station(1, 1)
    payload["StationName"] = "站" * 61
    problem = only(payload, STATION_INFO)
    assert problem == Problem("StationName", "max_len", "StationName（充电站名称）长度不能超过50，实际为61")
    assert str(problem) == problem.message


def test_required_missing_nested() -> None:
    payload = stations_response()
    del payload["StationInfos"][3]["EquipmentInfos"][1]["ConnectorInfos"][0]["NationalStandard"]
    problem = only(payload, QUERY_STATIONS_INFO_RESPONSE)
    assert problem.path == "StationInfos[3].EquipmentInfos[1].ConnectorInfos[0].NationalStandard"
    assert problem.rule == "required"
    assert "NationalStandard" in problem.message and "国家标准" in problem.message


def test_required_null_and_blank() -> None:
    payload = station(1, 1)
    payload["StationID"] = ""
    payload["ServiceTel"] = None
    assert found(payload, STATION_INFO) == {("StationID", "required"), ("ServiceTel", "required")}


def test_required_list_item_null() -> None:
    problem = only({"StationIDs": ["A", None]}, QUERY_STATION_STATUS_REQUEST)
    assert (problem.path, problem.rule) == ("StationIDs[1]", "required")


def test_type_nested_power_as_string() -> None:
    payload = stations_response()
    payload["StationInfos"][3]["EquipmentInfos"][0]["Power"] = "7.2"
    problem = only(payload, QUERY_STATIONS_INFO_RESPONSE)
    assert (problem.path, problem.rule) == ("StationInfos[3].EquipmentInfos[0].Power", "type")
    assert "Power（充电设备总功率）" in problem.message and "字符串" in problem.message


def test_min_len() -> None:
    struct = Struct("T", "测试", [Str("Code", "编码", min_len=3)])
    problem = only({"Code": "ab"}, struct)
    assert (problem.path, problem.rule) == ("Code", "min_len")
    assert "Code（编码）" in problem.message
    assert validate({"Code": "abc"}, struct) == []


@pytest.mark.parametrize(
    ("interface", "field", "value"),
    [
        ("query_start_charge", "StartChargeSeq", SEQ + "1"),
        ("query_start_charge", "StartChargeSeq", SEQ[:-1]),
        ("query_equip_auth", "EquipAuthSeq", SEQ[:20]),
        ("query_equip_business_policy", "EquipBizSeq", SEQ + "00"),
        ("check_charge_orders", "CheckOrderSeq", SEQ[:26]),
        ("query_token", "OperatorID", "MA01H3BQ"),
    ],
)
def test_fixed_len_serials_and_operator_id(interface: str, field: str, value: str) -> None:
    payload = example(interface)
    payload[field] = value
    problem = only(payload, INTERFACES[interface][0])
    assert (problem.path, problem.rule) == (field, "fixed_len")
    assert field in problem.message


def test_fixed_len_country_code() -> None:
    payload = station(1, 1)
    payload["CountryCode"] = "CHN"
    assert found(payload, STATION_INFO) == {("CountryCode", "fixed_len")}


def test_enum() -> None:
    payload = stations_response(StationType=2)
    problem = only(payload, QUERY_STATIONS_INFO_RESPONSE)
    assert (problem.path, problem.rule) == ("StationInfos[3].StationType", "enum")
    assert "StationType（站点类型）取值2不在允许范围内" in problem.message


def test_scale() -> None:
    payload = stations_response()
    payload["StationInfos"][3]["EquipmentInfos"][0]["Power"] = D("7.25")
    problem = only(payload, QUERY_STATIONS_INFO_RESPONSE)
    assert (problem.path, problem.rule) == ("StationInfos[3].EquipmentInfos[0].Power", "scale")
    assert "Power" in problem.message and "1位" in problem.message


@pytest.mark.parametrize(
    ("field", "value"),
    [("StationLng", D("180.000001")), ("StationLng", -181), ("StationLat", D("90.5")), ("StationLat", D("-90.000001"))],
)
def test_range_coordinates(field: str, value: Decimal) -> None:
    payload = station(1, 1)
    payload[field] = value
    problem = only(payload, STATION_INFO)
    assert (problem.path, problem.rule) == (field, "range")
    assert field in problem.message


def test_range_boundaries_accepted() -> None:
    payload = station(1, 1) | {"StationLng": D("-180.000000"), "StationLat": 90}
    payload["EquipmentInfos"][0] |= {"EquipmentLng": 180, "EquipmentLat": D("-90")}
    assert validate(payload, STATION_INFO) == []


@pytest.mark.parametrize(
    ("struct", "payload_of", "path"),
    [
        (EQUIP_CHARGE_STATUS, lambda p: p | {"Soc": D("100.5")}, "Soc"),
        (EQUIP_CHARGE_STATUS, lambda p: p | {"TotalPower": D("-0.01")}, "TotalPower"),
        (QUERY_EQUIP_BUSINESS_POLICY_RESPONSE, lambda p: p | {"SumPeriod": 33}, "SumPeriod"),
        (CONNECTOR_INFO, lambda p: p | {"Current": -1}, "Current"),
    ],
)
def test_range_other_fields(struct: Struct, payload_of: Any, path: str) -> None:
    base = {
        EQUIP_CHARGE_STATUS: lambda: example("notification_equip_charge_status"),
        QUERY_EQUIP_BUSINESS_POLICY_RESPONSE: lambda: example("query_equip_business_policy", 1),
        CONNECTOR_INFO: lambda: station(1, 1)["EquipmentInfos"][0]["ConnectorInfos"][0],
    }[struct]()
    assert (path, "range") in found(payload_of(base), struct)


@pytest.mark.parametrize(
    ("struct", "make", "path"),
    [
        (
            EQUIPMENT_INFO,
            lambda: station(1, 1)["EquipmentInfos"][0] | {"ProductionDate": "2023/05/01"},
            "ProductionDate",
        ),
        (
            EQUIPMENT_INFO,
            lambda: station(1, 1)["EquipmentInfos"][0] | {"ProductionDate": "2023-02-30"},
            "ProductionDate",
        ),
        (STATION_INFO, lambda: station(1, 1) | {"OperatorID": "MA01H3BQ-"}, "OperatorID"),
        (STATION_INFO, lambda: station(1, 1) | {"EquipmentOwnerID": "MA01H3BQ２"}, "EquipmentOwnerID"),
        (
            NOTIFICATION_CHARGE_ORDER_INFO_REQUEST,
            lambda: charge_order() | {"StartTime": "2024-5-14 8:30:59"},
            "StartTime",
        ),
        (
            NOTIFICATION_CHARGE_ORDER_INFO_REQUEST,
            lambda: charge_order() | {"EndTime": "2024-05-14T10:30:00"},
            "EndTime",
        ),
        (
            NOTIFICATION_CHARGE_ORDER_INFO_REQUEST,
            lambda: charge_order() | {"StartChargeSeq": "MA01H3BQ2-02405140830591234"},
            "StartChargeSeq",
        ),
        (POLICY_INFO, lambda: {"StartTime": "240000", "ElecPrice": 1, "SevicePrice": 1}, "StartTime"),
        (POLICY_INFO, lambda: {"StartTime": "83000", "ElecPrice": 1, "SevicePrice": 1}, "StartTime"),
        (POLICY_INFO, lambda: {"StartTime": "08:30:", "ElecPrice": 1, "SevicePrice": 1}, "StartTime"),
        (POLICY_INFO, lambda: {"StartTime": "086000", "ElecPrice": 1, "SevicePrice": 1}, "StartTime"),
        (
            QUERY_STATION_STATS_REQUEST,
            lambda: {"StationID": "S", "StartTime": "2024-05-01", "EndTime": "20240531"},
            "EndTime",
        ),
    ],
)
def test_format(struct: Struct, make: Any, path: str) -> None:
    problem = only(make(), struct)
    assert (problem.path, problem.rule) == (path, "format")
    assert path in problem.message


def test_policy_start_time_integer_is_a_type_error() -> None:
    # The draft table says 整型, but HHmmss needs its leading zeros: the spec resolves it to a 6-character string.
    problem = only({"StartTime": 83000, "ElecPrice": 1, "SevicePrice": 1}, POLICY_INFO)
    assert (problem.path, problem.rule) == ("StartTime", "type")


def test_max_items_station_ids() -> None:
    assert validate({"StationIDs": [f"S{i}" for i in range(50)]}, QUERY_STATION_STATUS_REQUEST) == []
    problem = only({"StationIDs": [f"S{i}" for i in range(51)]}, QUERY_STATION_STATUS_REQUEST)
    assert (problem.path, problem.rule) == ("StationIDs", "max_items")
    assert problem.message == "StationIDs（充电站ID列表）最多50项，实际为51项"


def test_station_id_items_are_checked() -> None:
    problem = only({"StationIDs": ["S1", "x" * 21]}, QUERY_STATION_STATUS_REQUEST)
    assert (problem.path, problem.rule) == ("StationIDs[1]", "max_len")
    assert found({"StationIDs": [3]}, QUERY_STATION_STATUS_REQUEST) == {("StationIDs[0]", "type")}


def test_min_items_on_array_status_push() -> None:
    problems = validate_status_notification({"ConnectorStatusInfos": []})
    assert [(p.path, p.rule) for p in problems] == [("ConnectorStatusInfos", "min_items")]
    assert "ConnectorStatusInfos" in problems[0].message


def test_unique_connector_id_within_station() -> None:
    payload = stations_response()
    equipments = payload["StationInfos"][3]["EquipmentInfos"]
    equipments[1]["ConnectorInfos"][1]["ConnectorID"] = equipments[0]["ConnectorInfos"][0]["ConnectorID"]
    problem = only(payload, QUERY_STATIONS_INFO_RESPONSE)
    assert (problem.path, problem.rule) == ("StationInfos[3].EquipmentInfos[1].ConnectorInfos[1].ConnectorID", "unique")
    assert "ConnectorID（充电设备接口编码）重复" in problem.message


def test_same_connector_id_in_two_stations_is_not_this_rule() -> None:
    # Uniqueness across stations is the importer's business (it sees the whole operator); the rule is per station.
    payload = stations_response()
    assert payload["StationInfos"][0]["EquipmentInfos"] == payload["StationInfos"][1]["EquipmentInfos"]
    assert validate(payload, QUERY_STATIONS_INFO_RESPONSE) == []


def test_unique_equipment_id_and_order_seq() -> None:
    payload = station(2, 1)
    payload["EquipmentInfos"][1]["EquipmentID"] = payload["EquipmentInfos"][0]["EquipmentID"]
    payload["EquipmentInfos"][1]["ConnectorInfos"][0]["ConnectorID"] = "OTHER"
    assert found(payload, STATION_INFO) == {("EquipmentInfos[1].EquipmentID", "unique")}
    orders = example("check_charge_orders")
    orders["ChargeOrders"][1]["StartChargeSeq"] = SEQ
    assert found(orders, CHECK_CHARGE_ORDERS_REQUEST) == {("ChargeOrders[1].StartChargeSeq", "unique")}


@pytest.mark.parametrize(
    ("interface", "side", "change", "path"),
    [
        ("notification_charge_order_info", 0, {"SumPeriod": 3}, "SumPeriod"),
        ("notification_equip_charge_status", 0, {"SumPeriod": 1}, "SumPeriod"),
        ("notification_charge_order_info_for_bonus", 0, {"SumPeriod": 1, "ChargeDetails": []}, "SumPeriod"),
        ("query_equip_business_policy", 1, {"SumPeriod": 2}, "SumPeriod"),
        ("check_charge_orders", 0, {"OrderCount": 3}, "OrderCount"),
        ("check_charge_orders", 1, {"TotalDisputeOrder": 1}, "TotalDisputeOrder"),
    ],
)
def test_count(interface: str, side: int, change: dict[str, Any], path: str) -> None:
    payload = example(interface, side) | change
    problem = only(payload, INTERFACES[interface][side])
    assert (problem.path, problem.rule) == (path, "count")
    assert path in problem.message


def test_count_not_checked_when_one_side_is_absent() -> None:
    payload = charge_order()
    del payload["ChargeDetails"]
    assert validate(payload | {"SumPeriod": 4}, NOTIFICATION_CHARGE_ORDER_INFO_REQUEST) == []


@pytest.mark.parametrize(
    ("struct", "payload", "path"),
    [
        (NOTIFICATION_CHARGE_ORDER_INFO_REQUEST, charge_order() | {"EndTime": "2024-05-14 08:30:58"}, "EndTime"),
        (CHECK_CHARGE_ORDERS_REQUEST, example("check_charge_orders") | {"EndTime": "2024-05-12 23:59:59"}, "EndTime"),
        (
            EQUIP_CHARGE_STATUS,
            example("notification_equip_charge_status") | {"StartTime": "2024-05-15 00:00:00"},
            "EndTime",
        ),
        (
            QUERY_STATION_STATS_REQUEST,
            {"StationID": "ST1", "StartTime": "2024-05-31", "EndTime": "2024-05-01"},
            "EndTime",
        ),
        (
            CHARGE_DETAIL,
            {"DetailStartTime": "2024-05-14 10:00:00", "DetailEndTime": "2024-05-14 09:00:00", "DetailPower": 1},
            "DetailEndTime",
        ),
    ],
)
def test_time_order(struct: Struct, payload: dict[str, Any], path: str) -> None:
    problem = only(payload, struct)
    assert (problem.path, problem.rule) == (path, "time_order")
    assert path in problem.message


def test_time_order_equal_times_and_nested_path() -> None:
    assert validate(charge_order() | {"EndTime": "2024-05-14 08:30:59"}, NOTIFICATION_CHARGE_ORDER_INFO_REQUEST) == []
    stats = example("query_station_stats", 1)
    stats["StationStats"]["EndTime"] = "2024-04-30"
    assert found(stats, INTERFACES["query_station_stats"][1]) == {("StationStats.EndTime", "time_order")}


def test_voltage_order() -> None:
    payload = stations_response()
    payload["StationInfos"][3]["EquipmentInfos"][0]["ConnectorInfos"][1] |= {
        "VoltageLowerLimits": 800,
        "VoltageUpperLimits": 750,
    }
    problem = only(payload, QUERY_STATIONS_INFO_RESPONSE)
    assert problem.path == "StationInfos[3].EquipmentInfos[0].ConnectorInfos[1].VoltageLowerLimits"
    assert problem.rule == "voltage_order"
    assert "VoltageLowerLimits" in problem.message and "VoltageUpperLimits" in problem.message
    ac = station(1, 1)["EquipmentInfos"][0]["ConnectorInfos"][0] | {
        "VoltageLowerLimits": 220,
        "VoltageUpperLimits": 220,
    }
    assert validate(ac, CONNECTOR_INFO) == []  # AC: upper = lower is allowed


def test_root_type() -> None:
    for payload in (None, [], "{}", 1, True, D("1"), ["ConnectorStatusInfo"]):
        problem = only(payload, NOTIFICATION_STATION_STATUS_REQUEST)
        assert (problem.path, problem.rule) == ("", "type")
        assert "Data" in problem.message
    assert found([], STATION_INFO) == {("", "type")}
    nested = validate(3, STATION_INFO, path="StationInfos[0]")
    assert [(p.path, p.rule) for p in nested] == [("StationInfos[0]", "type")]


def test_path_prefix() -> None:
    payload = station(1, 1)
    payload["ParkNums"] = -1
    assert found(payload, STATION_INFO) == {("ParkNums", "range")}
    problems = validate(payload, STATION_INFO, path="StationInfos[7]")
    assert [(p.path, p.rule) for p in problems] == [("StationInfos[7].ParkNums", "range")]
    assert problems[0].message.startswith("StationInfos[7].ParkNums（车位数量）")


def test_all_problems_are_reported() -> None:
    payload = stations_response(StationType=2, StationName="x" * 51, ParkNums=True)
    del payload["StationInfos"][0]["Address"]
    payload["StationInfos"][1]["EquipmentInfos"][1]["Power"] = D("1.25")
    payload["ItemSize"] = "4"
    assert found(payload, QUERY_STATIONS_INFO_RESPONSE) == {
        ("ItemSize", "type"),
        ("StationInfos[0].Address", "required"),
        ("StationInfos[1].EquipmentInfos[1].Power", "scale"),
        ("StationInfos[3].StationName", "max_len"),
        ("StationInfos[3].StationType", "enum"),
        ("StationInfos[3].ParkNums", "type"),
    }


def test_token_required_on_success_only() -> None:
    payload = example("query_token", 1)
    del payload["AccessToken"]
    problem = only(payload, QUERY_TOKEN_RESPONSE)
    assert (problem.path, problem.rule) == ("AccessToken", "required")
    failure = payload | {"SuccStat": 1, "FailReason": 2, "TokenAvailableTime": 0}
    assert validate(failure, QUERY_TOKEN_RESPONSE) == []


# --------------------------------------------------------------------------------------------------------------------
# Enumerations: every value of the spec accepted, values outside rejected
# --------------------------------------------------------------------------------------------------------------------

_CUSTOM_0_99 = list(range(100))

# (struct, base payload factory, field, accepted values, rejected values)
ENUMS: list[tuple[str, Struct, Any, str, list[int], list[int]]] = [
    (
        "E1 StationType",
        STATION_INFO,
        lambda: station(1, 1),
        "StationType",
        [1, 50, 100, 101, 102, 103, 255],
        [0, 2, 256],
    ),
    ("E2 StationStatus", STATION_INFO, lambda: station(1, 1), "StationStatus", [0, 1, 5, 6, 50], [2, 7, 51]),
    (
        "E3 Construction",
        STATION_INFO,
        lambda: station(1, 1),
        "Construction",
        [*range(1, 12), 255],
        [0, 12, 254],
    ),
    ("SupportOrder", STATION_INFO, lambda: station(1, 1), "SupportOrder", [0, 1], [2, -1]),
    (
        "E4 EquipmentType",
        EQUIPMENT_INFO,
        lambda: station(1, 1)["EquipmentInfos"][0],
        "EquipmentType",
        [1, 2, 3, 4, 5],
        [0, 6],
    ),
    (
        "E5 ConnectorType",
        CONNECTOR_INFO,
        lambda: station(1, 1)["EquipmentInfos"][0]["ConnectorInfos"][0],
        "ConnectorType",
        [1, 2, 3, 4, 5, 6],
        [0, 7, 255],
    ),
    (
        "E6 NationalStandard",
        CONNECTOR_INFO,
        lambda: station(1, 1)["EquipmentInfos"][0]["ConnectorInfos"][0],
        "NationalStandard",
        [1, 2],
        [0, 3, 2011],
    ),
    ("E7 Status", CONNECTOR_STATUS_INFO, status_info, "Status", [0, 1, 2, 3, 4, 255], [5, -1, 254]),
    ("E8 ParkStatus", CONNECTOR_STATUS_INFO, status_info, "ParkStatus", [0, 10, 50], [1, 20]),
    ("E9 LockStatus", CONNECTOR_STATUS_INFO, status_info, "LockStatus", [0, 10, 50], [1, 20]),
    (
        "status push reply Status",
        INTERFACES["notification_stationStatus"][1],
        lambda: {"Status": 0},
        "Status",
        [0, 1],
        [2, -1],
    ),
    (
        "part 3 E1 StartChargeSeqStat",
        EQUIP_CHARGE_STATUS,
        lambda: example("notification_equip_charge_status"),
        "StartChargeSeqStat",
        [1, 2, 3, 4, 5],
        [0, 6],
    ),
    (
        "part 3 E2 ConnectorStatus",
        EQUIP_CHARGE_STATUS,
        lambda: example("notification_equip_charge_status"),
        "ConnectorStatus",
        [1, 2, 3, 4, 255],
        [0, 5],
    ),
    (
        "part 3 E3 StopReason",
        NOTIFICATION_CHARGE_ORDER_INFO_REQUEST,
        charge_order,
        "StopReason",
        _CUSTOM_0_99,
        [100, -1, 255],
    ),
    (
        "part 3 E4 DisputeReason",
        DISPUTE_ORDER,
        lambda: {"StartChargeSeq": SEQ, "TotalPower": 1, "TotalMoney": 1, "DisputeReason": 1},
        "DisputeReason",
        list(range(1, 100)),
        [0, 100],
    ),
    (
        "ConfirmResult",
        INTERFACES["notification_charge_order_info"][1],
        lambda: example("notification_charge_order_info", 1),
        "ConfirmResult",
        _CUSTOM_0_99,
        [100, -1],
    ),
    (
        "B1 ChargeModel",
        NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_REQUEST,
        lambda: example("notification_charge_order_info_for_bonus"),
        "ChargeModel",
        [0, 1, 2, 3],
        [4, -1],
    ),
    (
        "B1 ChargeModel in status pushes",
        EQUIP_CHARGE_STATUS,
        lambda: example("notification_equip_charge_status"),
        "ChargeModel",
        [0, 1, 2, 3],
        [4],
    ),
    *(
        (
            f"{interface} {'reply' if side else 'input'} FailReason",
            INTERFACES[interface][side],
            lambda interface=interface, side=side: example(interface, side),
            "FailReason",
            _CUSTOM_0_99,
            [100, -1],
        )
        for interface, side in [
            ("query_token", 1),
            ("query_equip_auth", 1),
            ("query_equip_business_policy", 1),
            ("query_start_charge", 1),
            ("notification_start_charge_result", 1),
            ("query_stop_charge", 1),
            ("notification_stop_charge_result", 0),
            ("notification_stop_charge_result", 1),
        ]
    ),
    *(
        (
            f"{interface} SuccStat",
            INTERFACES[interface][side],
            lambda interface=interface, side=side: example(interface, side),
            "SuccStat",
            [0, 1],
            [2, -1],
        )
        for interface, side in [
            ("query_token", 1),
            ("query_equip_auth", 1),
            ("query_start_charge", 1),
            ("notification_start_charge_result", 1),
            ("notification_equip_charge_status", 1),
            ("query_stop_charge", 1),
            ("notification_stop_charge_result", 0),
        ]
    ),
]


@pytest.mark.parametrize(("name", "struct", "base", "field", "accepted", "rejected"), ENUMS, ids=[e[0] for e in ENUMS])
def test_enum_values(
    name: str, struct: Struct, base: Any, field: str, accepted: list[int], rejected: list[int]
) -> None:
    for value in accepted:
        assert validate(base() | {field: value}, struct) == [], (field, value)
    for value in rejected:
        problem = only(base() | {field: value}, struct)
        assert (problem.path, problem.rule) == (field, "enum"), (field, value)
        assert field in problem.message


def test_custom_range_examples_of_the_brief() -> None:
    assert validate(charge_order() | {"StopReason": 57}, NOTIFICATION_CHARGE_ORDER_INFO_REQUEST) == []
    problem = only(charge_order() | {"StopReason": 100}, NOTIFICATION_CHARGE_ORDER_INFO_REQUEST)
    assert (problem.path, problem.rule) == ("StopReason", "enum")
    assert "5–99自定义" in problem.message


def test_int_subclasses_are_accepted_bool_is_not() -> None:
    class Status(IntEnum):
        CHARGING = 3

    assert validate(status_info(status=Status.CHARGING), CONNECTOR_STATUS_INFO) == []
    assert found(status_info(status=True), CONNECTOR_STATUS_INFO) == {("Status", "type")}


# --------------------------------------------------------------------------------------------------------------------
# Numbers: scale, bool, NaN/inf, ints where a Number is expected
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [D("7.2"), 7, D("7"), D("7.20"), D("7.0"), D("7.2E+1"), D("0"), 7.2, 7.0])
def test_power_scale_accepted(value: Any) -> None:
    connector = station(1, 1)["EquipmentInfos"][0]["ConnectorInfos"][0] | {"Power": value}
    assert validate(connector, CONNECTOR_INFO) == []


@pytest.mark.parametrize("value", [D("7.25"), D("7.201"), D("1E-7"), D("7.25E0"), 7.25])
def test_power_scale_rejected(value: Any) -> None:
    connector = station(1, 1)["EquipmentInfos"][0]["ConnectorInfos"][0] | {"Power": value}
    problem = only(connector, CONNECTOR_INFO)
    assert (problem.path, problem.rule) == ("Power", "scale")


@pytest.mark.parametrize(
    ("struct", "base", "field", "ok", "too_fine"),
    [
        (STATION_INFO, lambda: station(1, 1), "StationLng", D("116.480881"), D("116.4808811")),
        (STATION_INFO, lambda: station(1, 1), "StationLat", D("39.9"), D("39.9334061")),
        (
            POLICY_INFO,
            lambda: {"StartTime": "000000", "ElecPrice": 1, "SevicePrice": 1},
            "ElecPrice",
            D("0.3950"),
            D("0.39501"),
        ),
        (
            POLICY_INFO,
            lambda: {"StartTime": "000000", "ElecPrice": 1, "SevicePrice": 1},
            "SevicePrice",
            D("0.8"),
            D("0.80001"),
        ),
        (NOTIFICATION_CHARGE_ORDER_INFO_REQUEST, charge_order, "TotalPower", D("15.50"), D("15.505")),
        (
            EQUIP_CHARGE_STATUS,
            lambda: example("notification_equip_charge_status"),
            "TotalMoney",
            D("24.8"),
            D("24.801"),
        ),
        (
            CHARGE_ORDER,
            lambda: {"StartChargeSeq": SEQ, "TotalPower": 1, "TotalMoney": 1},
            "TotalMoney",
            D("1.01"),
            D("1.011"),
        ),
        (
            CHECK_CHARGE_ORDERS_REQUEST,
            lambda: example("check_charge_orders"),
            "TotalOrderPower",
            D("31.0001"),
            D("31.00001"),
        ),
        (
            CHECK_CHARGE_ORDERS_RESPONSE,
            lambda: example("check_charge_orders", 1),
            "TotalDisputePower",
            D("0.0001"),
            D("0.00001"),
        ),
        (
            STATION_STATS_INFO,
            lambda: example("query_station_stats", 1)["StationStats"],
            "StationElectricity",
            D("1234.5"),
            D("1234.55"),
        ),
        (
            NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_REQUEST,
            lambda: example("notification_charge_order_info_for_bonus"),
            "ConnectorPower",
            D("60.0"),
            D("60.05"),
        ),
        (
            NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_REQUEST,
            lambda: example("notification_charge_order_info_for_bonus"),
            "MeterValueEnd",
            D("1015.75"),
            D("1015.755"),
        ),
    ],
)
def test_scales_of_the_spec(struct: Struct, base: Any, field: str, ok: Decimal, too_fine: Decimal) -> None:
    assert validate(base() | {field: ok}, struct) == []
    problem = only(base() | {field: too_fine}, struct)
    assert (problem.path, problem.rule) == (field, "scale")


@pytest.mark.parametrize(
    ("field", "value"),
    [("StationType", True), ("ParkNums", False), ("SupportOrder", True), ("StationLng", True), ("StationLat", False)],
)
def test_bool_is_never_a_number(field: str, value: bool) -> None:
    problem = only(station(1, 1) | {field: value}, STATION_INFO)
    assert (problem.path, problem.rule) == (field, "type")
    assert "布尔值" in problem.message


@pytest.mark.parametrize("value", [D("1.0"), D("1"), 1.0, "1", [1], {"v": 1}])
def test_integer_fields_take_only_json_integers(value: Any) -> None:
    problem = only({"PageNo": value}, INTERFACES["query_stations_info"][0])
    assert (problem.path, problem.rule) == ("PageNo", "type")


@pytest.mark.parametrize(
    "value", [D("NaN"), D("sNaN"), D("Infinity"), D("-Infinity"), float("nan"), float("inf"), float("-inf")]
)
def test_non_finite_numbers_rejected(value: Any) -> None:
    problem = only(station(1, 1) | {"StationLng": value}, STATION_INFO)
    assert (problem.path, problem.rule) == ("StationLng", "type")


def test_number_as_string_rejected() -> None:
    problem = only(charge_order() | {"TotalMoney": "24.80"}, NOTIFICATION_CHARGE_ORDER_INFO_REQUEST)
    assert (problem.path, problem.rule) == ("TotalMoney", "type")


# --------------------------------------------------------------------------------------------------------------------
# Robustness: wrong types at every level of every example never raise
# --------------------------------------------------------------------------------------------------------------------

_ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    10**5000,
    D("1.5"),
    D("sNaN"),
    D("1E+999999999"),
    float("nan"),
    "",
    "x" * 300,
    "中文",
    [],
    {},
    [None],
    [{}],
    {"a": [1]},
    (1, 2),
    object(),
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):  # two items are enough to reach every nested level
            out += _paths(item, (*prefix, index))
    return out


def _replaced(payload: Any, path: tuple[Any, ...], new: Any) -> Any:
    payload = copy.deepcopy(payload)
    target = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return payload


@pytest.mark.parametrize("interface", sorted(EXAMPLES))
@pytest.mark.parametrize("side", [0, 1], ids=["request", "response"])
def test_wrong_types_at_every_level_never_raise(interface: str, side: int) -> None:
    struct = INTERFACES[interface][side]
    payload = EXAMPLES[interface][side]
    if interface == "query_stations_info" and side == 1:
        payload = {**payload, "StationInfos": [station(2, 2)]}  # keep the walk small
    for path in _paths(payload):
        for odd in _ODD_VALUES:
            problems = validate(_replaced(payload, path, odd), struct)
            assert isinstance(problems, list)
            assert all(isinstance(p, Problem) and p.message for p in problems)
            consistency_problems(_replaced(payload, path, odd))
    for odd in _ODD_VALUES:
        rules = {p.rule for p in validate(odd, struct)}
        assert rules <= {"required"} if isinstance(odd, dict) else rules == {"type"}


def test_deleting_any_required_field_is_reported_at_its_path() -> None:
    payload = {**EXAMPLES["query_stations_info"][1], "StationInfos": [station(1, 1)]}
    struct = INTERFACES["query_stations_info"][1]
    for path in _paths(payload):
        parent = payload
        for step in path[:-1]:
            parent = parent[step]
        if not isinstance(parent, dict):
            continue
        spec_struct = _struct_at(struct, path[:-1])
        field = spec_struct.by_name.get(path[-1])
        if field is None or not field.required:
            continue
        damaged = copy.deepcopy(payload)
        target = damaged
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]
        expected = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in path).lstrip(".")
        assert (expected, "required") in found(damaged, struct)


def _struct_at(struct: Struct, path: tuple[Any, ...]) -> Struct:
    for step in path:
        if isinstance(step, str):
            struct = struct.by_name[step].struct  # type: ignore[attr-defined]
    return struct


# --------------------------------------------------------------------------------------------------------------------
# check(): Ret 4004 with a bounded Msg
# --------------------------------------------------------------------------------------------------------------------


def test_check_passes_valid_payload() -> None:
    assert check(example("query_start_charge"), INTERFACES["query_start_charge"][0]) is None


def test_check_raises_business_error() -> None:
    with pytest.raises(BusinessError) as caught:
        check({"StartChargeSeq": "short", "ConnectorID": "C1"}, INTERFACES["query_start_charge"][0])
    assert caught.value.ret == Ret.BUSINESS == 4004
    assert (
        caught.value.msg
        == "StartChargeSeq（充电订单号）长度应为27，实际为5；QRCode（二维码其他信息）为必填项，不能缺失"
    )


def test_check_msg_is_bounded_and_counts_the_rest() -> None:
    payload = example("query_stations_info", 1)
    payload["StationInfos"] = [{"StationID": "x" * 300} for _ in range(30)]
    total = len(validate(payload, QUERY_STATIONS_INFO_RESPONSE))
    with pytest.raises(BusinessError) as caught:
        check(payload, QUERY_STATIONS_INFO_RESPONSE)
    msg = caught.value.msg
    assert len(msg) <= 500
    shown = msg.split("；另有")[0].count("；") + 1
    assert 1 <= shown <= 5
    assert msg.endswith(f"另有{total - shown}个问题")
    assert "StationInfos[0].StationID（充电站ID）长度不能超过20，实际为300" in msg


def test_check_msg_for_non_object() -> None:
    with pytest.raises(BusinessError, match="Data（"):
        check("nope", OPERATOR_INFO)


# --------------------------------------------------------------------------------------------------------------------
# notification_stationStatus: object or array
# --------------------------------------------------------------------------------------------------------------------


def test_status_infos_forms() -> None:
    one, two = status_info("C1"), status_info("C2", 1)
    assert status_infos({"ConnectorStatusInfo": one}) == [one]
    assert status_infos({"ConnectorStatusInfo": [one, two]}) == [one, two]
    assert status_infos({"ConnectorStatusInfos": [one, two]}) == [one, two]
    assert status_infos({"ConnectorStatusInfos": (one,)}) == [one]
    for odd in (None, [], "x", {}, {"ConnectorStatusInfo": "x"}, {"ConnectorStatusInfos": {"a": 1}}):
        assert status_infos(odd) == []


def test_status_request_struct_is_the_standard_object() -> None:
    assert validate({"ConnectorStatusInfo": status_info()}, NOTIFICATION_STATION_STATUS_REQUEST) == []
    problem = only({"ConnectorStatusInfo": [status_info()]}, NOTIFICATION_STATION_STATUS_REQUEST)
    assert (problem.path, problem.rule) == ("ConnectorStatusInfo", "type")
    problem = only({"ConnectorStatusInfo": status_info(status=5)}, NOTIFICATION_STATION_STATUS_REQUEST)
    assert (problem.path, problem.rule) == ("ConnectorStatusInfo.Status", "enum")


def test_validate_status_notification_accepts_arrays() -> None:
    assert validate_status_notification({"ConnectorStatusInfo": status_info()}) == []
    assert validate_status_notification({"ConnectorStatusInfo": [status_info("C1"), status_info("C2")]}) == []
    assert validate_status_notification({"ConnectorStatusInfos": [status_info("C1"), status_info("C2")]}) == []
    problems = validate_status_notification({"ConnectorStatusInfos": [status_info("C1"), status_info("C2", 5), 7]})
    assert [(p.path, p.rule) for p in problems] == [
        ("ConnectorStatusInfos[1].Status", "enum"),
        ("ConnectorStatusInfos[2]", "type"),
    ]
    duplicated = validate_status_notification({"ConnectorStatusInfo": [status_info("C1"), status_info("C1")]})
    assert [(p.path, p.rule) for p in duplicated] == [("ConnectorStatusInfo[1].ConnectorID", "unique")]
    assert [(p.path, p.rule) for p in validate_status_notification({})] == [("ConnectorStatusInfo", "required")]
    assert [(p.path, p.rule) for p in validate_status_notification([])] == [("", "type")]


# --------------------------------------------------------------------------------------------------------------------
# consistency_problems(): the data-quality arithmetic kept out of validate()
# --------------------------------------------------------------------------------------------------------------------


def test_arithmetic_is_not_part_of_validate() -> None:
    payload = charge_order() | {"TotalMoney": D("99.99"), "TotalPower": D("1.00")}
    assert validate(payload, NOTIFICATION_CHARGE_ORDER_INFO_REQUEST) == []
    assert {(p.path, p.rule) for p in consistency_problems(payload)} == {
        ("TotalMoney", "consistency"),
        ("TotalPower", "consistency"),
    }


def test_consistency_tolerances() -> None:
    assert consistency_problems(charge_order()) == []
    assert consistency_problems(charge_order() | {"TotalMoney": D("24.81")}) == []  # within 0.01
    problem = consistency_problems(charge_order() | {"TotalMoney": D("24.82")})
    assert [(p.path, p.rule) for p in problem] == [("TotalMoney", "consistency")]
    assert "TotalMoney" in problem[0].message and "TotalSeviceMoney" in problem[0].message
    # Two details: Σ DetailPower = 15.50 may differ from TotalPower by up to 0.02.
    assert consistency_problems(charge_order() | {"TotalPower": D("15.52")}) == []
    assert [p.path for p in consistency_problems(charge_order() | {"TotalPower": D("15.53")})] == ["TotalPower"]


def test_consistency_skips_what_it_cannot_compute() -> None:
    no_details = charge_order()
    del no_details["ChargeDetails"]
    assert consistency_problems(no_details | {"TotalPower": D("99")}) == []
    assert consistency_problems(charge_order() | {"TotalElecMoney": "12.40"}) == []
    broken = charge_order()
    broken["ChargeDetails"][0]["DetailPower"] = None
    assert consistency_problems(broken | {"TotalPower": D("99")}) == []
    assert consistency_problems([]) == []
    bonus = example("notification_charge_order_info_for_bonus")  # no TotalElecMoney/TotalSeviceMoney: money skipped
    assert consistency_problems(bonus) == []


# --------------------------------------------------------------------------------------------------------------------
# The registry and the spec's spellings
# --------------------------------------------------------------------------------------------------------------------


def test_registry_covers_the_interfaces() -> None:
    assert set(INTERFACES) == {
        "query_token",
        "query_stations_info",
        "notification_stationStatus",
        "query_station_status",
        "query_station_stats",
        "query_equip_auth",
        "query_equip_business_policy",
        "query_start_charge",
        "notification_start_charge_result",
        "query_equip_charge_status",
        "notification_equip_charge_status",
        "query_stop_charge",
        "notification_stop_charge_result",
        "notification_charge_order_info",
        "notification_charge_order_info_for_bonus",
        "check_charge_orders",
    }
    assert INTERFACES["query_equip_charge_status"][1] is INTERFACES["notification_equip_charge_status"][0]


def _all_field_names(struct: Struct) -> set[str]:
    names: set[str] = set()
    for field in struct.fields:
        names.add(field.name)
        nested = getattr(field, "struct", None)
        if nested is not None:
            names |= _all_field_names(nested)
    return names


def test_spec_spellings_are_kept() -> None:
    names = set().union(*(_all_field_names(s) for pair in INTERFACES.values() for s in pair))
    for spelled in ("SeviceMoney", "TotalSeviceMoney", "SevicePrice", "DetailSeviceMoney", "BusineHours", "QRCode"):
        assert spelled in names
    for wrong in (
        "ServiceMoney",
        "TotalServiceMoney",
        "ServicePrice",
        "BusinessHours",
        "QrCode",
        "ElectMoney",
        "SubPeriod",
    ):
        assert wrong not in names


def test_every_field_has_a_label() -> None:
    structs = {s for pair in INTERFACES.values() for s in pair} | {OPERATOR_INFO}
    for struct in structs:
        for field in struct.fields:
            assert field.label, (struct.name, field.name)


def test_qrcode_may_be_empty_but_not_missing() -> None:
    struct = INTERFACES["query_start_charge"][0]
    assert validate(example("query_start_charge") | {"QRCode": ""}, struct) == []
    payload = example("query_start_charge")
    del payload["QRCode"]
    assert found(payload, struct) == {("QRCode", "required")}


def test_operator_info_struct() -> None:
    info = {"OperatorID": "MA59CU773", "OperatorName": "某某充电科技有限公司", "OperatorTel1": "4000000000"}
    assert validate(info, OPERATOR_INFO) == []
    assert found(info | {"OperatorNote": "x" * 256}, OPERATOR_INFO) == {("OperatorNote", "max_len")}


def test_custom_int_spec() -> None:
    struct = Struct("T", "测试", [Int("Code", "代码", choices=(0, 1), custom=((10, 19), (90, 99)))])
    assert [validate({"Code": v}, struct) for v in (0, 1, 10, 19, 90, 99)] == [[]] * 6
    assert {only({"Code": v}, struct).rule for v in (2, 9, 20, 89, 100)} == {"enum"}
