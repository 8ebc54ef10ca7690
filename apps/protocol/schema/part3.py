"""T/CEC 102.3 (business information): authorisation, policies, start and stop, charge status, orders, checks."""

from __future__ import annotations

from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, localcontext
from typing import Any

from .engine import (
    CONSISTENCY,
    SEQUENCE,
    DateTime,
    HHmmss,
    Int,
    List,
    Num,
    Problem,
    Serial27,
    Str,
    Struct,
    as_decimal,
    count_rule,
    is_number,
    show,
    time_order_rule,
)
from .fields import (
    CONFIRM_RESULT,
    CONNECTOR_ID,
    DT_ORDER,
    FAIL_REASON_RECEIPT,
    FAIL_REASON_STOP,
    START_CHARGE_SEQ,
    START_CHARGE_SEQ_STAT,
    STOP_REASON,
    SUCC_STAT,
    SUCC_STAT_STOP,
    SUM_PERIOD_OPT,
    count,
    energy,
    measure,
    money,
    price,
)

# --------------------------------------------------------------------------------------------------------------------
# Part 3 structures (business information)
# --------------------------------------------------------------------------------------------------------------------

POLICY_INFO = Struct(
    "PolicyInfo",
    "单项业务策略信息体",
    [
        HHmmss("StartTime", "时段起始时间点"),
        price("ElecPrice", "时段电费"),
        price("SevicePrice", "时段服务费"),
    ],
)

CHARGE_DETAIL = Struct(
    "ChargeDetail",
    "充电明细信息体",
    [
        DateTime("DetailStartTime", "开始时间"),
        DateTime("DetailEndTime", "结束时间"),
        price("ElecPrice", "时段电价", required=False),
        price("SevicePrice", "时段服务费价格", required=False),
        energy("DetailPower", "时段充电量"),
        money("DetailElecMoney", "时段电费", required=False),
        money("DetailSeviceMoney", "时段服务费", required=False),
    ],
    rules=[time_order_rule("DetailStartTime", "开始时间", "DetailEndTime", "结束时间", DT_ORDER)],
)

CHARGE_ORDER = Struct(
    "ChargeOrder",
    "单项订单对账信息体",
    [
        START_CHARGE_SEQ,
        energy("TotalPower", "累计充电量"),
        money("TotalMoney", "累计总金额"),
    ],
)

DISPUTE_ORDER = Struct(
    "DisputeOrder",
    "单项争议交易信息体",
    [
        START_CHARGE_SEQ,
        energy("TotalPower", "累计充电量"),
        money("TotalMoney", "累计总金额"),
        Int("DisputeReason", "争议原因", choices=(1, 2, 3), custom=((4, 99),)),
    ],
)

# SumPeriod = number of elements, 0–32, so neither list can exceed 32 items.
CHARGE_DETAILS_OPT = List("ChargeDetails", "充电明细信息", CHARGE_DETAIL, required=False, max_items=32)
SUM_PERIOD_DETAILS = count_rule("SumPeriod", "时段数N", "ChargeDetails")

# --------------------------------------------------------------------------------------------------------------------
# Interface Data structs: request (what the caller sends) and response (what the implementer answers)
# --------------------------------------------------------------------------------------------------------------------

QUERY_EQUIP_AUTH_REQUEST = Struct(
    "query_equip_auth.request",
    "请求设备认证请求参数",
    [Serial27("EquipAuthSeq", "设备认证流水号"), CONNECTOR_ID],
)
QUERY_EQUIP_AUTH_RESPONSE = Struct(
    "query_equip_auth.response",
    "请求设备认证返回参数",
    [
        Serial27("EquipAuthSeq", "设备认证流水号"),
        CONNECTOR_ID,
        SUCC_STAT,
        Int("FailReason", "失败原因", choices=(0, 1, 2), custom=((3, 99),)),
    ],
)

QUERY_EQUIP_BUSINESS_POLICY_REQUEST = Struct(
    "query_equip_business_policy.request",
    "查询业务策略信息请求参数",
    [Serial27("EquipBizSeq", "业务策略查询流水号"), CONNECTOR_ID],
)
QUERY_EQUIP_BUSINESS_POLICY_RESPONSE = Struct(
    "query_equip_business_policy.response",
    "查询业务策略信息返回参数",
    [
        Serial27("EquipBizSeq", "业务策略查询流水号"),
        CONNECTOR_ID,
        SUCC_STAT,
        Int("FailReason", "失败原因", choices=(0, 1), custom=((2, 99),)),
        Int("SumPeriod", "时段数N", min=0, max=32),
        List("PolicyInfos", "计费信息", POLICY_INFO, max_items=32, unique_by="StartTime"),
    ],
    rules=[count_rule("SumPeriod", "时段数N", "PolicyInfos")],
)

