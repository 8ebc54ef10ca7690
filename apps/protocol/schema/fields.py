"""The field vocabulary the catalogue shares: one spec per meaning, and the bounds of the columns that store numbers."""

from __future__ import annotations

from decimal import Decimal

from .engine import (
    Int,
    Num,
    Serial27,
    Str,
    is_datetime,
)

SUCC_STAT = Int("SuccStat", "成功状态", choices=(0, 1))
SUCC_STAT_STOP = Int("SuccStat", "成功标识", choices=(0, 1))
CONNECTOR_ID = Str("ConnectorID", "充电设备接口编码", max_len=26)
EQUIPMENT_ID = Str("EquipmentID", "设备编码", max_len=23)
STATION_ID = Str("StationID", "充电站ID", max_len=20)
START_CHARGE_SEQ = Serial27("StartChargeSeq", "充电订单号")
START_CHARGE_SEQ_STAT = Int("StartChargeSeqStat", "充电订单状态", choices=(1, 2, 3, 4, 5))
CONFIRM_RESULT = Int("ConfirmResult", "确认结果", choices=(0, 1), custom=((2, 99),))
STOP_REASON = Int("StopReason", "充电结束原因", choices=(0, 1, 2, 3, 4), custom=((5, 99),))
SUM_PERIOD_OPT = Int("SumPeriod", "时段数N", required=False, min=0, max=32)
CHARGE_MODEL = Int("ChargeModel", "启动方式", choices=(0, 1, 2, 3))
# Receipt replies (start/stop result, order): 0 无, 1 接收失败, 2–99 自定义 (implied by the spec).
FAIL_REASON_RECEIPT = Int("FailReason", "失败原因", choices=(0, 1), custom=((2, 99),))
FAIL_REASON_STOP = (0, 1, 2, 3)


# Every number has the bounds of the column that stores it (numeric(p, s) holds less than 10**(p − s); integer up to
# 2**31 − 1), so a figure beyond it is a 4004 naming the field here, never a database error or Ret 500 later.
# tests/protocol/test_number_bounds.py holds these against the models' columns.
MAX_INTEGER = 2**31 - 1
# Measurements the portal does not store (phase currents and voltages): bounded all the same, generously.
MAX_MEASURE = 999_999


def column_max(digits: int, scale: int) -> Decimal:
    """The largest value numeric(digits, scale) holds, e.g. 9999999999.99 for (12, 2)."""
    return Decimal(10) ** (digits - scale) - Decimal(1).scaleb(-scale)


def money(name: str, label: str, *, required: bool = True, digits: int = 12) -> Num:
    return Num(name, label, required=required, scale=2, min=0, max=column_max(digits, 2))


def energy(name: str, label: str, scale: int = 2, *, required: bool = True, digits: int = 12) -> Num:
    return Num(name, label, required=required, scale=scale, min=0, max=column_max(digits, scale))


def price(name: str, label: str, *, required: bool = True) -> Num:
    return Num(name, label, required=required, scale=4, min=0, max=column_max(10, 4))


def power(name: str, label: str) -> Num:
    return Num(name, label, scale=1, min=0, max=column_max(7, 1))


def count(name: str, label: str, *, required: bool = True, low: int = 0) -> Int:
    return Int(name, label, required=required, min=low, max=MAX_INTEGER)


def measure(name: str, label: str, *, required: bool = True) -> Num:
    return Num(name, label, required=required, min=-MAX_MEASURE, max=MAX_MEASURE)


def lng(name: str, label: str, *, required: bool = True) -> Num:
    return Num(name, label, required=required, scale=6, min=-180, max=180)


def lat(name: str, label: str, *, required: bool = True) -> Num:
    return Num(name, label, required=required, scale=6, min=-90, max=90)


DT_ORDER = is_datetime  # format checker used by the time-order rules on yyyy-MM-dd HH:mm:ss pairs
