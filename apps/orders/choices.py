"""Enumerations of T/CEC 102.3 §5 and Beijing's ChargeModel (B1), with their Chinese labels."""

from django.db import models

from apps.protocol.names import Interface


class StartChargeSeqStat(models.IntegerChoices):
    STARTING = 1, "启动中"
    CHARGING = 2, "充电中"
    STOPPING = 3, "停止中"
    FINISHED = 4, "已结束"
    UNKNOWN = 5, "未知"


# E1 never moves backwards; 5 未知 may resolve to any state once the operator answers. The one table: orders and
# the portal's charging sessions both follow it.
SEQ_STAT_TRANSITIONS: dict[int, frozenset[int]] = {
    StartChargeSeqStat.STARTING: frozenset(
        {
            StartChargeSeqStat.CHARGING,
            StartChargeSeqStat.STOPPING,
            StartChargeSeqStat.FINISHED,
            StartChargeSeqStat.UNKNOWN,
        }
    ),
    StartChargeSeqStat.CHARGING: frozenset(
        {StartChargeSeqStat.STOPPING, StartChargeSeqStat.FINISHED, StartChargeSeqStat.UNKNOWN}
    ),
    StartChargeSeqStat.STOPPING: frozenset({StartChargeSeqStat.FINISHED, StartChargeSeqStat.UNKNOWN}),
    StartChargeSeqStat.FINISHED: frozenset(),
    StartChargeSeqStat.UNKNOWN: frozenset(
        {
            StartChargeSeqStat.STARTING,
            StartChargeSeqStat.CHARGING,
            StartChargeSeqStat.STOPPING,
            StartChargeSeqStat.FINISHED,
        }
    ),
}


class ChargingConnectorStatus(models.IntegerChoices):
    """E2: connector status inside charging-status messages (part 2's 0 离网 is not part of it)."""

    IDLE = 1, "空闲"
    OCCUPIED = 2, "占用（未充电）"
    CHARGING = 3, "占用（充电中）"
    RESERVED = 4, "占用（预约锁定）"
    FAULT = 255, "故障"


class StopReason(models.IntegerChoices):
    """E3; values 5–99 are operator-defined (自定义) and accepted as such."""

    USER = 0, "用户手动停止充电"
    CUSTOMER_PLATFORM = 1, "客户归属地运营商平台停止充电"
    BMS = 2, "BMS停止充电"
    CHARGER_FAULT = 3, "充电机设备故障"
    DISCONNECTED = 4, "连接器断开"


class DisputeReason(models.IntegerChoices):
    """E4; values 4–99 are custom."""

    NOT_FOUND = 1, "交易不存在"
    WRONG_MONEY = 2, "交易金额错误"
    WRONG_ENERGY = 3, "交易电量错误"


class ConfirmResult(models.IntegerChoices):
    """Reply to an order push; values 2–99 are custom."""

    OK = 0, "成功"
    DISPUTED = 1, "争议交易"


class ChargeModel(models.IntegerChoices):
    """B1 启动方式 (Beijing): how a session was started."""

    UNKNOWN = 0, "未知"
    CITY_PLATFORM = 1, "市级平台启动"
    CARD = 2, "有卡启动"
    OTHER_CARDLESS = 3, "其他无卡启动"


class OrderInterface(models.TextChoices):
    """The two pushes an order arrives by."""

    ORDER = Interface.NOTIFICATION_CHARGE_ORDER_INFO.value, "充电订单"
    BONUS = Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS.value, "运营考核奖励订单"


class FindingCategory(models.TextChoices):
    CONSISTENCY = "consistency", "数据一致性"
    PRICE = "price", "价格合规"
    DIRECTORY = "directory", "设施信息"
    SESSION = "session", "充电会话"


def custom_label(choices: type[models.IntegerChoices], value: int | None) -> str:
    """Label of a value that may be one of the standard's 自定义 codes."""
    if value is None:
        return ""
    try:
        return choices(value).label
    except ValueError:
        return f"自定义（{value}）"
