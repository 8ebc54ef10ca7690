"""The directory (T/CEC 102.2 §2): stations, equipment, connectors, their status and statistics.

Field names are the snake_case of the wire names (`StationLng` → `station_lng`), so serialising a
record needs no mapping table.
"""

from typing import Any

from django.db import models

from apps.core.models import TimeStampedModel, choices_constraint, fixed_length_constraint
from apps.core.roles import ScopedManager
from apps.core.validators import (
    area_code_validator,
    country_code_validator,
    latitude_validators,
    longitude_validators,
    operator_id_validator,
)
from apps.operators.models import Operator

from .choices import (
    ChangeAction,
    ConnectorType,
    Construction,
    EquipmentType,
    LockStatus,
    NationalStandard,
    ParkStatus,
    StationStatus,
    StationType,
    StatusSource,
    SupportOrder,
)
from .choices import (
    ConnectorStatus as ConnectorStatusChoices,
)

POWER: dict[str, Any] = {"max_digits": 7, "decimal_places": 1}  # kW, 1 decimal (ConnectorInfo/EquipmentInfo Power)
ENERGY: dict[str, Any] = {"max_digits": 14, "decimal_places": 1}  # kWh, 1 decimal (StationStatsInfo)
LNG: dict[str, Any] = {"max_digits": 9, "decimal_places": 6, "validators": longitude_validators}
LAT: dict[str, Any] = {"max_digits": 8, "decimal_places": 6, "validators": latitude_validators}


class Station(TimeStampedModel):
    """StationInfo 充电站信息."""

    # No index of its own: the (operator, key) unique constraint leads with operator_id and serves every filter on
    # it, and a crawl page's insert paid for two more (the btree and its LIKE twin) on every row.
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="stations", verbose_name="运营商", db_index=False
    )
    station_id = models.CharField("充电站ID", max_length=20)
    equipment_owner_id = models.CharField("设备所属方ID", max_length=9, validators=[operator_id_validator])
    station_name = models.CharField("充电站名称", max_length=50)
    country_code = models.CharField("国家代码", max_length=2, default="CN", validators=[country_code_validator])
    area_code = models.CharField("省市辖区编码", max_length=20, db_index=True, validators=[area_code_validator])
    address = models.CharField("详细地址", max_length=50)
    station_tel = models.CharField("站点电话", max_length=30, blank=True)
    service_tel = models.CharField("服务电话", max_length=30)
    station_type = models.PositiveSmallIntegerField("站点类型", choices=StationType.choices)
    station_status = models.PositiveSmallIntegerField("站点状态", choices=StationStatus.choices)
    park_nums = models.PositiveIntegerField("车位数量", default=0, help_text="0 表示未知")
    station_lng = models.DecimalField("经度（GCJ-02）", **LNG)
    station_lat = models.DecimalField("纬度（GCJ-02）", **LAT)
    site_guide = models.CharField("站点引导", max_length=100, blank=True)
    construction = models.PositiveSmallIntegerField("建设场所", choices=Construction.choices)
    pictures = models.JSONField("站点照片", default=list, blank=True)
    match_cars = models.CharField("使用车型描述", max_length=100, blank=True)
    park_info = models.CharField("车位楼层及数量描述", max_length=100, blank=True)
    busine_hours = models.CharField("营业时间", max_length=100, blank=True)
    electricity_fee = models.CharField("充电电费率", max_length=256, blank=True)
    service_fee = models.CharField("服务费率", max_length=100, blank=True)
    park_fee = models.CharField("停车费", max_length=100, blank=True)
    payment = models.CharField("支付方式", max_length=20, blank=True)
    support_order = models.PositiveSmallIntegerField(
        "是否支持预约", choices=SupportOrder.choices, default=SupportOrder.NO
    )
    remark = models.CharField("备注", max_length=100, blank=True)
    # Set when a full crawl no longer finds the station at its operator: kept for the record, not published.
    removed_at = models.DateTimeField("下线时间", null=True, blank=True, db_index=True)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "充电站"
        verbose_name_plural = "充电站"
        ordering = ["operator_id", "station_id"]
        permissions = [("import_station", "Can import 充电站"), ("export_station", "Can export 充电站")]
        constraints = [
            models.UniqueConstraint(fields=["operator", "station_id"], name="station_unique_per_operator"),
            choices_constraint("station_type", StationType, "station"),
            choices_constraint("station_status", StationStatus, "station"),
            choices_constraint("construction", Construction, "station"),
            choices_constraint("support_order", SupportOrder, "station"),
            fixed_length_constraint("equipment_owner_id", 9, "station"),
            fixed_length_constraint("country_code", 2, "station"),
            models.CheckConstraint(
                condition=models.Q(
                    station_lng__gte=-180, station_lng__lte=180, station_lat__gte=-90, station_lat__lte=90
                ),
                name="station_coordinates_in_range",
            ),
            models.CheckConstraint(condition=~models.Q(station_id=""), name="station_station_id_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.station_name}（{self.station_id}）"


class Equipment(TimeStampedModel):
    """EquipmentInfo 充电设备信息. EquipmentID is unique within the operator, hence the operator key here too."""

    # No index of its own: the (operator, key) unique constraint leads with operator_id and serves every filter on
    # it, and a crawl page's insert paid for two more (the btree and its LIKE twin) on every row.
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="equipment", verbose_name="运营商", db_index=False
    )
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="equipment", verbose_name="充电站")
    equipment_id = models.CharField("设备编码", max_length=23)
    manufacturer_id = models.CharField(
        "设备生产商组织机构代码", max_length=9, blank=True, validators=[operator_id_validator]
    )
    manufacturer_name = models.CharField("设备生产商名称", max_length=30, blank=True)
    equipment_model = models.CharField("设备型号", max_length=20, blank=True)
    production_date = models.DateField("设备生产日期", null=True, blank=True)
    equipment_type = models.PositiveSmallIntegerField("设备类型", choices=EquipmentType.choices)
    equipment_lng = models.DecimalField("设备经度（GCJ-02）", null=True, blank=True, **LNG)
    equipment_lat = models.DecimalField("设备纬度（GCJ-02）", null=True, blank=True, **LAT)
    power = models.DecimalField("总功率（kW）", **POWER)
    equipment_name = models.CharField("充电设备名称", max_length=30, blank=True)
    # Set when the operator lists the station without this equipment; kept because orders and stats refer to it.
    removed_at = models.DateTimeField("下线时间", null=True, blank=True, db_index=True)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "充电设备"
        verbose_name_plural = "充电设备"
        ordering = ["station_id", "equipment_id"]
        permissions = [("import_equipment", "Can import 充电设备"), ("export_equipment", "Can export 充电设备")]
        constraints = [
            models.UniqueConstraint(fields=["operator", "equipment_id"], name="equipment_unique_per_operator"),
            choices_constraint("equipment_type", EquipmentType, "equipment"),
            fixed_length_constraint("manufacturer_id", 9, "equipment", allow_blank=True),
            models.CheckConstraint(condition=models.Q(power__gte=0), name="equipment_power_not_negative"),
            models.CheckConstraint(condition=~models.Q(equipment_id=""), name="equipment_equipment_id_not_blank"),
        ]

    def __str__(self) -> str:
        return self.equipment_name or self.equipment_id


