"""The wire names of T/CEC 102 parts 2–4 and Beijing's additions: every interface's, and how a field's is spelt."""

from __future__ import annotations

import functools
from enum import IntEnum, StrEnum
from typing import Self

__all__ = [
    "TEST_STATUS_CHANGE",
    "AuthFailReason",
    "FailReason",
    "Interface",
    "PolicyFailReason",
    "ReceiptFailReason",
    "StartFailReason",
    "StopFailReason",
    "SuccStat",
    "TokenFailReason",
    "interface_label",
    "wire_name",
]

# Not T/CEC 102: a test hook a platform may offer during 联调测试 (the simulator does): "change one connector's
# status now and push it", so the conformance check can see a status push arrive. A platform without it answers
# an unknown interface, and that check is not applicable.
TEST_STATUS_CHANGE = "test_status_change"


class Interface(StrEnum):
    """Every interface the portal or its peers serve, by its exact wire name (the last segment of the URL).

    A member is a `str`, so it is a dict key, a URL segment and a journal value as it stands; `label` is the
    standard's Chinese name for the admin and for messages.
    """

    # part 4 (appendix A)
    QUERY_TOKEN = "query_token"  # noqa: S105 - an interface name, not a credential
    # part 2: public information
    QUERY_STATIONS_INFO = "query_stations_info"
    NOTIFICATION_STATION_STATUS = "notification_stationStatus"  # camel case, as the standard spells it
    QUERY_STATION_STATUS = "query_station_status"
    QUERY_STATION_STATS = "query_station_stats"
    # part 3: business information
    QUERY_EQUIP_AUTH = "query_equip_auth"
    QUERY_EQUIP_BUSINESS_POLICY = "query_equip_business_policy"
    QUERY_START_CHARGE = "query_start_charge"
    NOTIFICATION_START_CHARGE_RESULT = "notification_start_charge_result"
    QUERY_EQUIP_CHARGE_STATUS = "query_equip_charge_status"
    NOTIFICATION_EQUIP_CHARGE_STATUS = "notification_equip_charge_status"
    QUERY_STOP_CHARGE = "query_stop_charge"
    NOTIFICATION_STOP_CHARGE_RESULT = "notification_stop_charge_result"
    NOTIFICATION_CHARGE_ORDER_INFO = "notification_charge_order_info"
    CHECK_CHARGE_ORDERS = "check_charge_orders"
    # Beijing: the order push of the operation-reward scheme
    NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS = "notification_charge_order_info_for_bonus"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: dict[Interface, str] = {
    Interface.QUERY_TOKEN: "获取Token",
    Interface.QUERY_STATIONS_INFO: "查询充电站信息",
    Interface.NOTIFICATION_STATION_STATUS: "设备状态变化推送",
    Interface.QUERY_STATION_STATUS: "设备接口状态查询",
    Interface.QUERY_STATION_STATS: "查询统计信息",
    Interface.QUERY_EQUIP_AUTH: "请求设备认证",
    Interface.QUERY_EQUIP_BUSINESS_POLICY: "查询业务策略信息",
    Interface.QUERY_START_CHARGE: "请求启动充电",
    Interface.NOTIFICATION_START_CHARGE_RESULT: "推送启动充电结果",
    Interface.QUERY_EQUIP_CHARGE_STATUS: "查询充电状态",
    Interface.NOTIFICATION_EQUIP_CHARGE_STATUS: "推送充电状态",
    Interface.QUERY_STOP_CHARGE: "请求停止充电",
    Interface.NOTIFICATION_STOP_CHARGE_RESULT: "推送停止充电结果",
    Interface.NOTIFICATION_CHARGE_ORDER_INFO: "推送充电订单信息",
    Interface.CHECK_CHARGE_ORDERS: "推送订单对账结果信息",
    Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS: "推送充电订单信息（运营考核奖励）",
}


def interface_label(name: str) -> str:
    """The standard's Chinese name of an interface, or "" for a name that is not one (a journal row of a probe)."""
    try:
        return Interface(name).label
    except ValueError:
        return ""


