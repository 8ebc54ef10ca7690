"""Beijing's addition to the catalogue: notification_charge_order_info_for_bonus, the reward scheme's order push."""

from __future__ import annotations

from typing import Final

from .engine import (
    DateTime,
    Str,
    Struct,
    alnum_ascii,
    time_order_rule,
)
from .fields import (
    CHARGE_MODEL,
    CONFIRM_RESULT,
    CONNECTOR_ID,
    DT_ORDER,
    EQUIPMENT_ID,
    STATION_ID,
    STOP_REASON,
    SUM_PERIOD_OPT,
    count,
    energy,
    money,
    power,
)
from .part3 import CHARGE_DETAILS_OPT, SUM_PERIOD_DETAILS

# Beijing's bonus order: 27 characters are recommended, and operators send 28–29 for walk-ins they number themselves
# (exactly the records the reward scheme needs). Accepted up to the order column's bound, letters and digits; one
# not of 27 is a finding (apps/orders/rules.py SEQ_LENGTH), not a refusal. The order model takes its bound from here.
BONUS_SEQ_MAX_LEN: Final = 32
_BONUS_ORDER_NO = Str(
    "StartChargeSeq",
    "充电订单号",
    min_len=27,
    max_len=BONUS_SEQ_MAX_LEN,
    predicate=alnum_ascii,
    format_name="27–32位字母或数字",
)

NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_REQUEST = Struct(
    "notification_charge_order_info_for_bonus.request",
    "推送充电订单信息（运营考核奖励）请求参数",
    [
        # Not Serial27: orders started without e充网 carry the CPO's own order number (27 chars only recommended).
        _BONUS_ORDER_NO,
        CONNECTOR_ID,
        DateTime("StartTime", "开始充电时间"),
        DateTime("EndTime", "结束充电时间"),
        CHARGE_MODEL,
        energy("TotalPower", "累计充电量"),
        money("TotalMoney", "累计总金额"),
        money("TotalElecMoney", "总电费", required=False),
        money("TotalSeviceMoney", "总服务费", required=False),
        STOP_REASON,
        SUM_PERIOD_OPT,
        CHARGE_DETAILS_OPT,
        Str("UserName", "客户名称", required=False, max_len=20),  # "Y?" in the digest: checked when sent
        STATION_ID,
        EQUIPMENT_ID,
        power("ConnectorPower", "接口额定功率"),
        count("ChargeLast", "充电时长"),
        energy("MeterValueStart", "电表总起值", digits=14),
        energy("MeterValueEnd", "电表总止值", digits=14),
    ],
    rules=[
        time_order_rule("StartTime", "开始充电时间", "EndTime", "结束充电时间", DT_ORDER),
        SUM_PERIOD_DETAILS,
    ],
)
NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS_RESPONSE = Struct(
    "notification_charge_order_info_for_bonus.response",
    "推送充电订单信息（运营考核奖励）返回参数",
    # Echoes the request's StartChargeSeq, which need not be a 27-character serial for bonus orders.
    [_BONUS_ORDER_NO, CONNECTOR_ID, CONFIRM_RESULT],
)
