"""Business policies (T/CEC 102.3 §3.2, PolicyInfo §4.1): time-of-day tariffs per connector, versioned."""

from typing import Any

from django.db import models

from apps.core.models import TimeStampedModel, fixed_length_constraint
from apps.core.roles import ScopedManager
from apps.core.validators import hhmmss_validator, serial_number_validator
from apps.operators.models import Operator
from apps.stations.models import Connector

PRICE: dict[str, Any] = {"max_digits": 10, "decimal_places": 4}  # 元/kWh, 4 decimals


class PolicySource(models.TextChoices):
    PULL = "pull", "查询业务策略"
    IMPORT = "import", "导入"
    MANUAL = "manual", "人工录入"


class BusinessPolicy(TimeStampedModel):
    """One version of a connector's tariff; the version in force is the newest whose effective time has passed."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="policies", verbose_name="运营商")
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="policies", verbose_name="充电接口")
    effective_from = models.DateTimeField("生效时间", db_index=True)
    equip_biz_seq = models.CharField(
        "业务策略查询流水号", max_length=27, blank=True, validators=[serial_number_validator]
    )
    source = models.CharField("来源", max_length=8, choices=PolicySource.choices, default=PolicySource.PULL)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "业务策略"
        verbose_name_plural = "业务策略"
        ordering = ["connector_id", "-effective_from"]
        get_latest_by = "effective_from"
        permissions = [
            ("import_businesspolicy", "Can import 业务策略"),
            ("export_businesspolicy", "Can export 业务策略"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["connector", "effective_from"], name="policy_unique_version"),
            fixed_length_constraint("equip_biz_seq", 27, "businesspolicy", allow_blank=True),
        ]

    def __str__(self) -> str:
        return f"{self.connector} 自 {self.effective_from:%Y-%m-%d %H:%M}"


class PolicyPeriod(TimeStampedModel):
    """PolicyInfo 单项业务策略信息体: applies from its StartTime until the next one (the last until 24:00)."""

    policy = models.ForeignKey(
        BusinessPolicy, on_delete=models.CASCADE, related_name="periods", verbose_name="业务策略"
    )
    start_time = models.CharField("时段起始时间点", max_length=6, validators=[hhmmss_validator], help_text="HHmmss")
    elec_price = models.DecimalField("时段电费（元/kWh）", **PRICE)
    sevice_price = models.DecimalField("时段服务费（元/kWh）", **PRICE)

    scope_operator_field = "policy__operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "计费时段"
        verbose_name_plural = "计费时段"
        permissions = [("import_policyperiod", "Can import 计费时段"), ("export_policyperiod", "Can export 计费时段")]
        ordering = ["policy_id", "start_time"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "start_time"], name="policy_period_unique_start"),
            fixed_length_constraint("start_time", 6, "policyperiod"),
            models.CheckConstraint(
                condition=models.Q(elec_price__gte=0, sevice_price__gte=0), name="policy_period_prices_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_time[:2]}:{self.start_time[2:4]} 电费 {self.elec_price} 服务费 {self.sevice_price}"


class PolicyCheck(models.Model):
    """The portal's last query_equip_business_policy of one connector: when, the answer, and the version it saw.

    The daily pull asks the connectors checked longest ago first, so one row per connector is its whole memory.
    """

    connector = models.OneToOneField(
        Connector, on_delete=models.CASCADE, related_name="policy_check", verbose_name="充电接口"
    )
    operator = models.ForeignKey(
        Operator, on_delete=models.CASCADE, related_name="policy_checks", verbose_name="运营商"
    )
    checked_at = models.DateTimeField("查询时间", db_index=True)
    succ_stat = models.PositiveSmallIntegerField("成功状态", default=0)
    fail_reason = models.PositiveSmallIntegerField("失败原因", default=0)
    equip_biz_seq = models.CharField("业务策略查询流水号", max_length=27, blank=True)
    policy = models.ForeignKey(
        BusinessPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="当时的策略"
    )

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "业务策略查询"
        verbose_name_plural = "业务策略查询"
        ordering = ["checked_at"]
        indexes = [models.Index(fields=["operator", "checked_at"], name="policycheck_operator_checked")]

    def __str__(self) -> str:
        return f"{self.connector} {self.checked_at:%Y-%m-%d %H:%M}"
