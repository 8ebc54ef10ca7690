"""Data-quality rules for records operators send: the spec's structure (schema.py) plus what Beijing needs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .protocol import schema
from .protocol.schema import Problem

# public-information.md appendix: the GB/T 2260 codes of Beijing's 16 districts.
BEIJING_AREA_CODES = frozenset(f"1101{n:02d}" for n in (1, 2, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19))
# Mainland China's extent, and Beijing's (GCJ-02 shifts WGS-84 by a few hundred metres; both hold in either).
CHINA = (Decimal("73.4"), Decimal("135.1"), Decimal("18.1"), Decimal("53.6"))
BEIJING = (Decimal("115.4"), Decimal("117.5"), Decimal("39.4"), Decimal("41.1"))
MAX_POWER_KW = {1: Decimal("1000"), 2: Decimal("44"), 3: Decimal("1000"), 4: Decimal("1000"), 5: Decimal("1000")}
MAX_VOLTAGE = 1500


def _inside(lng: Any, lat: Any, box: tuple[Decimal, ...]) -> bool:
    return box[0] <= Decimal(lng) <= box[1] and box[2] <= Decimal(lat) <= box[3]


def station_problems(info: Any, *, operator_id: str) -> list[Problem]:
    """Every rule a StationInfo breaks; an empty list means it may be stored."""
    problems = schema.validate(info, schema.STATION_INFO)
    if problems or not isinstance(info, dict):
        return problems  # the checks below assume a well-formed record
    if info["OperatorID"] != operator_id:
        problems.append(
            Problem("OperatorID", "operator", f"OperatorID（运营商ID）{info['OperatorID']} 不是调用方 {operator_id}")
        )
    if info["AreaCode"] not in BEIJING_AREA_CODES:
        problems.append(
            Problem("AreaCode", "area_code", f"AreaCode（充电站省市辖区编码）{info['AreaCode']} 不是北京市的区县代码")
        )
    lng, lat = info["StationLng"], info["StationLat"]
    if not _inside(lng, lat, CHINA):
        problems.append(Problem("StationLng", "china", f"坐标（{lng}, {lat}）不在中国境内"))
    elif not _inside(lng, lat, BEIJING):
        problems.append(Problem("StationLng", "beijing", f"坐标（{lng}, {lat}）不在北京市范围内"))
    for i, equipment in enumerate(info["EquipmentInfos"]):
        path = f"EquipmentInfos[{i}]"
        limit = MAX_POWER_KW.get(equipment["EquipmentType"], Decimal("1000"))
        if Decimal(equipment["Power"]) > limit:
            problems.append(
                Problem(
                    f"{path}.Power",
                    "power",
                    f"{path}.Power（充电设备总功率）{equipment['Power']} kW 超过该类设备的合理上限 {limit} kW",
                )
            )
        for j, connector in enumerate(equipment["ConnectorInfos"]):
            cpath = f"{path}.ConnectorInfos[{j}]"
            if Decimal(connector["Power"]) > Decimal(equipment["Power"]) + Decimal("0.1"):
                problems.append(Problem(f"{cpath}.Power", "power", f"{cpath}.Power（额定功率）大于所属设备的总功率"))
            if connector["VoltageUpperLimits"] > MAX_VOLTAGE:
                problems.append(
                    Problem(
                        f"{cpath}.VoltageUpperLimits",
                        "voltage",
                        f"{cpath}.VoltageUpperLimits（额定电压上限）超过 {MAX_VOLTAGE} V",
                    )
                )
    return problems
