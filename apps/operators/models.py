"""Operators (OperatorInfo, exchanged offline) and the people who manage them."""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from apps.core.models import TimeStampedModel
from apps.core.roles import ScopedManager
from apps.core.validators import operator_id_validator

from .choices import CONNECTED_STATUSES, OperatorKind, OperatorStatus


class Operator(TimeStampedModel):
    """A connected platform: a charging operator (CPO) or a third-party platform that consumes data.

    The 9-character OperatorID is the primary key, so every foreign key's `operator_id` attribute
    holds exactly the wire value.
    """

    operator_id = models.CharField("运营商ID", max_length=9, primary_key=True, validators=[operator_id_validator])
    operator_name = models.CharField("运营商名称", max_length=64)
    operator_tel1 = models.CharField("运营商电话1", max_length=32)
    operator_tel2 = models.CharField("运营商电话2", max_length=32, blank=True)
    operator_reg_address = models.CharField("运营商注册地址", max_length=64, blank=True)
    operator_note = models.CharField("备注", max_length=255, blank=True)

    kind = models.CharField("类型", max_length=16, choices=OperatorKind.choices, default=OperatorKind.OPERATOR)
    status = models.CharField(
        "接入状态", max_length=16, choices=OperatorStatus.choices, default=OperatorStatus.APPLIED, db_index=True
    )
    endpoint_url = models.URLField(
        "对方接口地址", max_length=200, blank=True, help_text="对方平台的基础地址，如 https://example.com/evcs/v1/"
    )

    # How often the portal pulls from this operator (regulators may change them).
    pull_info_minutes = models.PositiveIntegerField(
        "增量站点信息查询间隔（分钟）", default=60, validators=[MinValueValidator(1)]
    )
    pull_full_minutes = models.PositiveIntegerField(
        "全量站点信息查询间隔（分钟）", default=1440, validators=[MinValueValidator(1)]
    )
    pull_status_minutes = models.PositiveIntegerField(
        "接口状态查询间隔（分钟）", default=5, validators=[MinValueValidator(1)]
    )
    pull_stats_at = models.TimeField("每日统计查询时间", default=datetime.time(1, 0))
    # Each connector's business policy is asked once a day, a slice of the connectors at every interval.
    pull_policy_minutes = models.PositiveIntegerField(
        "业务策略分批查询间隔（分钟）",
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
        help_text="每个充电接口每天查询一次业务策略，按此间隔分批进行",
    )

    # The operator's limit on parallel calls, as agreed when connecting: the daily statistics (one call per station)
    # are asked this many at a time, so 20,000 stations take minutes, not hours, without flooding a small platform.
    pull_concurrency = models.PositiveSmallIntegerField(
        "并发查询数",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(16)],
        help_text="逐站查询（如每日统计）时同时发出的请求数，按与运营商约定的上限设置",
    )

    # Deviations from T/CEC 102 seen in the field. The portal accepts one only from an operator whose record
    # says it speaks it, and always emits the standard form itself.
    dialect_lowercase_sig = models.BooleanField(
        "小写签名", default=False, help_text="对方发送小写十六进制 Sig（规范要求接收方不区分大小写，本项仅作记录）"
    )
    dialect_bare_token = models.BooleanField(
        "无 Bearer 前缀", default=False, help_text="Authorization 请求头只有 token，没有“Bearer ”"
    )
    dialect_millisecond_timestamp = models.BooleanField(
        "毫秒时间戳", default=False, help_text="TimeStamp 为13位毫秒数而不是 yyyyMMddHHmmss"
    )
    dialect_service_spelling = models.BooleanField(
        "Service* 拼写",
        default=False,
        help_text="使用 ServicePrice/ServiceMoney/ElectMoney 而不是规范的 Sevice*/ElecMoney",
    )
    dialect_no_v_base_url = models.BooleanField(
        "无 v 的地址", default=False, help_text="对方使用 /evcs/20160701/ 形式的地址（如北京 e充网的旧路径）"
    )
    dialect_lowercase_keys = models.BooleanField(
        "小写报文参数名",
        default=False,
        help_text="报文参数名为小写：ret、msg、data、sig（请求为 operatorID、timeStamp 等）",
    )
    dialect_lower_camel_fields = models.BooleanField(
        "小驼峰字段名",
        default=False,
        help_text="Data 中字段名首字母小写：succStat、accessToken、stationInfos、connectorID",
    )

    scope_operator_field = None
    objects = ScopedManager()
    # Who changed what and when (a regulator's lifecycle decision, a new pull plan, a dialect flag), before and after,
    # shown on the operator's page under 历史.
    history = HistoricalRecords(verbose_name="运营商变更记录", excluded_fields=["created", "updated"])

    class Meta:
        verbose_name = "运营商"
        verbose_name_plural = "运营商"
        ordering = ["operator_id"]
        permissions = [("import_operator", "Can import 运营商"), ("export_operator", "Can export 运营商")]
        constraints = [
            models.CheckConstraint(condition=models.Q(operator_id__regex=r"^[0-9A-Z]{9}$"), name="operator_id_9_chars"),
        ]

    def __str__(self) -> str:
        return f"{self.operator_name}（{self.operator_id}）"

    @property
    def is_connected(self) -> bool:
        return self.status in CONNECTED_STATUSES


class OperatorAccount(TimeStampedModel):
    """Ties a person's login to one operator: they see only that operator's data."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator_account", verbose_name="用户"
    )
    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="accounts", verbose_name="运营商")

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "运营商账号"
        verbose_name_plural = "运营商账号"

    def __str__(self) -> str:
        return f"{self.user} → {self.operator_id}"


def dialect_fields() -> list[tuple[str, str]]:
    """The operator's dialect flags as (field name, label): one list for the admin, the application and conformance."""
    return [(f.name, str(f.verbose_name)) for f in Operator._meta.fields if f.name.startswith("dialect_")]
