"""What the portal checks in an order an operator pushes, beyond its structure: the operator's own figures against each
other (a disagreement is a dispute), the money against the declared prices, and the facilities against the directory.

Every check returns Findings with a stable rule code and a Chinese message; none raises. Arithmetic is Decimal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from apps.pricing.models import BusinessPolicy
from apps.pricing.selectors import price_at
from apps.protocol import format_datetime, parse_datetime
from apps.stations.models import Connector

from .choices import FindingCategory

CENT = Decimal("0.01")
ZERO = Decimal(0)

# Rule codes: short, stable, machine-readable (supervision counts them).
MONEY_SUM = "money_sum"
SUM_PERIOD = "sum_period"
DETAIL_POWER_SUM = "detail_power_sum"
DETAIL_ELEC_SUM = "detail_elec_sum"
DETAIL_SERVICE_SUM = "detail_service_sum"
DETAIL_MONEY = "detail_money"
DETAIL_WINDOW = "detail_window"
METER_DELTA = "meter_delta"
CHARGE_LAST = "charge_last"
ENERGY_PLAUSIBLE = "energy_plausible"
CHARGE_MODEL = "charge_model"
NO_POLICY = "no_policy"
PRICE_DECLARED = "price_declared"
PRICE_MONEY = "price_money"
PRICE_UNCHECKED = "price_unchecked"
UNKNOWN_CONNECTOR = "unknown_connector"
FOREIGN_CONNECTOR = "foreign_connector"
REMOVED_CONNECTOR = "removed_connector"
STATION_MISMATCH = "station_mismatch"
EQUIPMENT_MISMATCH = "equipment_mismatch"
CONNECTOR_POWER = "connector_power"
REVISED = "revised_after_confirmation"
CHARGE_OVER_BOUND = "charge_over_bound"
SEQ_LENGTH = "seq_length"
TIME_IN_FUTURE = "time_in_future"
# Refusals of an order push (4004, a rejected record): the session it claims is not one the portal knows.
UNKNOWN_SESSION = "unknown_session"
SESSION_CONNECTOR = "session_connector"
REFUSALS = (UNKNOWN_SESSION, SESSION_CONNECTOR, UNKNOWN_CONNECTOR, FOREIGN_CONNECTOR)

RULE_LABELS: dict[str, str] = {
    MONEY_SUM: "总金额不等于电费与服务费之和",
    SUM_PERIOD: "时段数与明细条数不符",
    DETAIL_POWER_SUM: "明细电量之和与总电量不符",
    DETAIL_ELEC_SUM: "明细电费之和与总电费不符",
    DETAIL_SERVICE_SUM: "明细服务费之和与总服务费不符",
    DETAIL_MONEY: "明细金额与其电量×单价不符",
    DETAIL_WINDOW: "明细时段超出充电起止时间",
    METER_DELTA: "电表起止差与充电量不符",
    CHARGE_LAST: "充电时长与起止时间不符",
    ENERGY_PLAUSIBLE: "充电量超过额定功率×时长",
    CHARGE_MODEL: "启动方式与订单号不符",
    NO_POLICY: "无在用的业务策略",
    PRICE_DECLARED: "单价与备案的业务策略不符",
    PRICE_MONEY: "金额与电量×备案单价不符",
    PRICE_UNCHECKED: "无明细，无法核对价格",
    UNKNOWN_CONNECTOR: "充电接口不在充电站信息中",
    FOREIGN_CONNECTOR: "充电接口属于其他运营商",
    REMOVED_CONNECTOR: "充电接口已下线",
    STATION_MISMATCH: "充电站与接口不符",
    EQUIPMENT_MISMATCH: "充电设备与接口不符",
    CONNECTOR_POWER: "接口额定功率与充电站信息不符",
    REVISED: "已确认的订单被修改后重新推送",
    CHARGE_OVER_BOUND: "金额超过本次充电可能的最高金额（预授权、电量×备案单价）",
    SEQ_LENGTH: "奖励订单的充电订单号不是建议的27位",
    TIME_IN_FUTURE: "时间晚于平台收到订单的时间（运营商时钟不可信）",
    UNKNOWN_SESSION: "市级平台未启动该充电（订单号不存在）",
    SESSION_CONNECTOR: "充电接口与市级平台启动的充电不符",
}


@dataclass(frozen=True, slots=True)
class Tolerances:
    """How far figures may differ before they disagree (settings HLHT_ORDER_*, HLHT_PRICE_TOLERANCE)."""

    money: Decimal = CENT  # per sum or per detail
    meter: Decimal = CENT  # kWh between the meter's difference and TotalPower
    duration: int = 60  # seconds between ChargeLast and EndTime − StartTime
    power_margin: Decimal = Decimal("1.10")  # energy may exceed rated power × duration by this factor
    price: Decimal = CENT  # per detail between the money and energy × the declared policy's price
    bound_margin: Decimal = Decimal("0.05")  # a portal session's charge may exceed energy × the dearest price by this


@dataclass(frozen=True, slots=True)
class Finding:
    category: str
    rule: str
    path: str
    message: str
    disputes: bool = False


def _d(value: Any) -> Decimal | None:
    return Decimal(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else None


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _consistency(rule: str, path: str, message: str) -> Finding:
    return Finding(FindingCategory.CONSISTENCY, rule, path, message, disputes=True)


def consistency_findings(payload: dict[str, Any], *, rated_power: Decimal | None, tol: Tolerances) -> list[Finding]:
    """The operator's own figures against each other; each disagreement disputes the order (ConfirmResult 1)."""
    out: list[Finding] = []
    total, elec, service = (_d(payload.get(k)) for k in ("TotalMoney", "TotalElecMoney", "TotalSeviceMoney"))
    if total is not None and elec is not None and service is not None and abs(total - elec - service) > tol.money:
        out.append(
            _consistency(
                MONEY_SUM,
                "TotalMoney",
                f"TotalMoney（累计总金额）{total} 不等于总电费 {elec} 与总服务费 {service} 之和",
            )
        )
    details = payload.get("ChargeDetails") or []
    sum_period = payload.get("SumPeriod")
    if sum_period is not None and "ChargeDetails" in payload and sum_period != len(details):
        out.append(
            _consistency(
                SUM_PERIOD, "SumPeriod", f"SumPeriod（时段数）为 {sum_period}，ChargeDetails 有 {len(details)} 条"
            )
        )
    if details:
        out += _detail_findings(payload, details, tol)
    start, end = parse_datetime(payload["StartTime"]), parse_datetime(payload["EndTime"])
    seconds = int((end - start).total_seconds())
    power = Decimal(payload["TotalPower"])
    meter_start, meter_end = _d(payload.get("MeterValueStart")), _d(payload.get("MeterValueEnd"))
    if meter_start is not None and meter_end is not None and abs(meter_end - meter_start - power) > tol.meter:
        out.append(
            _consistency(
                METER_DELTA,
                "MeterValueEnd",
                f"电表止值 {meter_end} − 起值 {meter_start} 为 {meter_end - meter_start} kWh，与充电量 {power} 不符",
            )
        )
    charge_last = payload.get("ChargeLast")
    if isinstance(charge_last, int) and abs(charge_last - seconds) > tol.duration:
        out.append(
            _consistency(
                CHARGE_LAST, "ChargeLast", f"ChargeLast（充电时长）{charge_last} 秒，起止时间相差 {seconds} 秒"
            )
        )
    declared = _d(payload.get("ConnectorPower"))
    rated = declared if declared is not None else rated_power
    if rated is not None and rated > 0:
        ceiling = (rated * Decimal(max(seconds, 0)) / Decimal(3600) * tol.power_margin).quantize(CENT)
        if power > ceiling + CENT:
            out.append(
                _consistency(
                    ENERGY_PLAUSIBLE,
                    "TotalPower",
                    f"TotalPower {power} kWh 超过额定功率 {rated} kW × 充电 {seconds} 秒可达的 {ceiling} kWh",
                )
            )
    return out


