"""Data-quality rules for station records operators send: the spec's structure (schema.py) plus what Beijing needs.

The regulators' catalogue of every rule code with its Chinese name is apps/supervision/rules.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from apps.protocol import schema
from apps.protocol.beijing import CHINA, CITY, DISTRICTS, MARGIN
from apps.protocol.schema import Problem

# public-information.md appendix: the GB/T 2260 codes of Beijing's 16 districts.
BEIJING_AREA_CODES = frozenset(DISTRICTS)
MAX_POWER_KW = {1: Decimal("1000"), 2: Decimal("44"), 3: Decimal("1000"), 4: Decimal("1000"), 5: Decimal("1000")}
MAX_VOLTAGE = 1500

# Rule codes Beijing adds to the schema's (see apps/protocol/schema/engine.py for those).
OPERATOR_RULE: Final = "operator"
AREA_CODE_RULE: Final = "area_code"
CHINA_RULE: Final = "china"
BEIJING_RULE: Final = "beijing"
DISTRICT_RULE: Final = "district"
POWER_RULE: Final = "power"
VOLTAGE_RULE: Final = "voltage"
DIRECTORY_RULE: Final = "directory"  # passed the schema, refused by the directory's own validation
PENDING_LIMIT_RULE: Final = "pending_limit"  # a status of an unknown connector, beyond HLHT_MAX_PENDING_STATUSES


def station_problems(info: Any, *, operator_id: str) -> list[Problem]:
    """Every rule a StationInfo breaks; an empty list means it may be stored."""
    problems = schema.validate(info, schema.STATION_INFO)
    if problems or not isinstance(info, dict):
        return problems  # the checks below assume a well-formed record
    if info["OperatorID"] != operator_id:
        problems.append(
            Problem("OperatorID", OPERATOR_RULE, f"OperatorID（运营商ID）{info['OperatorID']} 不是调用方 {operator_id}")
        )
    if info["AreaCode"] not in BEIJING_AREA_CODES:
        problems.append(
            Problem(
                "AreaCode", AREA_CODE_RULE, f"AreaCode（充电站省市辖区编码）{info['AreaCode']} 不是北京市的区县代码"
            )
        )
    lng, lat = info["StationLng"], info["StationLat"]
    district = DISTRICTS.get(info["AreaCode"])
    # One coordinate problem at most: a point in Paris is reported as outside China, not also outside Chaoyang.
    if not CHINA.contains(lng, lat):
        problems.append(Problem("StationLng", CHINA_RULE, f"坐标（{lng}, {lat}）不在中国境内"))
    elif not CITY.contains(lng, lat, MARGIN):
        problems.append(Problem("StationLng", BEIJING_RULE, f"坐标（{lng}, {lat}）不在北京市范围内"))
    elif district is not None and not district.contains(lng, lat):
        problems.append(
            Problem(
                "StationLng",
                DISTRICT_RULE,
                f"坐标（{lng}, {lat}）不在AreaCode {district.code}（{district.name}）的范围内，请核对区县代码或经纬度",
            )
        )
    for i, equipment in enumerate(info["EquipmentInfos"]):
        path = f"EquipmentInfos[{i}]"
        limit = MAX_POWER_KW.get(equipment["EquipmentType"], Decimal("1000"))
        if Decimal(equipment["Power"]) > limit:
            problems.append(
                Problem(
                    f"{path}.Power",
                    POWER_RULE,
                    f"{path}.Power（充电设备总功率）{equipment['Power']} kW 超过该类设备的合理上限 {limit} kW",
                )
            )
        for j, connector in enumerate(equipment["ConnectorInfos"]):
            cpath = f"{path}.ConnectorInfos[{j}]"
            if Decimal(connector["Power"]) > Decimal(equipment["Power"]) + Decimal("0.1"):
                problems.append(Problem(f"{cpath}.Power", POWER_RULE, f"{cpath}.Power（额定功率）大于所属设备的总功率"))
            if connector["VoltageUpperLimits"] > MAX_VOLTAGE:
                problems.append(
                    Problem(
                        f"{cpath}.VoltageUpperLimits",
                        VOLTAGE_RULE,
                        f"{cpath}.VoltageUpperLimits（额定电压上限）超过 {MAX_VOLTAGE} V",
                    )
                )
    return problems


def page_conflicts(info: dict[str, Any], claimed: dict[tuple[str, str], str]) -> list[Problem]:
    """IDs a valid StationInfo shares with an earlier station of the same page; `claimed` maps (kind, id) to the
    StationID that listed it first and learns this record's IDs when it has no conflict.

    StationID, EquipmentID and ConnectorID are each unique within an operator. When two stations of one answer
    claim the same pile or connector the portal cannot tell which is right, so it keeps the first and rejects the
    later one with the reason (rather than silently moving the connector between them).
    """
    station_id = info["StationID"]
    ids = [("StationID", station_id)]
    ids += [("EquipmentID", e["EquipmentID"]) for e in info["EquipmentInfos"]]
    ids += [("ConnectorID", c["ConnectorID"]) for e in info["EquipmentInfos"] for c in e["ConnectorInfos"]]
    problems = [
        Problem(
            kind,
            schema.UNIQUE,
            f"{kind} {value} 已由本页的充电站 {claimed[(kind, value)]} 列出，同一运营商内编码应唯一",
        )
        for kind, value in ids
        if (kind, value) in claimed
    ]
    if not problems:
        claimed.update(dict.fromkeys(ids, station_id))
    return problems