QUERY_START_CHARGE_REQUEST = Struct(
    "query_start_charge.request",
    "请求启动充电请求参数",
    [
        START_CHARGE_SEQ,
        CONNECTOR_ID,
        Str("QRCode", "二维码其他信息", allow_empty=True),  # required key, "" when the QR has no custom part
    ],
)
QUERY_START_CHARGE_RESPONSE = Struct(
    "query_start_charge.response",
    "请求启动充电返回参数",
    [
        START_CHARGE_SEQ,
        START_CHARGE_SEQ_STAT,
        CONNECTOR_ID,
        SUCC_STAT,
        Int("FailReason", "失败原因", choices=(0, 1, 2), custom=((3, 99),)),
    ],
)

NOTIFICATION_START_CHARGE_RESULT_REQUEST = Struct(
    "notification_start_charge_result.request",
    "推送启动充电结果请求参数",
    [
        START_CHARGE_SEQ,
        START_CHARGE_SEQ_STAT,
        CONNECTOR_ID,
        DateTime("StartTime", "充电启动时间"),
        Str("IdentCode", "验证码", required=False),
    ],
)
NOTIFICATION_START_CHARGE_RESULT_RESPONSE = Struct(
    "notification_start_charge_result.response",
    "推送启动充电结果返回参数",
    [START_CHARGE_SEQ, SUCC_STAT, FAIL_REASON_RECEIPT],
)

QUERY_EQUIP_CHARGE_STATUS_REQUEST = Struct(
    "query_equip_charge_status.request",
    "查询充电状态请求参数",
    [START_CHARGE_SEQ],
)
# The query_equip_charge_status reply and the notification_equip_charge_status push carry the same snapshot.
EQUIP_CHARGE_STATUS = Struct(
    "EquipChargeStatus",
    "充电状态",
    [
        START_CHARGE_SEQ,
        START_CHARGE_SEQ_STAT,
        CONNECTOR_ID,
        Int("ConnectorStatus", "充电设备接口状态", choices=(1, 2, 3, 4, 255)),
        measure("CurrentA", "A相电流"),
        measure("CurrentB", "B相电流", required=False),
        measure("CurrentC", "C相电流", required=False),
        measure("VoltageA", "A相电压"),
        measure("VoltageB", "B相电压", required=False),
        measure("VoltageC", "C相电压", required=False),
        Num("Soc", "电池剩余电量", min=0, max=100),
        DateTime("StartTime", "开始充电时间"),
        DateTime("EndTime", "本次采样时间"),
        energy("TotalPower", "累计充电量"),
        money("ElecMoney", "累计电费", required=False),
        money("SeviceMoney", "累计服务费", required=False),
        money("TotalMoney", "累计总金额", required=False),
        SUM_PERIOD_OPT,
        CHARGE_DETAILS_OPT,
        # Beijing/Chengdu add the start method to status pushes; optional so standard peers stay valid.
        Int("ChargeModel", "启动方式", required=False, choices=(0, 1, 2, 3)),
    ],
    rules=[
        time_order_rule("StartTime", "开始充电时间", "EndTime", "本次采样时间", DT_ORDER),
        SUM_PERIOD_DETAILS,
    ],
)
QUERY_EQUIP_CHARGE_STATUS_RESPONSE = EQUIP_CHARGE_STATUS
NOTIFICATION_EQUIP_CHARGE_STATUS_REQUEST = EQUIP_CHARGE_STATUS
NOTIFICATION_EQUIP_CHARGE_STATUS_RESPONSE = Struct(
    "notification_equip_charge_status.response",
    "推送充电状态返回参数",
    [START_CHARGE_SEQ, SUCC_STAT],  # no FailReason in the standard; one sent anyway is ignored like any extra key
)

QUERY_STOP_CHARGE_REQUEST = Struct(
    "query_stop_charge.request",
    "请求停止充电请求参数",
    [START_CHARGE_SEQ, CONNECTOR_ID],
)
QUERY_STOP_CHARGE_RESPONSE = Struct(
    "query_stop_charge.response",
    "请求停止充电返回参数",
    [
        START_CHARGE_SEQ,
        START_CHARGE_SEQ_STAT,
        SUCC_STAT,
        Int("FailReason", "失败原因", choices=FAIL_REASON_STOP, custom=((4, 99),)),
    ],
)

NOTIFICATION_STOP_CHARGE_RESULT_REQUEST = Struct(
    "notification_stop_charge_result.request",
    "推送停止充电结果请求参数",
    [
        START_CHARGE_SEQ,
        START_CHARGE_SEQ_STAT,
        CONNECTOR_ID,
        SUCC_STAT_STOP,
        Int("FailReason", "停止失败原因", choices=FAIL_REASON_STOP, custom=((4, 99),)),
    ],
)
NOTIFICATION_STOP_CHARGE_RESULT_RESPONSE = Struct(
    "notification_stop_charge_result.response",
    "推送停止充电结果返回参数",
    [START_CHARGE_SEQ, SUCC_STAT, FAIL_REASON_RECEIPT],
)

