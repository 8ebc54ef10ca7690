"""Charging sessions and their orders (T/CEC 102.3 §3.9, Beijing's bonus order) with ChargeDetails (§4.2)."""

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

from apps.core.models import TimeStampedModel, choices_constraint
from apps.core.roles import ScopedManager
from apps.operators.models import Operator
from apps.protocol.schema import BONUS_SEQ_MAX_LEN
from apps.stations.models import Connector

from .choices import (
    SEQ_STAT_TRANSITIONS,
    ChargeModel,
    ConfirmResult,
    FindingCategory,
    OrderInterface,
    StartChargeSeqStat,
    StopReason,
    custom_label,
)

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}  # 元, 2 decimals
ENERGY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}  # kWh, 2 decimals in part 3
PRICE: dict[str, Any] = {"max_digits": 10, "decimal_places": 4}
CUSTOM_CODE = [MinValueValidator(0), MaxValueValidator(99)]
ORDER_NUMBER = RegexValidator(
    rf"^[0-9A-Za-z]{{27,{BONUS_SEQ_MAX_LEN}}}$", f"充电订单号应为27位（奖励订单至多{BONUS_SEQ_MAX_LEN}位）字母或数字"
)


class ChargeOrder(TimeStampedModel):
    """One charging session, keyed by StartChargeSeq, and the order the operator reports when it ends.

    Sessions started through the city platform move through StartChargeSeqStat; sessions started at the
    pile arrive only as finished orders (ChargeModel says which).
    """

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="orders", verbose_name="运营商")
    # Empty for an order about a connector the directory does not know: it is stored and flagged, never lost.
    connector = models.ForeignKey(
        Connector, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", verbose_name="充电接口"
    )
    # The wire IDs as the operator sent them, known to the directory or not.
    connector_code = models.CharField("充电设备接口编码", max_length=26, db_index=True)
    station_code = models.CharField("充电站ID", max_length=20, blank=True)
    equipment_code = models.CharField("设备编码", max_length=23, blank=True)
    # 27 characters (the standard's serial); Beijing's bonus push may carry up to BONUS_SEQ_MAX_LEN (see the schema).
    start_charge_seq = models.CharField("充电订单号", max_length=BONUS_SEQ_MAX_LEN, validators=[ORDER_NUMBER])
    start_charge_seq_stat = models.PositiveSmallIntegerField(
        "充电订单状态", choices=StartChargeSeqStat.choices, default=StartChargeSeqStat.FINISHED, db_index=True
    )
    charge_model = models.PositiveSmallIntegerField(
        "启动方式", choices=ChargeModel.choices, default=ChargeModel.UNKNOWN
    )
    start_time = models.DateTimeField("开始充电时间", db_index=True)
    end_time = models.DateTimeField("结束充电时间", null=True, blank=True)
    total_power = models.DecimalField("累计充电量（kWh）", null=True, blank=True, **ENERGY)
    total_elec_money = models.DecimalField("总电费（元）", null=True, blank=True, **MONEY)
    total_sevice_money = models.DecimalField("总服务费（元）", null=True, blank=True, **MONEY)
    total_money = models.DecimalField("累计总金额（元）", null=True, blank=True, **MONEY)
    stop_reason = models.PositiveSmallIntegerField("充电结束原因", null=True, blank=True, validators=CUSTOM_CODE)
    sum_period = models.PositiveSmallIntegerField(
        "时段数", null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(32)]
    )
    ident_code = models.CharField("验证码", max_length=64, blank=True)
    # Beijing's notification_charge_order_info_for_bonus fields.
    user_name = models.CharField("客户名称", max_length=20, blank=True)
    connector_power = models.DecimalField("接口额定功率（kW）", max_digits=7, decimal_places=1, null=True, blank=True)
    charge_last = models.PositiveIntegerField("充电时长（秒）", null=True, blank=True)
    meter_value_start = models.DecimalField("电表总起值（kWh）", max_digits=14, decimal_places=2, null=True, blank=True)
    meter_value_end = models.DecimalField("电表总止值（kWh）", max_digits=14, decimal_places=2, null=True, blank=True)
    # The portal's answers to the two order pushes, and when each arrived (timeliness: ≤30 s, ≤150 s for the bonus).
    confirm_result = models.PositiveSmallIntegerField("确认结果", null=True, blank=True, validators=CUSTOM_CODE)
    order_received_at = models.DateTimeField("订单接收时间", null=True, blank=True)
    bonus_confirm_result = models.PositiveSmallIntegerField(
        "奖励订单确认结果", null=True, blank=True, validators=CUSTOM_CODE
    )
    bonus_received_at = models.DateTimeField("奖励订单接收时间", null=True, blank=True)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "充电订单"
        verbose_name_plural = "充电订单"
        ordering = ["-start_time"]
        get_latest_by = "start_time"
        permissions = [("import_chargeorder", "Can import 充电订单"), ("export_chargeorder", "Can export 充电订单")]
        indexes = [
            models.Index(fields=["operator", "-start_time"], name="order_operator_start"),
            # Reconciliation and daily figures select an operator's orders by when they ended.
            models.Index(fields=["operator", "end_time"], name="order_operator_end"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["operator", "start_charge_seq"], name="order_unique_seq_per_operator"),
            models.CheckConstraint(
                condition=models.Q(GreaterThanOrEqual(Length("start_charge_seq"), 27))
                & models.Q(LessThanOrEqual(Length("start_charge_seq"), BONUS_SEQ_MAX_LEN)),
                name="chargeorder_start_charge_seq_len",
            ),
            choices_constraint("start_charge_seq_stat", StartChargeSeqStat, "chargeorder"),
            choices_constraint("charge_model", ChargeModel, "chargeorder"),
            models.CheckConstraint(
                condition=models.Q(end_time__isnull=True) | models.Q(end_time__gte=models.F("start_time")),
                name="chargeorder_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(stop_reason__isnull=True) | models.Q(stop_reason__lte=99),
                name="chargeorder_stop_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(confirm_result__isnull=True) | models.Q(confirm_result__lte=99),
                name="chargeorder_confirm_result",
            ),
            models.CheckConstraint(
                condition=models.Q(sum_period__isnull=True) | models.Q(sum_period__lte=32),
                name="chargeorder_sum_period",
            ),
            models.CheckConstraint(
                condition=(
                    (models.Q(total_power__isnull=True) | models.Q(total_power__gte=0))
                    & (models.Q(total_money__isnull=True) | models.Q(total_money__gte=0))
                    & (models.Q(total_elec_money__isnull=True) | models.Q(total_elec_money__gte=0))
                    & (models.Q(total_sevice_money__isnull=True) | models.Q(total_sevice_money__gte=0))
                ),
                name="chargeorder_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.start_charge_seq

    @property
    def disputed(self) -> bool:
        return self.confirm_result not in (None, ConfirmResult.OK)

    def can_transition_to(self, new_state: int) -> bool:
        return new_state == self.start_charge_seq_stat or new_state in SEQ_STAT_TRANSITIONS[self.start_charge_seq_stat]

    @property
    def stop_reason_label(self) -> str:
        return custom_label(StopReason, self.stop_reason)

    @property
    def confirm_result_label(self) -> str:
        return custom_label(ConfirmResult, self.confirm_result)


class ChargeDetail(TimeStampedModel):
    """ChargeDetail 充电明细信息体: one element per tariff period the session crossed."""

    order = models.ForeignKey(ChargeOrder, on_delete=models.CASCADE, related_name="details", verbose_name="充电订单")
    detail_start_time = models.DateTimeField("开始时间")
    detail_end_time = models.DateTimeField("结束时间")
    elec_price = models.DecimalField("时段电价（元/kWh）", null=True, blank=True, **PRICE)
    sevice_price = models.DecimalField("时段服务费价格（元/kWh）", null=True, blank=True, **PRICE)
    detail_power = models.DecimalField("时段充电量（kWh）", **ENERGY)
    detail_elec_money = models.DecimalField("时段电费（元）", null=True, blank=True, **MONEY)
    detail_sevice_money = models.DecimalField("时段服务费（元）", null=True, blank=True, **MONEY)

    scope_operator_field = "order__operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "充电明细"
        verbose_name_plural = "充电明细"
        ordering = ["order_id", "detail_start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(detail_end_time__gte=models.F("detail_start_time")), name="chargedetail_period"
            ),
            models.CheckConstraint(condition=models.Q(detail_power__gte=0), name="chargedetail_power_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.order.start_charge_seq} {self.detail_start_time:%H:%M}–{self.detail_end_time:%H:%M}"


class OrderReport(models.Model):
    """One order push as it arrived (notification_charge_order_info or Beijing's bonus push): a revision per
    distinct content, so a repeat is recognised by its digest and a correction after a dispute is kept beside the
    revision it corrects."""

    order = models.ForeignKey(ChargeOrder, on_delete=models.CASCADE, related_name="reports", verbose_name="充电订单")
    interface = models.CharField("接口", max_length=64, choices=OrderInterface.choices)
    revision = models.PositiveIntegerField("版本")
    digest = models.CharField("内容摘要", max_length=64, help_text="订单内容的 SHA-256，相同内容的重复推送不产生新版本")
    payload = models.JSONField("推送内容")
    confirm_result = models.PositiveSmallIntegerField("确认结果", validators=CUSTOM_CODE)
    # The envelope it came in, to find its journal row (written after the answer, so not linked directly).
    timestamp = models.CharField("TimeStamp", max_length=20, blank=True)
    seq = models.CharField("Seq", max_length=8, blank=True)
    received_at = models.DateTimeField("接收时间", db_index=True)
    repeats = models.PositiveIntegerField("重复推送次数", default=0)

    scope_operator_field = "order__operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "订单推送记录"
        verbose_name_plural = "订单推送记录"
        ordering = ["order_id", "interface", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["order", "interface", "revision"], name="orderreport_revision"),
            models.UniqueConstraint(fields=["order", "interface", "digest"], name="orderreport_digest"),
            models.CheckConstraint(condition=models.Q(confirm_result__lte=99), name="orderreport_confirm_result"),
        ]

    def __str__(self) -> str:
        return f"{self.order.start_charge_seq} {self.get_interface_display()} 第{self.revision}版"

    @property
    def confirm_result_label(self) -> str:
        return custom_label(ConfirmResult, self.confirm_result)


class OrderFinding(models.Model):
    """Something an order's revision broke: its own figures disagreeing (a dispute), a price that is not the
    declared policy's, a connector the directory does not know. Stable rule codes, a Chinese message."""

    order = models.ForeignKey(ChargeOrder, on_delete=models.CASCADE, related_name="findings", verbose_name="充电订单")
    report = models.ForeignKey(
        OrderReport, on_delete=models.CASCADE, related_name="findings", verbose_name="订单推送记录"
    )
    category = models.CharField("类别", max_length=12, choices=FindingCategory.choices, db_index=True)
    rule = models.CharField("规则", max_length=32, db_index=True)
    path = models.CharField("字段", max_length=120, blank=True)
    message = models.TextField("说明")
    disputes = models.BooleanField(
        "构成争议", default=False, help_text="运营商自身数据互相矛盾，订单确认结果为争议交易"
    )
    created = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    scope_operator_field = "order__operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "订单核查结果"
        verbose_name_plural = "订单核查结果"
        ordering = ["-created", "id"]
        permissions = [("export_orderfinding", "Can export 订单核查结果")]
        indexes = [models.Index(fields=["category", "-created"], name="orderfinding_category")]

    def __str__(self) -> str:
        return f"{self.order.start_charge_seq} {self.rule}"
