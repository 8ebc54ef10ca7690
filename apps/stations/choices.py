"""Enumerations of T/CEC 102.2 §3 (E1–E9), with the standard's Chinese labels."""

from django.db import models


class StationType(models.IntegerChoices):
    PUBLIC = 1, "公共"
    PRIVATE = 50, "个人"
    BUS = 100, "公交（专用）"
    SANITATION = 101, "环卫（专用）"
    LOGISTICS = 102, "物流（专用）"
    TAXI = 103, "出租车（专用）"
    OTHER = 255, "其他"


class StationStatus(models.IntegerChoices):
    UNKNOWN = 0, "未知"
    BUILDING = 1, "建设中"
    CLOSED = 5, "关闭下线"
    MAINTENANCE = 6, "维护中"
    NORMAL = 50, "正常使用"


class Construction(models.IntegerChoices):
    RESIDENTIAL = 1, "居民区"
    PUBLIC_INSTITUTION = 2, "公共机构"
    ENTERPRISE = 3, "企事业单位"
    OFFICE = 4, "写字楼"
    INDUSTRIAL_PARK = 5, "工业园区"
    TRANSPORT_HUB = 6, "交通枢纽"
    VENUE = 7, "大型文体设施"
    GREEN_SPACE = 8, "城市绿地"
    BUILDING_CAR_PARK = 9, "大型建筑配建停车场"
    ON_STREET = 10, "路边停车位"
    EXPRESSWAY = 11, "城际高速服务区"
    OTHER = 255, "其他"


class SupportOrder(models.IntegerChoices):
    NO = 0, "不支持预约"
    YES = 1, "支持预约"


class EquipmentType(models.IntegerChoices):
    DC = 1, "直流设备"
    AC = 2, "交流设备"
    AC_DC = 3, "交直流一体设备"
    WIRELESS = 4, "无线设备"
    OTHER = 5, "其他"


class ConnectorType(models.IntegerChoices):
    HOUSEHOLD_SOCKET = 1, "家用插座（模式2）"
    AC_SOCKET = 2, "交流接口插座（模式3，连接方式B）"
    AC_PLUG = 3, "交流接口插头（带枪线，模式3，连接方式C）"
    DC_GUN = 4, "直流接口枪头（带枪线，模式4）"
    WIRELESS = 5, "无线充电座"
    OTHER = 6, "其他"


class NationalStandard(models.IntegerChoices):
    GB2011 = 1, "2011"
    GB2015 = 2, "2015"


class ConnectorStatus(models.IntegerChoices):
    OFFLINE = 0, "离网"
    IDLE = 1, "空闲"
    OCCUPIED = 2, "占用（未充电）"
    CHARGING = 3, "占用（充电中）"
    RESERVED = 4, "占用（预约锁定）"
    FAULT = 255, "故障"


# The one status → colour table: every chart, timeline, badge and home page draws a status in its colour, whatever
# its position in a series (a chart with no offline connector must not draw idle in offline's grey).
STATUS_COLOURS: dict[int | None, str] = {
    ConnectorStatus.OFFLINE: "#9e9e9e",
    ConnectorStatus.IDLE: "#2e7d32",
    ConnectorStatus.OCCUPIED: "#f9a825",
    ConnectorStatus.CHARGING: "#1565c0",
    ConnectorStatus.RESERVED: "#6a1b9a",
    ConnectorStatus.FAULT: "#c62828",
    None: "#607d8b",  # no status received yet
}


class ParkStatus(models.IntegerChoices):
    UNKNOWN = 0, "未知"
    FREE = 10, "空闲"
    OCCUPIED = 50, "占用"


class LockStatus(models.IntegerChoices):
    UNKNOWN = 0, "未知"
    UNLOCKED = 10, "已解锁"
    LOCKED = 50, "已上锁"


class StatusSource(models.TextChoices):
    """How the portal learnt a connector status (the portal's own vocabulary)."""

    PUSH = "push", "运营商推送"
    PULL = "pull", "平台查询"
    IMPORT = "import", "导入"


class ChangeAction(models.TextChoices):
    CREATED = "created", "新增"
    UPDATED = "updated", "修改"
    REMOVED = "removed", "下线"