NOTIFICATION_CHARGE_ORDER_INFO_REQUEST = Struct(
    "notification_charge_order_info.request",
    "推送充电订单信息请求参数",
    [
        START_CHARGE_SEQ,
        CONNECTOR_ID,
        DateTime("StartTime", "开始充电时间"),
        DateTime("EndTime", "结束充电时间"),
        energy("TotalPower", "累计充电量"),
        money("TotalElecMoney", "总电费"),
        money("TotalSeviceMoney", "总服务费"),
        money("TotalMoney", "累计总金额"),
        STOP_REASON,
        SUM_PERIOD_OPT,
        CHARGE_DETAILS_OPT,
    ],
    rules=[
        time_order_rule("StartTime", "开始充电时间", "EndTime", "结束充电时间", DT_ORDER),
        SUM_PERIOD_DETAILS,
    ],
)
NOTIFICATION_CHARGE_ORDER_INFO_RESPONSE = Struct(
    "notification_charge_order_info.response",
    "推送充电订单信息返回参数",
    [START_CHARGE_SEQ, CONNECTOR_ID, CONFIRM_RESULT],
)


CHECK_CHARGE_ORDERS_REQUEST = Struct(
    "check_charge_orders.request",
    "推送订单对账结果信息请求参数",
    [
        Serial27("CheckOrderSeq", "订单对账流水号"),
        DateTime("StartTime", "账单开始时间"),
        DateTime("EndTime", "账单结束时间"),
        count("OrderCount", "订单数量N"),
        energy("TotalOrderPower", "总电量", 4, digits=16),
        money("TotalOrderMoney", "总金额", digits=16),
        List("ChargeOrders", "订单列表", CHARGE_ORDER, unique_by="StartChargeSeq"),
    ],
    rules=[
        time_order_rule("StartTime", "账单开始时间", "EndTime", "账单结束时间", DT_ORDER),
        count_rule("OrderCount", "订单数量N", "ChargeOrders"),
    ],
)
CHECK_CHARGE_ORDERS_RESPONSE = Struct(
    "check_charge_orders.response",
    "推送订单对账结果信息返回参数",
    [
        Serial27("CheckOrderSeq", "订单对账流水号"),
        DateTime("StartTime", "账单开始时间"),
        DateTime("EndTime", "账单结束时间"),
        count("TotalDisputeOrder", "争议订单数量N"),
        energy("TotalDisputePower", "总电量", 4, digits=16),
        money("TotalDisputeMoney", "总金额", digits=16),
        List("DisputeOrders", "订单列表", DISPUTE_ORDER, unique_by="StartChargeSeq"),
    ],
    rules=[
        time_order_rule("StartTime", "账单开始时间", "EndTime", "账单结束时间", DT_ORDER),
        count_rule("TotalDisputeOrder", "争议订单数量N", "DisputeOrders"),
    ],
)


# --------------------------------------------------------------------------------------------------------------------
# Data-quality arithmetic (kept out of validate(): a wrong sum is reported, not answered with 4004)
# --------------------------------------------------------------------------------------------------------------------

_CENT = Decimal("0.01")
# Arithmetic on peer numbers must not raise (1E+999999999 overflows the default context): no traps, ample precision.
_ARITHMETIC = Context(prec=60, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])


def consistency_problems(order_payload: Any) -> list[Problem]:
    """Arithmetic checks of a notification_charge_order_info payload: money sum and Σ DetailPower (rule `consistency`).

    Fields that are missing or mistyped are skipped (validate() reports those).
    """
    out: list[Problem] = []
    if not isinstance(order_payload, dict):
        return out
    with localcontext(_ARITHMETIC):
        _money_sum(order_payload, out)
        _power_sum(order_payload, out)
    return out


def _money_sum(order_payload: dict[Any, Any], out: list[Problem]) -> None:
    total, elec, service = (order_payload.get(k) for k in ("TotalMoney", "TotalElecMoney", "TotalSeviceMoney"))
    if is_number(total) and is_number(elec) and is_number(service):
        expected = as_decimal(elec) + as_decimal(service)
        if abs(as_decimal(total) - expected) > _CENT:
            out.append(
                Problem(
                    "TotalMoney",
                    CONSISTENCY,
                    f"TotalMoney（累计总金额）{show(total)}应等于TotalElecMoney（总电费）与TotalSeviceMoney（总服务费）"
                    f"之和{show(expected)}（允许误差0.01）",
                )
            )


def _power_sum(order_payload: dict[Any, Any], out: list[Problem]) -> None:
    details, total_power = order_payload.get("ChargeDetails"), order_payload.get("TotalPower")
    if isinstance(details, SEQUENCE) and details and is_number(total_power):
        parts = [d.get("DetailPower") if isinstance(d, dict) else None for d in details]
        numbers = [p for p in parts if is_number(p)]
        if len(numbers) == len(parts):  # every detail has a number (a missing one is validate()'s to report)
            summed = sum((as_decimal(p) for p in numbers), Decimal(0))
            tolerance = _CENT * len(parts)  # each detail may be rounded to 0.01 independently
            if abs(summed - as_decimal(total_power)) > tolerance:
                out.append(
                    Problem(
                        "TotalPower",
                        CONSISTENCY,
                        f"TotalPower（累计充电量）{show(total_power)}与ChargeDetails各时段DetailPower之和{show(summed)}"
                        f"相差超过{show(tolerance)}",
                    )
                )