@functools.cache
def wire_name(field_name: str) -> str:
    """The wire name of a snake_case field: `station_lng` → `StationLng`, `equipment_owner_id` → `EquipmentOwnerID`
    (the portal's models and serializers name their fields after the wire, so this is the whole mapping)."""
    return "".join("ID" if part == "id" else part.capitalize() for part in field_name.split("_"))


# -- coded values of the business answers (SuccStat, and FailReason per interface) --------------------------------


class SuccStat(IntEnum):
    """Every business answer's outcome: 0 成功, 1 失败 (then FailReason says why)."""

    SUCCESS = 0
    FAILURE = 1


class FailReason(IntEnum):
    """Base of the per-interface FailReason enums: each interface numbers its reasons itself, 0 always 无, and the
    range above the standard's is 自定义 (a platform's own). The members are ints, so they go on the wire as they are.
    """

    @classmethod
    def describe(cls, value: object) -> str:
        """A received FailReason in Chinese: the standard's text, 自定义 for a platform's own, 未知 for a non-int."""
        if not isinstance(value, int) or isinstance(value, bool):
            return "未知"
        try:
            return cls(value).label
        except ValueError:
            return "自定义"

    @classmethod
    def known(cls, value: object) -> Self | None:
        """The member a received FailReason is, if it is a known failure (not 0 无, not a platform's own 自定义)."""
        if not isinstance(value, int) or isinstance(value, bool) or value == 0:
            return None
        try:
            return cls(value)
        except ValueError:
            return None

    @property
    def label(self) -> str:
        return _FAIL_LABELS[type(self)][self.value]


class TokenFailReason(FailReason):
    """query_token (part 4 appendix A); 3–99 自定义, of which the portal answers two of its own."""

    NONE = 0
    UNKNOWN_OPERATOR = 1
    WRONG_SECRET = 2
    NOT_CONNECTED = 3  # the portal's own: the operator is not (or no longer) connected
    TOO_OFTEN = 4  # the portal's own: more tokens asked in a minute than HLHT_TOKEN_RATE allows; retry later


class AuthFailReason(FailReason):
    """query_equip_auth (part 3 §3.1); 3–99 自定义."""

    NONE = 0
    NOT_PLUGGED_IN = 1
    CHECK_FAILED = 2


class PolicyFailReason(FailReason):
    """query_equip_business_policy (part 3 §3.2); 2–99 自定义."""

    NONE = 0
    NO_POLICY = 1


class StartFailReason(FailReason):
    """query_start_charge (part 3 §3.3); 3–99 自定义."""

    NONE = 0
    NO_SUCH_DEVICE = 1
    DEVICE_OFFLINE = 2


class StopFailReason(FailReason):
    """query_stop_charge and notification_stop_charge_result (part 3 §3.7–3.8); 4–99 自定义."""

    NONE = 0
    NO_SUCH_DEVICE = 1
    DEVICE_OFFLINE = 2
    ALREADY_STOPPED = 3


class ReceiptFailReason(FailReason):
    """The receiver's answer to a notification (start result, stop result, order): 2–99 自定义."""

    NONE = 0
    RECEIVE_FAILED = 1


_FAIL_LABELS: dict[type[FailReason], dict[int, str]] = {
    TokenFailReason: {0: "无", 1: "无此运营商", 2: "密钥错误", 3: "运营商未接入", 4: "请求过于频繁"},
    AuthFailReason: {0: "无", 1: "此设备尚未插枪", 2: "设备检测失败"},
    PolicyFailReason: {0: "无", 1: "此充电桩业务策略不存在"},
    StartFailReason: {0: "无", 1: "此设备不存在", 2: "此设备离线"},
    StopFailReason: {0: "无", 1: "此设备不存在", 2: "此设备离线", 3: "设备已停止充电"},
    ReceiptFailReason: {0: "无", 1: "接收失败"},
}
