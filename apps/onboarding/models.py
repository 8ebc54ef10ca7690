"""Applications to connect, the key set handed over once on approval, and stored conformance reports."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from apps.core.models import TimeStampedModel
from apps.core.roles import ScopedManager
from apps.operators.choices import OperatorKind
from apps.operators.models import Operator

from .choices import OPEN_STATUSES, ApplicationStatus


class Application(TimeStampedModel):
    """An operator's (or a third-party platform's) application to connect, from the public form /apply/."""

    reference = models.CharField("申请编号", max_length=20, unique=True, editable=False)
    legal_name = models.CharField("单位名称", max_length=64)
    credit_code = models.CharField("统一社会信用代码", max_length=18)
    applied_operator_id = models.CharField("运营商ID", max_length=9, db_index=True, editable=False)
    kind = models.CharField("类型", max_length=16, choices=OperatorKind.choices)
    contact_name = models.CharField("联系人", max_length=32)
    contact_phone = models.CharField("联系人电话", max_length=32)
    service_tel = models.CharField("客服电话", max_length=32)
    reg_address = models.CharField("注册地址", max_length=64, blank=True)
    base_url = models.URLField("平台接口地址", max_length=200)
    station_count = models.PositiveIntegerField("充电站数量", validators=[MaxValueValidator(1_000_000)])
    connector_count = models.PositiveIntegerField("充电接口数量", validators=[MaxValueValidator(10_000_000)])
    dialects = models.JSONField("已知的协议差异", default=list, blank=True)
    email = models.EmailField("联系邮箱")
    submitted_from = models.GenericIPAddressField("提交地址", null=True, blank=True, editable=False)

    status = models.CharField(
        "审核状态", max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="审核人",
    )  # fmt: skip
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_reason = models.CharField("审核意见", max_length=500, blank=True)
    operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.SET_NULL, related_name="applications", verbose_name="运营商"
    )

    scope_operator_field = "operator"
    objects = ScopedManager()
    history = HistoricalRecords(verbose_name="申请审核记录", excluded_fields=["created", "updated"])

    class Meta:
        verbose_name = "接入申请"
        verbose_name_plural = "接入申请"
        ordering = ["-created"]
        permissions = [("review_application", "Can approve or reject 接入申请")]
        constraints = [
            # Two open applications for one operator would both be approvable: the database refuses the second.
            models.UniqueConstraint(
                fields=["applied_operator_id"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="one_open_application",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.legal_name}"


class KeyHandover(models.Model):
    """The key sets issued on approval, sealed, shown to one person once; then only who saw them and when remain."""

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="+", verbose_name="运营商")
    application = models.ForeignKey(Application, null=True, on_delete=models.SET_NULL, related_name="+")
    sealed = models.TextField(blank=True)  # seal(JSON of operator_provision's result); emptied once shown
    password_link = models.TextField(blank=True)  # seal(the manager's one-time password-set path); emptied once shown
    created = models.DateTimeField("签发时间", auto_now_add=True)
    shown_at = models.DateTimeField("查看时间", null=True, blank=True)
    shown_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="查看人",
    )  # fmt: skip

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "密钥交付"
        verbose_name_plural = "密钥交付"
        permissions = [("enter_outbound_keys", "Can enter the key set an operator's platform issued to the portal")]

    def __str__(self) -> str:
        return f"{self.operator_id} {timezone.localtime(self.created):%Y-%m-%d %H:%M}"


class ConformanceReport(models.Model):
    """One run of the conformance check against an operator's platform: pass/fail per check, with timings."""

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="conformance_reports",
                                 verbose_name="运营商")  # fmt: skip
    started = models.DateTimeField("开始时间", db_index=True)
    finished = models.DateTimeField("结束时间")
    passed = models.BooleanField("通过")
    checks = models.JSONField("检查项", default=list)  # [{"name", "title", "outcome", "detail", "ms", "flag"}]
    dialects_detected = models.JSONField("识别出的协议差异", default=list)  # dialect flag names that would accept it
    exchanges = models.JSONField("报文", default=list)  # the journal rows of the run (ids, interface, ret, ms)
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name="发起人")  # fmt: skip

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "一致性检测报告"
        verbose_name_plural = "一致性检测报告"
        ordering = ["-started"]
        get_latest_by = "started"
        permissions = [("run_conformance", "Can run 一致性检测")]

    def __str__(self) -> str:
        outcome = "通过" if self.passed else "未通过"
        return f"{self.operator_id} {timezone.localtime(self.started):%Y-%m-%d %H:%M} {outcome}"