def _detail_findings(payload: dict[str, Any], details: Sequence[dict[str, Any]], tol: Tolerances) -> list[Finding]:
    out: list[Finding] = []
    n = len(details)
    for key, name, rule, label in (
        ("DetailPower", "TotalPower", DETAIL_POWER_SUM, "电量"),
        ("DetailElecMoney", "TotalElecMoney", DETAIL_ELEC_SUM, "电费"),
        ("DetailSeviceMoney", "TotalSeviceMoney", DETAIL_SERVICE_SUM, "服务费"),
    ):
        parts = [_d(d.get(key)) for d in details]
        total = _d(payload.get(name))
        numbers = [p for p in parts if p is not None]
        if total is None or len(numbers) != len(parts):
            continue
        summed = sum(numbers, ZERO)
        if abs(summed - total) > tol.money * n:
            out.append(_consistency(rule, name, f"ChargeDetails 各时段{label}之和 {summed} 与 {name} {total} 不符"))
    start, end = parse_datetime(payload["StartTime"]), parse_datetime(payload["EndTime"])
    slack = dt.timedelta(seconds=1)
    for i, detail in enumerate(details):
        path = f"ChargeDetails[{i}]"
        d_start, d_end = parse_datetime(detail["DetailStartTime"]), parse_datetime(detail["DetailEndTime"])
        if d_start < start - slack or d_end > end + slack:
            out.append(
                _consistency(
                    DETAIL_WINDOW,
                    path,
                    f"{path} 时段 {detail['DetailStartTime']}–{detail['DetailEndTime']} "
                    f"超出充电起止时间 {payload['StartTime']}–{payload['EndTime']}",
                )
            )
        energy = Decimal(detail["DetailPower"])
        for price_key, money_key in (("ElecPrice", "DetailElecMoney"), ("SevicePrice", "DetailSeviceMoney")):
            price, money = _d(detail.get(price_key)), _d(detail.get(money_key))
            if price is not None and money is not None and abs(_money(energy * price) - money) > tol.money:
                out.append(
                    _consistency(
                        DETAIL_MONEY,
                        f"{path}.{money_key}",
                        f"{path}.{money_key} {money} 不等于时段电量 {energy} × 单价 {price} = {_money(energy * price)}",
                    )
                )
    return out


