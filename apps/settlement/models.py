"""Reconciliation runs (check_charge_orders, part 3 §3.10) and the disputes each one found."""

from __future__ import annotations

import zlib
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from apps.core.models import TimeStampedModel, choices_constraint
from apps.core.roles import ScopedManager
from apps.operators.models import Operator
from apps.orders.models import ENERGY, MONEY, ChargeOrder

from .choices import DisputeReasonChoices, DisputeState, Resolution, SettlementPeriod, StatementState

# TotalOrderPower / TotalDisputePower: kWh with 4 decimals
ENERGY4: dict[str, Any] = {"max_digits": 16, "decimal_places": 4}


class ReconciliationRun(models.Model):
    """One check_charge_orders an operator sent: its totals, what the portal found, and the answer it gave.

    A repeat of the same CheckOrderSeq is answered with the stored answer and changes nothing.
    """

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="reconciliations", verbose_name="运营商"
    )
    check_order_seq = models.CharField("订单对账流水号", max_length=27)
    start_time = models.DateTimeField("账单开始时间")
    end_time = models.DateTimeField("账单结束时间", db_index=True)
    order_count = models.PositiveIntegerField("运营商订单数")
    total_order_power = models.DecimalField("运营商总电量（kWh）", **ENERGY4)
    total_order_money = models.DecimalField("运营商总金额（元）", max_digits=16, decimal_places=2)
    portal_order_count = models.PositiveIntegerField("平台订单数", default=0)
    matched_count = models.PositiveIntegerField("一致", default=0)
    dispute_count = models.PositiveIntegerField("争议", default=0)
    missing_at_portal_count = models.PositiveIntegerField("平台无此订单", default=0)
    missing_at_operator_count = models.PositiveIntegerField("运营商未列出", default=0)
    total_dispute_power = models.DecimalField("争议电量（kWh）", default=0, **ENERGY4)
    total_dispute_money = models.DecimalField("争议金额（元）", default=0, max_digits=16, decimal_places=2)
    answer = models.JSONField("应答内容", null=True, blank=True)
    # The operator's list as received, compressed: a million orders is ~80 MB of JSON, ~10 MB here.
    request_data = models.BinaryField("请求内容（zlib 压缩的 JSON）", null=True, blank=True, editable=False)
    received_at = models.DateTimeField("接收时间", db_index=True)
    duration_ms = models.FloatField("核对耗时（毫秒）", default=0)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "对账记录"
        verbose_name_plural = "对账记录"
        ordering = ["-received_at"]
        permissions = [("export_reconciliationrun", "Can export 对账记录")]
        get_latest_by = "received_at"
        constraints = [
            models.UniqueConstraint(fields=["operator", "check_order_seq"], name="reconciliation_unique_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.start_time:%Y-%m-%d} {self.check_order_seq}"

    def request_json(self) -> bytes:
        """The check_charge_orders Data the operator sent, as JSON text."""
        return zlib.decompress(bytes(self.request_data)) if self.request_data else b""


class Dispute(TimeStampedModel):
    """An order the two sides disagree about after a reconciliation: either side's figures, and how it was settled.

    Regulators, or the operator's account manager for their own, resolve it with a comment; every change is kept
    in its history (who, when, before and after).
    """

    run = models.ForeignKey(
        ReconciliationRun, on_delete=models.CASCADE, related_name="disputes", verbose_name="对账记录"
    )
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="disputes", verbose_name="运营商")
    start_charge_seq = models.CharField("充电订单号", max_length=27, db_index=True)
    order = models.ForeignKey(
        ChargeOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="disputes", verbose_name="平台订单"
    )
    reason = models.PositiveSmallIntegerField("争议原因", choices=DisputeReasonChoices.choices)
    operator_power = models.DecimalField("运营商电量（kWh）", null=True, blank=True, **ENERGY)
    operator_money = models.DecimalField("运营商金额（元）", null=True, blank=True, **MONEY)
    portal_power = models.DecimalField("平台电量（kWh）", null=True, blank=True, **ENERGY)
    portal_money = models.DecimalField("平台金额（元）", null=True, blank=True, **MONEY)
    state = models.CharField(
        "处理状态", max_length=10, choices=DisputeState.choices, default=DisputeState.OPEN, db_index=True
    )
    resolution = models.CharField("处理结果", max_length=10, choices=Resolution.choices, blank=True)
    settled_power = models.DecimalField("结算电量（kWh）", null=True, blank=True, **ENERGY)
    settled_money = models.DecimalField("结算金额（元）", null=True, blank=True, **MONEY)
    comment = models.TextField("处理说明", blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="处理人",
    )
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    history = HistoricalRecords(verbose_name="争议处理记录", excluded_fields=["created", "updated"])

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "争议交易"
        verbose_name_plural = "争议交易"
        ordering = ["-created", "id"]
        permissions = [("export_dispute", "Can export 争议交易"), ("resolve_dispute", "Can resolve 争议交易")]
        indexes = [models.Index(fields=["operator", "state"], name="dispute_operator_state")]
        constraints = [
            models.UniqueConstraint(fields=["run", "start_charge_seq"], name="dispute_unique_per_run"),
            models.CheckConstraint(
                condition=models.Q(state=DisputeState.OPEN, resolution="")
                | models.Q(state=DisputeState.RESOLVED) & ~models.Q(resolution=""),
                name="dispute_resolution_with_state",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_charge_seq} {self.get_reason_display()}"


class SettlementAgreement(TimeStampedModel):
    """What the city platform and an operator agreed on settling the drivers' sessions: how often, what commission."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="agreements", verbose_name="运营商")
    period = models.CharField(
        "结算周期", max_length=8, choices=SettlementPeriod.choices, default=SettlementPeriod.MONTH
    )
    commission_rate = models.DecimalField(
        "平台服务费率",
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="按订单总金额计，如 0.0300 即 3%",
    )
    effective_from = models.DateField("生效日期")
    effective_to = models.DateField("失效日期", null=True, blank=True, help_text="不含当日；留空为长期有效")

    scope_operator_field = "operator"
    objects = ScopedManager()
    history = HistoricalRecords(verbose_name="结算协议变更记录", excluded_fields=["created", "updated"])

    class Meta:
        verbose_name = "结算协议"
        verbose_name_plural = "结算协议"
        ordering = ["operator_id", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True) | models.Q(effective_to__gt=models.F("effective_from")),
                name="agreement_dates_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(commission_rate__gte=0) & models.Q(commission_rate__lte=1),
                name="agreement_rate_between_0_and_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.get_period_display()} {self.commission_rate:%}"


class Statement(TimeStampedModel):
    """One operator's settlement for one period: the portal-started orders that ended in it, the commission and what
    the city platform owes. Moves draft → confirmed → paid, each step with who and when."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="statements", verbose_name="运营商")
    agreement = models.ForeignKey(
        SettlementAgreement, on_delete=models.PROTECT, related_name="statements", verbose_name="结算协议"
    )
    period_start = models.DateField("结算期起")
    period_end = models.DateField("结算期止", help_text="不含当日")
    order_count = models.PositiveIntegerField("订单数", default=0)
    total_power = models.DecimalField("总电量（kWh）", default=0, **ENERGY)
    elec_money = models.DecimalField("电费（元）", default=0, **MONEY)
    sevice_money = models.DecimalField("服务费（元）", default=0, **MONEY)
    total_money = models.DecimalField("订单总金额（元）", default=0, **MONEY)
    commission_rate = models.DecimalField("平台服务费率", max_digits=5, decimal_places=4)
    commission = models.DecimalField("平台服务费（元）", default=0, **MONEY)
    net_payable = models.DecimalField("应付运营商（元）", default=0, **MONEY)
    disputes_open = models.PositiveIntegerField("未处理争议数", default=0)
    state = models.CharField("状态", max_length=10, choices=StatementState.choices, default=StatementState.DRAFT)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="确认人",
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="付款登记人",
    )
    paid_at = models.DateTimeField("付款时间", null=True, blank=True)
    payment_reference = models.CharField("付款凭证号", max_length=64, blank=True)

    scope_operator_field = "operator"
    objects = ScopedManager()
    history = HistoricalRecords(verbose_name="结算单变更记录", excluded_fields=["created", "updated"])

    class Meta:
        verbose_name = "结算单"
        verbose_name_plural = "结算单"
        ordering = ["-period_start", "operator_id"]
        permissions = [
            ("confirm_statement", "Can confirm 结算单"),
            ("pay_statement", "Can record payment of 结算单"),
            ("export_statement", "Can export 结算单"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "period_start", "period_end"], name="statement_once_per_period"
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gt=models.F("period_start")), name="statement_period"
            ),
            choices_constraint("state", StatementState, "statement"),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.period_start}–{self.period_end}"