class Connector(TimeStampedModel):
    """ConnectorInfo 充电设备接口信息. ConnectorID is unique within the operator (and so within a station)."""

    # No index of its own: the (operator, key) unique constraint leads with operator_id and serves every filter on
    # it, and a crawl page's insert paid for two more (the btree and its LIKE twin) on every row. No database
    # constraint either: the operator follows from the station (the directory writes a connector under its station's
    # operator), whose own constraint to the operator holds it, so the check PostgreSQL ran at commit for every
    # connector a crawl wrote (a thousand a page) proved nothing new. Deleting an operator through Django still
    # meets PROTECT; in the database its stations stand in the way.
    operator = models.ForeignKey(
        Operator,
        on_delete=models.PROTECT,
        related_name="connectors",
        verbose_name="运营商",
        db_index=False,
        db_constraint=False,
    )
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="connectors", verbose_name="充电站")
    equipment = models.ForeignKey(
        Equipment, on_delete=models.CASCADE, related_name="connectors", verbose_name="充电设备"
    )
    connector_id = models.CharField("充电设备接口编码", max_length=26)
    connector_name = models.CharField("接口名称", max_length=30, blank=True)
    connector_type = models.PositiveSmallIntegerField("接口类型", choices=ConnectorType.choices)
    voltage_upper_limits = models.PositiveIntegerField("额定电压上限（V）")
    voltage_lower_limits = models.PositiveIntegerField("额定电压下限（V）")
    current = models.PositiveIntegerField("额定电流（A）")
    power = models.DecimalField("额定功率（kW）", **POWER)
    park_no = models.CharField("车位号", max_length=10, blank=True)
    national_standard = models.PositiveSmallIntegerField("国家标准", choices=NationalStandard.choices)
    # Set when the operator lists the station without this connector; kept for its orders, history and stats.
    removed_at = models.DateTimeField("下线时间", null=True, blank=True, db_index=True)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "充电接口"
        verbose_name_plural = "充电接口"
        ordering = ["equipment_id", "connector_id"]
        permissions = [("import_connector", "Can import 充电接口"), ("export_connector", "Can export 充电接口")]
        constraints = [
            models.UniqueConstraint(fields=["operator", "connector_id"], name="connector_unique_per_operator"),
            choices_constraint("connector_type", ConnectorType, "connector"),
            choices_constraint("national_standard", NationalStandard, "connector"),
            models.CheckConstraint(
                condition=models.Q(voltage_lower_limits__lte=models.F("voltage_upper_limits")),
                name="connector_voltage_lower_le_upper",
            ),
            models.CheckConstraint(condition=models.Q(power__gte=0), name="connector_power_not_negative"),
            models.CheckConstraint(condition=~models.Q(connector_id=""), name="connector_connector_id_not_blank"),
        ]

    def __str__(self) -> str:
        # By station and ConnectorID, the way a regulator finds it: an operator's connector name ("1号枪") repeats at
        # every station. Lists showing connectors select the station with them.
        return f"{self.station.station_name} · {self.connector_id}"

    @property
    def qr_code(self) -> str:
        """The part-1 appendix QR URI: hlht://<ConnectorID>.<OperatorID>/"""
        return f"hlht://{self.connector_id}.{self.operator_id}/"


