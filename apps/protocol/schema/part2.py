"""T/CEC 102.2 (public information): stations, their status and statistics, and notification_stationStatus forms."""

from __future__ import annotations

from typing import Any

from .engine import (
    MAX_ITEMS,
    SEQUENCE,
    VOLTAGE_ORDER,
    Date,
    DateTime,
    Int,
    List,
    Obj,
    OperatorID,
    Problem,
    Str,
    Struct,
    is_date,
    join_path,
    show,
    time_order_rule,
    unique_into,
    validate,
)
from .fields import (
    CONNECTOR_ID,
    EQUIPMENT_ID,
    STATION_ID,
    count,
    energy,
    lat,
    lng,
    power,
)


def _voltage_rule(payload: dict[Any, Any], path: str, out: list[Problem]) -> None:
    low, high = payload.get("VoltageLowerLimits"), payload.get("VoltageUpperLimits")
    if (
        isinstance(low, int)
        and isinstance(high, int)
        and not isinstance(low, bool)
        and not isinstance(high, bool)
        and low > high
    ):
        where = join_path(path, "VoltageLowerLimits")
        out.append(
            Problem(
                where,
                VOLTAGE_ORDER,
                f"{where}（额定电压下限）{show(low)}不能大于VoltageUpperLimits（额定电压上限）{show(high)}",
            )
        )


def _station_unique_rule(payload: dict[Any, Any], path: str, out: list[Problem]) -> None:
    """EquipmentID and ConnectorID are unique per operator, so they cannot repeat within one station."""
    equipments = payload.get("EquipmentInfos")
    if not isinstance(equipments, SEQUENCE):
        return
    base = join_path(path, "EquipmentInfos")
    equipment_ids: set[str] = set()
    connector_ids: set[str] = set()
    for i, equipment in enumerate(equipments):
        if not isinstance(equipment, dict):
            continue
        unique_into(equipment.get("EquipmentID"), EQUIPMENT_ID, f"{base}[{i}].EquipmentID", equipment_ids, out)
        connectors = equipment.get("ConnectorInfos")
        if not isinstance(connectors, SEQUENCE):
            continue
        for j, connector in enumerate(connectors):
            if isinstance(connector, dict):
                where = f"{base}[{i}].ConnectorInfos[{j}].ConnectorID"
                unique_into(connector.get("ConnectorID"), CONNECTOR_ID, where, connector_ids, out)


# --------------------------------------------------------------------------------------------------------------------
# Part 2 structures (public information)
# --------------------------------------------------------------------------------------------------------------------

OPERATOR_INFO = Struct(
    "OperatorInfo",
    "充电运营商信息",
    [
        OperatorID("OperatorID", "运营商ID"),
        Str("OperatorName", "运营商名称", max_len=64),
        Str("OperatorTel1", "运营商电话1", max_len=32),
        Str("OperatorTel2", "运营商电话2", required=False, max_len=32),
        Str("OperatorRegAddress", "运营商注册地址", required=False, max_len=64),
        Str("OperatorNote", "备注", required=False, max_len=255),
    ],
)

CONNECTOR_INFO = Struct(
    "ConnectorInfo",
    "充电设备接口信息",
    [
        CONNECTOR_ID,
        Str("ConnectorName", "充电设备接口名称", required=False, max_len=30),
        Int("ConnectorType", "充电设备接口类型", choices=(1, 2, 3, 4, 5, 6)),
        count("VoltageUpperLimits", "额定电压上限"),
        count("VoltageLowerLimits", "额定电压下限"),
        count("Current", "额定电流"),
        power("Power", "额定功率"),
        Str("ParkNo", "车位号", required=False, max_len=10),
        Int("NationalStandard", "国家标准", choices=(1, 2)),
    ],
    rules=[_voltage_rule],
)

EQUIPMENT_INFO = Struct(
    "EquipmentInfo",
    "充电设备信息",
    [
        EQUIPMENT_ID,
        # 9 characters like an OperatorID, but a manufacturer is not a protocol party: length only.
        Str("ManufacturerID", "设备生产商组织机构代码", required=False, fixed_len=9),
        Str("ManufacturerName", "设备生产商名称", required=False, max_len=30),
        Str("EquipmentModel", "设备型号", required=False, max_len=20),
        Date("ProductionDate", "设备生产日期", required=False),
        Int("EquipmentType", "设备类型", choices=(1, 2, 3, 4, 5)),
        List("ConnectorInfos", "充电设备接口列表", CONNECTOR_INFO),
        lng("EquipmentLng", "充电设备经度", required=False),
        lat("EquipmentLat", "充电设备纬度", required=False),
        power("Power", "充电设备总功率"),
        Str("EquipmentName", "充电设备名称", required=False, max_len=30),
    ],
)

