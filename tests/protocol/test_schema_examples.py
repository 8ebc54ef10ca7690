"""Valid Data payloads built from the spec tables: a request and a response per interface, all passing validate()."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from apps.protocol.jsoncodec import dumps, loads
from apps.protocol.schema import INTERFACES, Struct, validate

OP = "MA01H3BQ2"
SEQ = OP + "202405140830591234"  # 9 + 14 + 4 = 27 characters
SEQ2 = OP + "202405140830591235"
D = Decimal


def connector(eq: int, n: int) -> dict[str, Any]:
    return {
        "ConnectorID": f"EQ{eq:04d}{n}",
        "ConnectorName": f"{n}号枪",
        "ConnectorType": 4,
        "VoltageUpperLimits": 750,
        "VoltageLowerLimits": 200,
        "Current": 250,
        "Power": D("60.0"),
        "ParkNo": f"P{eq}{n}",
        "NationalStandard": 2,
    }


def equipment(eq: int, connectors: int = 2) -> dict[str, Any]:
    return {
        "EquipmentID": f"EQ{eq:04d}",
        "ManufacturerID": "123456789",
        "ManufacturerName": "某某电气",
        "EquipmentModel": "DC120",
        "ProductionDate": "2023-05-01",
        "EquipmentType": 1,
        "ConnectorInfos": [connector(eq, n) for n in range(connectors)],
        "EquipmentLng": D("116.480881"),
        "EquipmentLat": D("39.933406"),
        "Power": D("120.0"),
        "EquipmentName": f"{eq}号桩",
    }


def station(equipments: int = 10, connectors: int = 2) -> dict[str, Any]:
    """A full StationInfo: every optional field present, `equipments` × `connectors` connectors."""
    return {
        "StationID": "ST000001",
        "OperatorID": OP,
        "EquipmentOwnerID": OP,
        "StationName": "朝阳公园充电站",
        "CountryCode": "CN",
        "AreaCode": "110105",
        "Address": "北京市朝阳区朝阳公园南路1号",
        "StationTel": "010-12345678",
        "ServiceTel": "4001234567",
        "StationType": 1,
        "StationStatus": 50,
        "ParkNums": 20,
        "StationLng": D("116.480881"),
        "StationLat": D("39.933406"),
        "SiteGuide": "地下二层B区",
        "Construction": 9,
        "Pictures": ["https://example.com/a.jpg", "https://example.com/b.jpg"],
        "MatchCars": "私家车、出租车",
        "ParkInfo": "B2层20个车位",
        "BusineHours": "00:00-24:00",
        "ElectricityFee": "峰1.2元/度，平0.8元/度，谷0.4元/度",
        "ServiceFee": "0.8元/度",
        "ParkFee": "前2小时免费",
        "Payment": "线上",
        "SupportOrder": 0,
        "Remark": "",
        "EquipmentInfos": [equipment(i, connectors) for i in range(equipments)],
    }


def status_info(cid: str = "EQ00000", status: int = 3) -> dict[str, Any]:
    return {"ConnectorID": cid, "Status": status, "ParkStatus": 50, "LockStatus": 10}


def charge_detail(start: str, end: str, power: str) -> dict[str, Any]:
    return {
        "DetailStartTime": start,
        "DetailEndTime": end,
        "ElecPrice": D("0.8000"),
        "SevicePrice": D("0.8000"),
        "DetailPower": D(power),
        "DetailElecMoney": (D(power) * D("0.8")).quantize(D("0.01")),
        "DetailSeviceMoney": (D(power) * D("0.8")).quantize(D("0.01")),
    }


DETAILS = [
    charge_detail("2024-05-14 08:30:59", "2024-05-14 10:00:00", "10.00"),
    charge_detail("2024-05-14 10:00:00", "2024-05-14 10:30:00", "5.50"),
]


def charge_status() -> dict[str, Any]:
    return {
        "StartChargeSeq": SEQ,
        "StartChargeSeqStat": 2,
        "ConnectorID": "EQ00000",
        "ConnectorStatus": 3,
        "CurrentA": D("125.5"),
        "CurrentB": 0,
        "CurrentC": 0,
        "VoltageA": D("380.2"),
        "VoltageB": 0,
        "VoltageC": 0,
        "Soc": D("56.5"),
        "StartTime": "2024-05-14 08:30:59",
        "EndTime": "2024-05-14 10:30:00",
        "TotalPower": D("15.50"),
        "ElecMoney": D("12.40"),
        "SeviceMoney": D("12.40"),
        "TotalMoney": D("24.80"),
        "SumPeriod": 2,
        "ChargeDetails": copy.deepcopy(DETAILS),
    }


def charge_order() -> dict[str, Any]:
    return {
        "StartChargeSeq": SEQ,
        "ConnectorID": "EQ00000",
        "StartTime": "2024-05-14 08:30:59",
        "EndTime": "2024-05-14 10:30:00",
        "TotalPower": D("15.50"),
        "TotalElecMoney": D("12.40"),
        "TotalSeviceMoney": D("12.40"),
        "TotalMoney": D("24.80"),
        "StopReason": 2,
        "SumPeriod": 2,
        "ChargeDetails": copy.deepcopy(DETAILS),
    }


def bonus_order() -> dict[str, Any]:
    return {
        "StartChargeSeq": SEQ + "12",  # a CPO's own number for a walk-in: 27 recommended, up to 32 accepted
        "ConnectorID": "EQ00000",
        "StartTime": "2024-05-14 08:30:59",
        "EndTime": "2024-05-14 10:30:00",
        "ChargeModel": 2,
        "TotalPower": D("15.50"),
        "TotalMoney": D("24.80"),
        "StopReason": 57,
        "UserName": "张三",
        "StationID": "ST000001",
        "EquipmentID": "EQ0000",
        "ConnectorPower": D("60.0"),
        "ChargeLast": 7141,
        "MeterValueStart": D("1000.25"),
        "MeterValueEnd": D("1015.75"),
    }


# interface → (request Data, response Data)
EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "query_token": (
        {"OperatorID": OP, "OperatorSecret": "1234567890abcdef"},
        {
            "OperatorID": OP,
            "SuccStat": 0,
            "AccessToken": "5b1f3c2e9d4a4b6f8e7d6c5b4a392817",
            "TokenAvailableTime": 7200,
            "FailReason": 0,
        },
    ),
    "query_stations_info": (
        {"LastQueryTime": "2024-05-14 00:00:00", "PageNo": 1, "PageSize": 50},
        {"PageNo": 1, "PageCount": 1, "ItemSize": 1, "StationInfos": [station()]},
    ),
    "notification_stationStatus": ({"ConnectorStatusInfo": status_info()}, {"Status": 0}),
    "query_station_status": (
        {"StationIDs": ["ST000001", "ST000002"]},
        {
            "Total": 1,
            "StationStatusInfos": [
                {"StationID": "ST000001", "ConnectorStatusInfos": [status_info("EQ00000"), status_info("EQ00001", 1)]}
            ],
        },
    ),
    "query_station_stats": (
        {"StationID": "ST000001", "StartTime": "2024-05-01", "EndTime": "2024-05-31"},
        {
            "StationStats": {
                "StationID": "ST000001",
                "StartTime": "2024-05-01",
                "EndTime": "2024-05-31",
                "StationElectricity": D("1234.5"),
                "EquipmentStatsInfos": [
                    {
                        "EquipmentID": "EQ0000",
                        "EquipmentElectricity": D("1234.5"),
                        "ConnectorStatsInfos": [
                            {"ConnectorID": "EQ00000", "ConnectorElectricity": D("1000.0")},
                            {"ConnectorID": "EQ00001", "ConnectorElectricity": D("234.5")},
                        ],
                    }
                ],
            }
        },
    ),
    "query_equip_auth": (
        {"EquipAuthSeq": SEQ, "ConnectorID": "EQ00000"},
        {"EquipAuthSeq": SEQ, "ConnectorID": "EQ00000", "SuccStat": 0, "FailReason": 0},
    ),
    "query_equip_business_policy": (
        {"EquipBizSeq": SEQ, "ConnectorID": "EQ00000"},
        {
            "EquipBizSeq": SEQ,
            "ConnectorID": "EQ00000",
            "SuccStat": 0,
            "FailReason": 0,
            "SumPeriod": 3,
            "PolicyInfos": [
                {"StartTime": "000000", "ElecPrice": D("0.3950"), "SevicePrice": D("0.8000")},
                {"StartTime": "083000", "ElecPrice": D("1.2"), "SevicePrice": D("0.8")},
                {"StartTime": "230000", "ElecPrice": 1, "SevicePrice": D("0.8000")},
            ],
        },
    ),
    "query_start_charge": (
        {"StartChargeSeq": SEQ, "ConnectorID": "EQ00000", "QRCode": ""},
        {"StartChargeSeq": SEQ, "StartChargeSeqStat": 1, "ConnectorID": "EQ00000", "SuccStat": 0, "FailReason": 0},
    ),
    "notification_start_charge_result": (
        {
            "StartChargeSeq": SEQ,
            "StartChargeSeqStat": 2,
            "ConnectorID": "EQ00000",
            "StartTime": "2024-05-14 08:30:59",
            "IdentCode": "8421",
        },
        {"StartChargeSeq": SEQ, "SuccStat": 0, "FailReason": 0},
    ),
    "query_equip_charge_status": ({"StartChargeSeq": SEQ}, charge_status()),
    "notification_equip_charge_status": (charge_status(), {"StartChargeSeq": SEQ, "SuccStat": 0}),
    "query_stop_charge": (
        {"StartChargeSeq": SEQ, "ConnectorID": "EQ00000"},
        {"StartChargeSeq": SEQ, "StartChargeSeqStat": 3, "SuccStat": 0, "FailReason": 0},
    ),
    "notification_stop_charge_result": (
        {"StartChargeSeq": SEQ, "StartChargeSeqStat": 4, "ConnectorID": "EQ00000", "SuccStat": 0, "FailReason": 0},
        {"StartChargeSeq": SEQ, "SuccStat": 0, "FailReason": 0},
    ),
    "notification_charge_order_info": (
        charge_order(),
        {"StartChargeSeq": SEQ, "ConnectorID": "EQ00000", "ConfirmResult": 0},
    ),
    "notification_charge_order_info_for_bonus": (
        bonus_order(),
        {"StartChargeSeq": SEQ + "12", "ConnectorID": "EQ00000", "ConfirmResult": 0},
    ),
    "check_charge_orders": (
        {
            "CheckOrderSeq": SEQ,
            "StartTime": "2024-05-13 00:00:00",
            "EndTime": "2024-05-13 23:59:59",
            "OrderCount": 2,
            "TotalOrderPower": D("31.0000"),
            "TotalOrderMoney": D("49.60"),
            "ChargeOrders": [
                {"StartChargeSeq": SEQ, "TotalPower": D("15.50"), "TotalMoney": D("24.80")},
                {"StartChargeSeq": SEQ2, "TotalPower": D("15.50"), "TotalMoney": D("24.80")},
            ],
        },
        {
            "CheckOrderSeq": SEQ,
            "StartTime": "2024-05-13 00:00:00",
            "EndTime": "2024-05-13 23:59:59",
            "TotalDisputeOrder": 0,
            "TotalDisputePower": 0,
            "TotalDisputeMoney": 0,
            "DisputeOrders": [],
        },
    ),
}


def example(interface: str, side: int = 0) -> dict[str, Any]:
    """A fresh deep copy of an example (0 = request Data, 1 = response Data) that tests may mutate."""
    return copy.deepcopy(EXAMPLES[interface][side])


def test_every_interface_has_examples() -> None:
    assert set(EXAMPLES) == set(INTERFACES)
    assert len(INTERFACES) == 16


@pytest.mark.parametrize("interface", sorted(EXAMPLES))
@pytest.mark.parametrize("side", [0, 1], ids=["request", "response"])
def test_example_is_valid(interface: str, side: int) -> None:
    struct: Struct = INTERFACES[interface][side]
    payload = example(interface, side)
    assert validate(payload, struct) == []
    # …and still valid after the wire round trip (numbers with a point come back as Decimal, others as int).
    assert validate(loads(dumps(payload)), struct) == []


@pytest.mark.parametrize("interface", sorted(EXAMPLES))
@pytest.mark.parametrize("side", [0, 1], ids=["request", "response"])
def test_only_required_fields_is_valid(interface: str, side: int) -> None:
    """Dropping every optional field (recursively) keeps an example valid."""
    struct = INTERFACES[interface][side]

    def strip(payload: dict[str, Any], spec: Struct) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for field in spec.fields:
            if field.name not in payload or not field.required:
                continue
            value = payload[field.name]
            nested = getattr(field, "struct", None)
            if nested is not None and isinstance(value, dict):
                value = strip(value, nested)
            elif nested is not None and isinstance(value, list):
                value = [strip(v, nested) for v in value]
            kept[field.name] = value
        return kept

    stripped = strip(example(interface, side), struct)
    if (interface, side) == ("query_token", 1):
        stripped["AccessToken"] = "token"  # optional in the table, but required on success (SuccStat 0)
    # SumPeriod goes with ChargeDetails (both optional), so stripping keeps the pair consistent.
    assert validate(stripped, struct) == []


def test_unknown_keys_are_ignored() -> None:
    payload = example("notification_equip_charge_status")
    payload |= {"SOC": "56", "ElectMoney": None, "PlateNum": ["x"], "ChargeModel": 1}
    payload["ChargeDetails"][0]["Extra"] = {"nested": True}
    assert validate(payload, INTERFACES["notification_equip_charge_status"][0]) == []


def test_null_optional_and_blank_optional_strings_count_as_absent() -> None:
    payload = station(1, 1)
    payload |= {"StationTel": None, "SiteGuide": "", "SupportOrder": None, "Pictures": None}
    payload["EquipmentInfos"][0] |= {"ProductionDate": "", "EquipmentLng": None, "ManufacturerID": ""}
    assert validate(payload, INTERFACES["query_stations_info"][1].by_name["StationInfos"].struct) == []  # type: ignore[attr-defined]
    assert validate({"LastQueryTime": ""}, INTERFACES["query_stations_info"][0]) == []
    assert validate({}, INTERFACES["query_stations_info"][0]) == []
