"""Data-quality rules for records operators send: the spec's structure (schema.py) plus what Beijing needs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from .geography import DISTRICTS
from .protocol import schema
from .protocol.schema import Problem

# public-information.md appendix: the GB/T 2260 codes of Beijing's 16 districts.
BEIJING_AREA_CODES = frozenset(DISTRICTS)
# Mainland China's extent, and Beijing's (GCJ-02 shifts WGS-84 by a few hundred metres; both hold in either).
CHINA = (Decimal("73.4"), Decimal("135.1"), Decimal("18.1"), Decimal("53.6"))
BEIJING = (Decimal("115.4"), Decimal("117.5"), Decimal("39.4"), Decimal("41.1"))
MAX_POWER_KW = {1: Decimal("1000"), 2: Decimal("44"), 3: Decimal("1000"), 4: Decimal("1000"), 5: Decimal("1000")}
MAX_VOLTAGE = 1500

# Rule codes Beijing adds to the schema's (see protocol/schema.py for those).
OPERATOR_RULE: Final = "operator"
AREA_CODE_RULE: Final = "area_code"
CHINA_RULE: Final = "china"
BEIJING_RULE: Final = "beijing"
DISTRICT_RULE: Final = "district"
POWER_RULE: Final = "power"
VOLTAGE_RULE: Final = "voltage"

# Chinese names of every rule code a RejectedRecord can carry, for the admin's data-quality report.
RULE_LABELS: dict[str, str] = {
    schema.REQUIRED: "必填项缺失",
    schema.TYPE: "数据类型错误",
    schema.MIN_LEN: "长度过短",
    schema.MAX_LEN: "长度超限",
    schema.FIXED_LEN: "定长不符（如9位ID）",
    schema.ENUM: "取值不在枚举内",
    schema.SCALE: "小数位数不符",
    schema.RANGE: "数值超出范围",
    schema.FORMAT: "格式错误",
    schema.MIN_ITEMS: "列表项过少",
    schema.MAX_ITEMS: "列表项过多",
    schema.UNIQUE: "编码重复",
    schema.COUNT: "数量与列表不符",
    schema.TIME_ORDER: "时间先后颠倒",
    schema.VOLTAGE_ORDER: "电压上下限颠倒",
    schema.CONSISTENCY: "金额或电量不一致",
    OPERATOR_RULE: "运营商ID与调用方不符",
    AREA_CODE_RULE: "非北京市区县代码",
    CHINA_RULE: "坐标不在中国境内",
    BEIJING_RULE: "坐标不在北京市",
    DISTRICT_RULE: "坐标与所属区县不符",
    POWER_RULE: "功率超出合理范围",
    VOLTAGE_RULE: "电压超出合理范围",
    "directory": "入库校验失败",
    "unknown": "未注明规则",
}


def rule_label(code: str) -> str:
    """The Chinese name of a rule code; an unknown code is shown as itself."""
    return RULE_LABELS.get(code, code)


def _inside(lng: Any, lat: Any, box: tuple[Decimal, ...]) -> bool:
    return box[0] <= Decimal(lng) <= box[1] and box[2] <= Decimal(lat) <= box[3]


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
    if not _inside(lng, lat, CHINA):
        problems.append(Problem("StationLng", CHINA_RULE, f"坐标（{lng}, {lat}）不在中国境内"))
    elif not _inside(lng, lat, BEIJING):
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