class _StatusFields(models.Model):
    """ConnectorStatusInfo 充电设备接口状态, plus when it held and how the portal learnt it."""

    status = models.PositiveSmallIntegerField("接口状态", choices=ConnectorStatusChoices.choices)
    park_status = models.PositiveSmallIntegerField("车位状态", choices=ParkStatus.choices, null=True, blank=True)
    lock_status = models.PositiveSmallIntegerField("地锁状态", choices=LockStatus.choices, null=True, blank=True)
    status_time = models.DateTimeField("状态时间", help_text="推送报文的 TimeStamp，或查询得到该状态的时间")
    source = models.CharField("来源", max_length=8, choices=StatusSource.choices)

    class Meta:
        abstract = True


class ConnectorStatus(_StatusFields, TimeStampedModel):
    """The newest known status of a connector (one row per connector)."""

    connector = models.OneToOneField(
        Connector, on_delete=models.CASCADE, primary_key=True, related_name="current_status", verbose_name="充电接口"
    )

    scope_operator_field = "connector__operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "接口当前状态"
        verbose_name_plural = "接口当前状态"
        constraints = [
            choices_constraint("status", ConnectorStatusChoices, "connectorstatus"),
            choices_constraint("park_status", ParkStatus, "connectorstatus"),
            choices_constraint("lock_status", LockStatus, "connectorstatus"),
        ]

    def __str__(self) -> str:
        return f"{self.connector.connector_id}: {self.get_status_display()}"


class ConnectorStatusHistory(_StatusFields, TimeStampedModel):
    """Every status a connector has reported, in the order it held."""

    connector = models.ForeignKey(
        Connector, on_delete=models.CASCADE, related_name="status_history", verbose_name="充电接口"
    )

    scope_operator_field = "connector__operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "接口状态历史"
        verbose_name_plural = "接口状态历史"
        ordering = ["-status_time", "-id"]
        indexes = [
            # A connector's history newest first, in the list's exact order (no sort after the index scan).
            models.Index(fields=["connector", "-status_time", "-id"], name="status_history_conn_time_id"),
            # The changelist's and the API's order, across every connector.
            models.Index(fields=["-status_time", "-id"], name="status_history_time"),
        ]
        constraints = [
            choices_constraint("status", ConnectorStatusChoices, "connectorstatushistory"),
            choices_constraint("park_status", ParkStatus, "connectorstatushistory"),
            choices_constraint("lock_status", LockStatus, "connectorstatushistory"),
        ]

    def __str__(self) -> str:
        return f"{self.connector.connector_id} @ {self.status_time:%Y-%m-%d %H:%M:%S}: {self.get_status_display()}"


