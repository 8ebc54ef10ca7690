"""Every number of the schema is bounded, and each bound fits the column that stores the field (issue 21 item 6)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.orders.models import ChargeDetail, ChargeOrder
from apps.pricing.models import PolicyPeriod
from apps.protocol import schema
from apps.settlement.models import ReconciliationRun
from apps.stations.models import Connector, Equipment, Station, StationStats

# (struct, field) → (model, column): where the portal stores what the field carries.
COLUMNS = [
    (schema.NOTIFICATION_CHARGE_ORDER_INFO_REQUEST, "TotalMoney", ChargeOrder, "total_money"),
    (schema.NOTIFICATION_CHARGE_ORDER_INFO_REQUEST, "TotalPower", ChargeOrder, "total_power"),
    (schema.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_REQUEST, "ConnectorPower", ChargeOrder, "connector_power"),
    (schema.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_REQUEST, "MeterValueEnd", ChargeOrder, "meter_value_end"),
    (schema.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_REQUEST, "ChargeLast", ChargeOrder, "charge_last"),
    (schema.CHARGE_DETAIL, "ElecPrice", ChargeDetail, "elec_price"),
    (schema.CHARGE_DETAIL, "DetailSeviceMoney", ChargeDetail, "detail_sevice_money"),
    (schema.POLICY_INFO, "SevicePrice", PolicyPeriod, "sevice_price"),
    (schema.CHECK_CHARGE_ORDERS_REQUEST, "TotalOrderMoney", ReconciliationRun, "total_order_money"),
    (schema.CHECK_CHARGE_ORDERS_REQUEST, "TotalOrderPower", ReconciliationRun, "total_order_power"),
    (schema.CHECK_CHARGE_ORDERS_REQUEST, "OrderCount", ReconciliationRun, "order_count"),
    (schema.CONNECTOR_INFO, "Power", Connector, "power"),
    (schema.CONNECTOR_INFO, "Current", Connector, "current"),
    (schema.EQUIPMENT_INFO, "Power", Equipment, "power"),
    (schema.STATION_INFO, "ParkNums", Station, "park_nums"),
    (schema.STATION_STATS_INFO, "StationElectricity", StationStats, "station_electricity"),
]


@pytest.mark.parametrize(("struct", "name", "model", "column"), COLUMNS, ids=lambda v: getattr(v, "name", str(v)))
def test_each_bound_is_its_columns(struct, name, model, column):
    spec, field = struct.field(name), model._meta.get_field(column)
    if field.get_internal_type() == "DecimalField":
        largest = Decimal(10) ** (field.max_digits - field.decimal_places) - Decimal(1).scaleb(-field.decimal_places)
        assert spec.max == largest and spec.scale <= field.decimal_places
    else:
        assert spec.max <= 2**31 - 1


def _structs():
    seen, todo = set(), [s for pair in schema.INTERFACES.values() for s in pair]
    while todo:
        struct = todo.pop()
        if struct.name in seen:
            continue
        seen.add(struct.name)
        yield struct
        for spec in struct.fields:
            inner = getattr(spec, "struct", None)
            if inner is not None:
                todo.append(inner)


def test_every_number_of_every_interface_is_bounded_on_both_sides():
    unbounded = [
        f"{struct.name}.{spec.name}"
        for struct in _structs()
        for spec in struct.fields
        if isinstance(spec, schema.Int | schema.Num)
        and getattr(spec, "choices", None) is None
        and (spec.min is None or spec.max is None)
    ]
    assert unbounded == []
