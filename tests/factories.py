"""Small builders for valid domain rows; tests override only what they are about."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from apps.operators.models import Operator
from apps.orders.models import ChargeOrder
from apps.stations import choices as sc
from apps.stations.models import Connector, Equipment, Station

SHANGHAI = ZoneInfo("Asia/Shanghai")
_counter = itertools.count(1)


def operator(operator_id: str = "123456789", **overrides) -> Operator:
    values = {"operator_name": f"测试运营商{operator_id}", "operator_tel1": "400-000-0000", "status": "active"}
    values.update(overrides)
    return Operator.objects.create(operator_id=operator_id, **values)


def station(op: Operator, station_id: str | None = None, **overrides) -> Station:
    values = {
        "equipment_owner_id": op.operator_id,
        "station_name": "测试充电站",
        "area_code": "110105",
        "address": "北京市朝阳区测试路1号",
        "service_tel": "400-000-0000",
        "station_type": sc.StationType.PUBLIC,
        "station_status": sc.StationStatus.NORMAL,
        "station_lng": Decimal("116.461286"),
        "station_lat": Decimal("39.909604"),
        "construction": sc.Construction.OFFICE,
    }
    values.update(overrides)
    return Station.objects.create(
        operator=op, station_id=station_id if station_id is not None else f"S{next(_counter)}", **values
    )


def equipment(st: Station, equipment_id: str | None = None, **overrides) -> Equipment:
    values = {"equipment_type": sc.EquipmentType.DC, "power": Decimal("120.0")}
    values.update(overrides)
    return Equipment.objects.create(
        operator=st.operator,
        station=st,
        equipment_id=equipment_id if equipment_id is not None else f"E{next(_counter)}",
        **values,
    )


def connector(eq: Equipment, connector_id: str | None = None, **overrides) -> Connector:
    values = {
        "connector_type": sc.ConnectorType.DC_GUN,
        "voltage_upper_limits": 750,
        "voltage_lower_limits": 200,
        "current": 250,
        "power": Decimal("60.0"),
        "national_standard": sc.NationalStandard.GB2015,
    }
    values.update(overrides)
    return Connector.objects.create(
        operator=eq.operator,
        station=eq.station,
        equipment=eq,
        connector_id=connector_id if connector_id is not None else f"C{next(_counter)}",
        **values,
    )


def order(conn: Connector, **overrides) -> ChargeOrder:
    values = {
        "start_charge_seq": f"{conn.operator_id}20240101120000{next(_counter):04d}",
        "start_time": datetime(2024, 1, 1, 12, 0, tzinfo=SHANGHAI),
        "end_time": datetime(2024, 1, 1, 12, 45, tzinfo=SHANGHAI),
        "total_power": Decimal("30.00"),
        "total_elec_money": Decimal("21.00"),
        "total_sevice_money": Decimal("24.00"),
        "total_money": Decimal("45.00"),
        "stop_reason": 0,
    }
    values = {"operator": conn.operator, "connector": conn, "connector_code": conn.connector_id, **values}
    values.update(overrides)
    return ChargeOrder.objects.create(**values)