class StationStats(TimeStampedModel):
    """StationStatsInfo 充电站统计信息: energy delivered over a period of whole days (both ends inclusive)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="stats", verbose_name="充电站")
    start_time = models.DateField("统计开始时间")
    end_time = models.DateField("统计结束时间")
    station_electricity = models.DecimalField("充电站累计电量（kWh）", **ENERGY)

    scope_operator_field = "station__operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "充电站统计"
        verbose_name_plural = "充电站统计"
        ordering = ["-start_time", "station_id"]
        constraints = [
            models.UniqueConstraint(fields=["station", "start_time", "end_time"], name="station_stats_unique_period"),
            models.CheckConstraint(
                condition=models.Q(end_time__gte=models.F("start_time")), name="station_stats_period"
            ),
            models.CheckConstraint(condition=models.Q(station_electricity__gte=0), name="station_stats_energy"),
        ]

    def __str__(self) -> str:
        return f"{self.station} {self.start_time}–{self.end_time}"


class EquipmentStats(TimeStampedModel):
    """EquipmentStatsInfo 充电设备统计信息."""

    station_stats = models.ForeignKey(
        StationStats, on_delete=models.CASCADE, related_name="equipment_stats", verbose_name="充电站统计"
    )
    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="stats", verbose_name="充电设备")
    equipment_electricity = models.DecimalField("充电设备累计电量（kWh）", **ENERGY)

    scope_operator_field = "equipment__operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "充电设备统计"
        verbose_name_plural = "充电设备统计"
        constraints = [
            models.UniqueConstraint(fields=["station_stats", "equipment"], name="equipment_stats_unique"),
            models.CheckConstraint(condition=models.Q(equipment_electricity__gte=0), name="equipment_stats_energy"),
        ]

    def __str__(self) -> str:
        return f"{self.equipment.equipment_id}: {self.equipment_electricity} kWh"


class ConnectorStats(TimeStampedModel):
    """ConnectorStatsInfo 充电设备接口统计信息 (ConnectorElectricity is optional on the wire)."""

    equipment_stats = models.ForeignKey(
        EquipmentStats, on_delete=models.CASCADE, related_name="connector_stats", verbose_name="充电设备统计"
    )
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="stats", verbose_name="充电接口")
    connector_electricity = models.DecimalField("充电接口累计电量（kWh）", null=True, blank=True, **ENERGY)

    scope_operator_field = "connector__operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "充电接口统计"
        verbose_name_plural = "充电接口统计"
        constraints = [
            models.UniqueConstraint(fields=["equipment_stats", "connector"], name="connector_stats_unique"),
            models.CheckConstraint(
                condition=models.Q(connector_electricity__gte=0) | models.Q(connector_electricity__isnull=True),
                name="connector_stats_energy",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connector.connector_id}: {self.connector_electricity} kWh"


class PendingConnectorStatus(_StatusFields, TimeStampedModel):
    """A status pushed for a connector the directory does not list yet; applied once the connector appears."""

    operator = models.ForeignKey(
        Operator, on_delete=models.CASCADE, related_name="pending_statuses", verbose_name="运营商"
    )
    connector_id = models.CharField("充电设备接口编码", max_length=26)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "待关联接口状态"
        verbose_name_plural = "待关联接口状态"
        ordering = ["operator_id", "connector_id", "status_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "connector_id", "status_time", "status"], name="pending_status_unique"
            ),
            choices_constraint("status", ConnectorStatusChoices, "pendingconnectorstatus"),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id}/{self.connector_id} @ {self.status_time:%Y-%m-%d %H:%M:%S}"


class DirectoryChange(models.Model):
    """What changed in a station, its equipment or connectors, when, and from which pull."""

    operator = models.ForeignKey(
        Operator, on_delete=models.CASCADE, related_name="directory_changes", verbose_name="运营商"
    )
    station_id = models.CharField("充电站ID", max_length=20, db_index=True)
    kind = models.CharField("对象", max_length=10)  # station / equipment / connector
    object_id = models.CharField("对象编码", max_length=26)
    action = models.CharField("变化", max_length=8, choices=ChangeAction.choices)
    changes = models.JSONField("字段变化", default=dict)  # {field: [old, new]}
    run = models.ForeignKey(
        "interconnect.SyncRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name="同步记录",
    )
    # The message the record came in; the journal's retention may outlive it, hence SET_NULL.
    exchange = models.ForeignKey(
        "interconnect.Exchange",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name="报文",
        db_constraint=False,  # the journal is partitioned on PostgreSQL (see RejectedRecord.exchange)
    )
    created = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        db_table = "interconnect_directorychange"  # moved from interconnect with its rows; the table kept its name
        verbose_name = "站点变更"
        verbose_name_plural = "站点变更"
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["operator", "station_id", "-created"], name="dirchange_station")]

    def __str__(self) -> str:
        return f"{self.operator_id}/{self.station_id} {self.kind} {self.object_id} {self.action}"