STATION_INFO = Struct(
    "StationInfo",
    "充电站信息",
    [
        STATION_ID,
        OperatorID("OperatorID", "运营商ID"),
        OperatorID("EquipmentOwnerID", "设备所属方ID"),
        Str("StationName", "充电站名称", max_len=50),
        Str("CountryCode", "充电站国家代码", fixed_len=2),
        Str("AreaCode", "充电站省市辖区编码", max_len=20),
        Str("Address", "详细地址", max_len=50),
        Str("StationTel", "站点电话", required=False, max_len=30),
        Str("ServiceTel", "服务电话", max_len=30),
        Int("StationType", "站点类型", choices=(1, 50, 100, 101, 102, 103, 255)),
        Int("StationStatus", "站点状态", choices=(0, 1, 5, 6, 50)),
        count("ParkNums", "车位数量"),
        lng("StationLng", "经度"),
        lat("StationLat", "纬度"),
        Str("SiteGuide", "站点引导", required=False, max_len=100),
        Int("Construction", "建设场所", choices=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255)),
        List("Pictures", "站点照片", Str(), required=False),
        Str("MatchCars", "使用车型描述", required=False, max_len=100),
        Str("ParkInfo", "车位楼层及数量描述", required=False, max_len=100),
        Str("BusineHours", "营业时间", required=False, max_len=100),
        Str("ElectricityFee", "充电电费率", required=False, max_len=256),
        Str("ServiceFee", "服务费率", required=False, max_len=100),
        Str("ParkFee", "停车费", required=False, max_len=100),
        Str("Payment", "支付方式", required=False, max_len=20),
        Int("SupportOrder", "是否支持预约", required=False, choices=(0, 1)),
        Str("Remark", "备注", required=False, max_len=100),
        List("EquipmentInfos", "充电设备信息列表", EQUIPMENT_INFO),
    ],
    rules=[_station_unique_rule],
)

CONNECTOR_STATUS_INFO = Struct(
    "ConnectorStatusInfo",
    "充电设备接口状态",
    [
        CONNECTOR_ID,
        Int("Status", "充电设备接口状态", choices=(0, 1, 2, 3, 4, 255)),
        Int("ParkStatus", "车位状态", required=False, choices=(0, 10, 50)),
        Int("LockStatus", "地锁状态", required=False, choices=(0, 10, 50)),
    ],
)

STATION_STATUS_INFO = Struct(
    "StationStatusInfo",
    "充电站状态信息",
    [
        STATION_ID,
        List("ConnectorStatusInfos", "充电设备接口状态列表", CONNECTOR_STATUS_INFO, unique_by="ConnectorID"),
    ],
)

CONNECTOR_STATS_INFO = Struct(
    "ConnectorStatsInfo",
    "充电设备接口统计信息",
    [
        CONNECTOR_ID,
        energy("ConnectorElectricity", "充电设备接口累计电量", 1, required=False, digits=14),
    ],
)

EQUIPMENT_STATS_INFO = Struct(
    "EquipmentStatsInfo",
    "充电设备统计信息",
    [
        EQUIPMENT_ID,
        energy("EquipmentElectricity", "充电设备累计电量", 1, digits=14),
        List("ConnectorStatsInfos", "充电设备接口统计信息列表", CONNECTOR_STATS_INFO),
    ],
)

STATION_STATS_INFO = Struct(
    "StationStatsInfo",
    "充电站统计信息",
    [
        STATION_ID,
        Date("StartTime", "统计开始时间"),
        Date("EndTime", "统计结束时间"),
        energy("StationElectricity", "充电站累计电量", 1, digits=14),
        List("EquipmentStatsInfos", "充电设备统计信息列表", EQUIPMENT_STATS_INFO),
    ],
    rules=[time_order_rule("StartTime", "统计开始时间", "EndTime", "统计结束时间", is_date)],
)

# --------------------------------------------------------------------------------------------------------------------
# Interface Data structs: request (what the caller sends) and response (what the implementer answers)
# --------------------------------------------------------------------------------------------------------------------