def _price(rule: str, path: str, message: str) -> Finding:
    return Finding(FindingCategory.PRICE, rule, path, message)


def price_findings(payload: dict[str, Any], *, versions: Sequence[BusinessPolicy], tol: Tolerances) -> list[Finding]:
    """The money against energy × the policy the operator declared for the connector, in force at each detail's
    time. Never a dispute: a price finding is for supervision; only the operator's own figures can dispute."""
    start = parse_datetime(payload["StartTime"])
    if not versions or price_at(versions, start) is None:
        return [
            _price(NO_POLICY, "ConnectorID", f"{payload['StartTime']} 时该充电接口没有已知的业务策略，无法核对价格")
        ]
    details = payload.get("ChargeDetails") or []
    if not details:
        return [_price(PRICE_UNCHECKED, "ChargeDetails", "订单没有充电明细（ChargeDetails），无法逐时段核对价格")]
    out: list[Finding] = []
    for i, detail in enumerate(details):
        path = f"ChargeDetails[{i}]"
        moment = parse_datetime(detail["DetailStartTime"])
        price = price_at(versions, moment)
        if price is None:
            out.append(_price(NO_POLICY, path, f"{path} 时段 {detail['DetailStartTime']} 没有已知的业务策略"))
            continue
        energy = Decimal(detail["DetailPower"])
        for price_key, money_key, declared_price, label in (
            ("ElecPrice", "DetailElecMoney", price.elec_price, "电价"),
            ("SevicePrice", "DetailSeviceMoney", price.sevice_price, "服务费单价"),
        ):
            stated = _d(detail.get(price_key))
            if stated is not None and stated != declared_price:
                when = detail["DetailStartTime"]
                message = f"{path}.{price_key} {stated} 与 {when} 时备案的{label} {declared_price} 不符"
                out.append(_price(PRICE_DECLARED, f"{path}.{price_key}", message))
            money = _d(detail.get(money_key))
            expected = _money(energy * declared_price)
            if money is not None and abs(money - expected) > tol.price:
                message = f"{path}.{money_key} {money} 与电量 {energy} × 备案{label} {declared_price} = {expected} 不符"
                out.append(_price(PRICE_MONEY, f"{path}.{money_key}", message))
    return out


def charge_bound(
    *,
    start: dt.datetime,
    end: dt.datetime | None,
    energy: Decimal | None,
    ceiling: Decimal,
    versions: Sequence[BusinessPolicy],
    tol: Tolerances,
) -> Decimal:
    """The most a portal-started session may cost its driver: its hold (`ceiling`), and energy × the dearest price
    (electricity + service) of the policy versions in force during it × (1 + bound_margin) + the money tolerance.
    Without a known policy the hold alone bounds it. Never more than the hold: the balance can never run away."""
    end = end or start
    in_force = [v for v in versions if v.effective_from <= end]
    first = next((i for i, v in enumerate(in_force) if v.effective_from <= start), None)  # newest first
    in_force = in_force if first is None else in_force[: first + 1]
    dearest = max(
        (p.elec_price + p.sevice_price for v in in_force for p in v.periods.all()),
        default=None,
    )
    if dearest is None or energy is None:
        return ceiling
    return min(ceiling, _money(energy * dearest * (1 + tol.bound_margin) + tol.money))


