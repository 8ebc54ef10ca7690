"""Reads of indicators: the trace of a stored value down to the rows it came from (spec §7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from apps.orders.models import ChargeOrder
from apps.orders.selectors import with_trusted_times

from .models import Indicator, Level, Period
from .timeline import connector_days, day_bounds

_ORDER_CODES = {"UTIL_E", "SESS_OK", "FALSE_FREE", "FALSE_BUSY", "PRICE_AVG", "PRICE_INDEX", "TARIFF_MISMATCH",
                "T_ORDER", "T_BONUS"}  # fmt: skip


def _local(moment: float | datetime) -> str:
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, tz=timezone.get_default_timezone())
    return timezone.localtime(moment).isoformat()


def indicator_trace(indicator: Indicator) -> dict[str, Any]:
    """What a day value of a connector or station was computed from: each connector's timeline (its pieces: from,
    to, state, reported status) recomputed from the history as it stands, and for the order-based codes the orders
    that ended that day. Timeliness and data-quality rows carry their late, missed and sample items in `details`."""
    trace: dict[str, Any] = {"code": indicator.code, "level": indicator.level, "target": indicator.target,
                             "start": indicator.start.isoformat(), "details": indicator.details}  # fmt: skip
    if indicator.period != Period.DAY or indicator.level not in (Level.CONNECTOR, Level.STATION):
        return trace
    day = indicator.start
    start, end = day_bounds(day)
    connectors = []
    for cd in connector_days(day, operator_ids=[indicator.operator_id] if indicator.operator_id else None):
        if cd.station_pk != indicator.station_id:
            continue
        if indicator.level == Level.CONNECTOR and cd.pk != indicator.connector_id:
            continue
        connectors.append({
            "ConnectorID": cd.connector_id,
            "durations": cd.durations(),
            "timeline": [{"from": _local(p.start), "to": _local(p.end), "state": p.state, "Status": p.status}
                         for p in cd.pieces],
        })  # fmt: skip
    trace["connectors"] = connectors
    if indicator.code in _ORDER_CODES:
        orders = with_trusted_times(ChargeOrder.objects.filter(end_time__gte=start, end_time__lt=end))
        if indicator.level == Level.CONNECTOR:
            orders = orders.filter(connector_id=indicator.connector_id)
        else:
            orders = orders.filter(connector__station_id=indicator.station_id)
        trace["orders"] = [
            {"StartChargeSeq": seq, "ConnectorID": code, "StartTime": _local(begun), "EndTime": _local(ended),
             "TotalPower": float(power) if power is not None else None,
             "TotalMoney": float(money) if money is not None else None}
            for seq, code, begun, ended, power, money in orders.order_by("end_time").values_list(
                "start_charge_seq", "connector_code", "start_time", "end_time", "total_power", "total_money")
        ]  # fmt: skip
    return trace