QUERY_STATIONS_INFO_REQUEST = Struct(
    "query_stations_info.request",
    "查询充电站信息请求参数",
    [
        DateTime("LastQueryTime", "上次查询时间", required=False),  # "" or absent: full load
        count("PageNo", "查询页码", required=False, low=1),
        count("PageSize", "每页数量", required=False, low=1),
    ],
)
QUERY_STATIONS_INFO_RESPONSE = Struct(
    "query_stations_info.response",
    "查询充电站信息返回参数",
    [
        count("PageNo", "当前页数", low=1),
        count("PageCount", "页码总数"),
        count("ItemSize", "总记录条数"),
        List("StationInfos", "充电站信息列表", STATION_INFO),
    ],
)

NOTIFICATION_STATION_STATUS_REQUEST = Struct(
    "notification_stationStatus.request",
    "设备状态变化推送请求参数",
    [Obj("ConnectorStatusInfo", "充电设备接口状态", CONNECTOR_STATUS_INFO)],
)
NOTIFICATION_STATION_STATUS_RESPONSE = Struct(
    "notification_stationStatus.response",
    "设备状态变化推送返回参数",
    [Int("Status", "状态", choices=(0, 1))],
)

QUERY_STATION_STATUS_REQUEST = Struct(
    "query_station_status.request",
    "设备接口状态查询请求参数",
    [List("StationIDs", "充电站ID列表", Str(max_len=20), max_items=50)],
)
QUERY_STATION_STATUS_RESPONSE = Struct(
    "query_station_status.response",
    "设备接口状态查询返回参数",
    [
        # "Y*": in the standard's example and every implementation, not in its table; absent is tolerated.
        count("Total", "总数", required=False),
        List("StationStatusInfos", "充电站状态信息列表", STATION_STATUS_INFO),
    ],
)

QUERY_STATION_STATS_REQUEST = Struct(
    "query_station_stats.request",
    "查询统计信息请求参数",
    [
        STATION_ID,
        Date("StartTime", "统计开始时间"),
        Date("EndTime", "统计结束时间"),
    ],
    rules=[time_order_rule("StartTime", "统计开始时间", "EndTime", "统计结束时间", is_date)],
)
QUERY_STATION_STATS_RESPONSE = Struct(
    "query_station_stats.response",
    "查询统计信息返回参数",
    [Obj("StationStats", "充电站统计信息", STATION_STATS_INFO)],
)


# --------------------------------------------------------------------------------------------------------------------
# notification_stationStatus: the standard object body, and the arrays some peers push instead
# --------------------------------------------------------------------------------------------------------------------

_STATUS_KEYS = ("ConnectorStatusInfo", "ConnectorStatusInfos")
_STATUS_ARRAYS = {
    key: List(key, "充电设备接口状态列表", CONNECTOR_STATUS_INFO, min_items=1, unique_by="ConnectorID")
    for key in _STATUS_KEYS
}


def status_infos(payload: Any) -> list[Any]:
    """The pushed ConnectorStatusInfo items, whether the peer sent the standard object or an array.

    Accepts `{"ConnectorStatusInfo": {…}}`, `{"ConnectorStatusInfo": [...]}` and `{"ConnectorStatusInfos": [...]}`;
    anything else gives []. Items are returned as sent (validate each against CONNECTOR_STATUS_INFO).
    """
    if not isinstance(payload, dict):
        return []
    single = payload.get("ConnectorStatusInfo")
    if isinstance(single, dict):
        return [single]
    for key in _STATUS_KEYS:
        items = payload.get(key)
        if isinstance(items, SEQUENCE):
            return list(items)
    return []


def validate_status_notification(payload: Any, *, max_items: int | None = None) -> list[Problem]:
    """validate() for notification_stationStatus that also accepts the array forms (paths like `…Infos[2].Status`),
    of at most `max_items` items when given (the standard form carries one)."""
    if isinstance(payload, dict) and not isinstance(payload.get("ConnectorStatusInfo"), dict):
        for key in _STATUS_KEYS:
            items = payload.get(key)
            if isinstance(items, SEQUENCE):
                out: list[Problem] = []
                if max_items is not None and len(items) > max_items:
                    spec = _STATUS_ARRAYS[key]
                    out.append(spec.problem(key, MAX_ITEMS, f"一次最多{max_items}项，实际为{len(items)}项"))
                    return out
                _STATUS_ARRAYS[key].check(items, key, out)
                return out
    return validate(payload, NOTIFICATION_STATION_STATUS_REQUEST)