def charge_bound_findings(payload: dict[str, Any], *, bound: Decimal) -> list[Finding]:
    """A portal session's order asking more than the session could cost: disputed, its money held for review."""
    total = Decimal(payload["TotalMoney"])
    if total <= bound:
        return []
    message = (
        f"TotalMoney（累计总金额）{total} 元超过本次充电可能的最高金额 {bound} 元（预授权、电量×备案单价）："
        "待复核，未扣款"
    )
    return [Finding(FindingCategory.SESSION, CHARGE_OVER_BOUND, "TotalMoney", message, disputes=True)]


def _directory(rule: str, path: str, message: str) -> Finding:
    return Finding(FindingCategory.DIRECTORY, rule, path, message)


def directory_findings(
    payload: dict[str, Any], *, connector: Connector | None, foreign: bool, bonus: bool
) -> list[Finding]:
    """The facilities the order names against the caller's directory. Flagged, never refused: the order is kept."""
    cid = payload["ConnectorID"]
    if connector is None:
        if foreign:
            return [
                _directory(FOREIGN_CONNECTOR, "ConnectorID", f"充电接口 {cid} 属于其他运营商，不在调用方的充电站信息中")
            ]
        return [_directory(UNKNOWN_CONNECTOR, "ConnectorID", f"充电接口 {cid} 不在平台已获取的充电站信息中")]
    out: list[Finding] = []
    if connector.removed_at is not None or connector.station.removed_at is not None:
        out.append(
            _directory(
                REMOVED_CONNECTOR,
                "ConnectorID",
                f"充电接口 {cid} 已于 {connector.removed_at or connector.station.removed_at:%Y-%m-%d} 下线",
            )
        )
    if bonus:
        station_id, equipment_id = connector.station.station_id, connector.equipment.equipment_id
        if payload.get("StationID") != station_id:
            message = f"StationID {payload.get('StationID')} 不是接口 {cid} 所在的充电站 {station_id}"
            out.append(_directory(STATION_MISMATCH, "StationID", message))
        if payload.get("EquipmentID") != equipment_id:
            message = f"EquipmentID {payload.get('EquipmentID')} 不是接口 {cid} 所属的设备 {equipment_id}"
            out.append(_directory(EQUIPMENT_MISMATCH, "EquipmentID", message))
        stated = _d(payload.get("ConnectorPower"))
        if stated is not None and stated != connector.power:
            out.append(
                _directory(
                    CONNECTOR_POWER,
                    "ConnectorPower",
                    f"ConnectorPower {stated} kW 与充电站信息中的额定功率 {connector.power} kW 不符",
                )
            )
    return out


def time_findings(payload: dict[str, Any], *, received_at: dt.datetime, skew: dt.timedelta) -> list[Finding]:
    """An order's own times later than its arrival by more than the clock window: the session cannot have ended (or
    started) after the operator pushed it, so its own envelope's time and its order disagree — a dispute. (An end
    before its start is refused by the schema's time_order rule.)"""
    latest = received_at + skew
    out: list[Finding] = []
    for name, label in (("StartTime", "开始充电时间"), ("EndTime", "结束充电时间")):
        if parse_datetime(payload[name]) > latest:
            arrived = format_datetime(received_at)
            message = f"{name}（{label}）{payload[name]} 晚于平台收到订单的时间 {arrived}，超过允许的时钟误差"
            out.append(Finding(FindingCategory.CONSISTENCY, TIME_IN_FUTURE, name, message, disputes=True))
    return out


def seq_length_findings(payload: dict[str, Any]) -> list[Finding]:
    """The bonus push's StartChargeSeq of other than the recommended 27 characters (accepted up to the column's
    bound): flagged for supervision, never a dispute."""
    seq = payload["StartChargeSeq"]
    if len(seq) == 27:
        return []
    message = f"StartChargeSeq（充电订单号）为{len(seq)}位，建议为27位（运营商ID+18位编号）"
    return [Finding(FindingCategory.CONSISTENCY, SEQ_LENGTH, "StartChargeSeq", message)]


def charge_model_findings(payload: dict[str, Any], *, portal_started: bool) -> list[Finding]:
    """ChargeModel 1 (市级平台启动) goes with an order number the portal created, and only with one."""
    model = payload.get("ChargeModel")
    if model is None or (model == 1) == portal_started:
        return []
    said = "市级平台启动" if model == 1 else f"ChargeModel {model}"
    seq = "由市级平台创建" if portal_started else "由运营商自行创建"
    return [Finding(FindingCategory.CONSISTENCY, CHARGE_MODEL, "ChargeModel", f"启动方式为{said}，但订单号{seq}")]
