"""Key sets, tokens, the replay guard, the message journal, and the record of pulls (runs, leases, rejections)."""

from __future__ import annotations

from django.db import models

from apps.core.models import TimeStampedModel
from apps.core.roles import ScopedManager
from apps.operators.models import Operator

from .choices import Direction, KeyDirection, RunStatus


class OperatorKeySet(TimeStampedModel):
    """One of an operator's two key sets (T/CEC 102.4 §8), every secret sealed at rest (apps.core.secretbox).

    `retires_at` is empty for the set in use; a rotated-out inbound set keeps working until then, and the
    housekeeping task destroys it afterwards.
    """

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="key_sets", verbose_name="运营商")
    direction = models.CharField("方向", max_length=8, choices=KeyDirection.choices)
    label = models.CharField("标识", max_length=12, help_text="不含密钥信息的随机编号，用于核对是哪一套密钥")
    operator_secret = models.TextField("OperatorSecret（加密存储）")
    data_secret = models.TextField("DataSecret（加密存储）")
    data_secret_iv = models.TextField("DataSecretIV（加密存储）")
    sig_secret = models.TextField("SigSecret（加密存储）")
    retires_at = models.DateTimeField("停用时间", null=True, blank=True, db_index=True)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "密钥"
        verbose_name_plural = "密钥"
        ordering = ["operator_id", "direction", "-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "direction"],
                condition=models.Q(retires_at__isnull=True),
                name="one_current_key_set_per_direction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.direction} {self.label}"


class AccessToken(models.Model):
    """A token the portal issued through query_token. Only its SHA-256 is stored: a leaked table grants nothing."""

    operator = models.ForeignKey(
        Operator, on_delete=models.CASCADE, related_name="access_tokens", verbose_name="运营商"
    )
    token_hash = models.CharField("令牌摘要", max_length=64, unique=True)
    expires_at = models.DateTimeField("到期时间", db_index=True)
    created = models.DateTimeField("签发时间", auto_now_add=True)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "访问令牌"
        verbose_name_plural = "访问令牌"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.token_hash[:8]}…"


class PeerToken(TimeStampedModel):
    """A token the portal obtained from an operator's query_token; shared by every worker, sealed at rest."""

    key = models.CharField("键", max_length=200, unique=True)
    token = models.TextField("令牌（加密存储）", blank=True)
    expires_at = models.DateTimeField("到期时间", null=True, blank=True)

    class Meta:
        verbose_name = "对方令牌"
        verbose_name_plural = "对方令牌"

    def __str__(self) -> str:
        return self.key


class SeenEnvelope(models.Model):
    """Envelopes already accepted, for the replay check; kept for the clock-skew window and then purged."""

    operator_id = models.CharField(max_length=9)
    timestamp = models.CharField(max_length=14)
    seq = models.CharField(max_length=4)
    sig = models.CharField(max_length=32)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "已接收报文"
        verbose_name_plural = "已接收报文"
        constraints = [
            models.UniqueConstraint(fields=["operator_id", "timestamp", "seq", "sig"], name="seen_envelope_unique")
        ]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.timestamp} {self.seq}"


class Exchange(models.Model):
    """The journal: one row per protocol exchange, inbound or outbound, accepted or rejected.

    Payloads are the decrypted JSON with personal data masked; secrets never reach this table.
    """

    operator = models.ForeignKey(
        Operator, on_delete=models.SET_NULL, null=True, blank=True, related_name="exchanges", verbose_name="运营商"
    )
    claimed_operator_id = models.CharField("报文运营商ID", max_length=64, blank=True)
    interface = models.CharField("接口", max_length=64, db_index=True)
    direction = models.CharField("方向", max_length=3, choices=Direction.choices)
    timestamp = models.CharField("TimeStamp", max_length=20, blank=True)
    seq = models.CharField("Seq", max_length=8, blank=True)
    ret = models.IntegerField("Ret", null=True, blank=True, db_index=True)
    msg = models.CharField("Msg", max_length=500, blank=True)
    http_status = models.PositiveSmallIntegerField("HTTP状态", null=True, blank=True)
    latency_ms = models.FloatField("耗时（毫秒）", default=0)
    request = models.JSONField("请求数据", null=True, blank=True)
    response = models.JSONField("响应数据", null=True, blank=True)
    error = models.TextField("错误", blank=True)
    remote_addr = models.GenericIPAddressField("来源地址", null=True, blank=True)
    created = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "报文日志"
        verbose_name_plural = "报文日志"
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["operator", "-created"], name="exchange_operator_created"),
            models.Index(fields=["interface", "-created"], name="exchange_interface_created"),
            # Operator health asks "when did this operator last push a status?" for every operator on a page.
            models.Index(fields=["operator", "interface", "-created"], name="exchange_op_interface_created"),
        ]

    def __str__(self) -> str:
        arrow = "→" if self.direction == Direction.OUT else "←"
        return f"{arrow} {self.interface} {self.claimed_operator_id} Ret={self.ret}"


class SyncRun(models.Model):
    """One pull from one operator (a crawl of query_stations_info, a status sweep, a stats pull) and its outcome."""

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="sync_runs", verbose_name="运营商")
    interface = models.CharField("接口", max_length=64, db_index=True)
    full = models.BooleanField("全量", default=False)
    status = models.CharField("结果", max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started = models.DateTimeField("开始时间", auto_now_add=True, db_index=True)
    finished = models.DateTimeField("结束时间", null=True, blank=True)
    last_query_time = models.CharField("LastQueryTime", max_length=19, blank=True)
    pages = models.PositiveIntegerField("页数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变", default=0)
    rejected_count = models.PositiveIntegerField("拒收", default=0)
    removed_count = models.PositiveIntegerField("下线", default=0)
    error = models.TextField("错误", blank=True)
    retryable = models.BooleanField("可重试", default=False, help_text="失败原因是暂时的（超时、连接失败、对方繁忙）")

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "同步记录"
        verbose_name_plural = "同步记录"
        ordering = ["-started"]
        indexes = [models.Index(fields=["operator", "interface", "-started"], name="syncrun_operator_interface")]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.interface} {self.started:%Y-%m-%d %H:%M}"


class PullState(models.Model):
    """The scheduler's memory of one pull of one operator: when it was last sent to a worker, and the lease a
    running pull holds so that two runs of the same pull for one operator never overlap."""

    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="pull_states", verbose_name="运营商")
    interface = models.CharField("接口", max_length=64)
    dispatched_at = models.DateTimeField("上次派发", null=True, blank=True)
    full_dispatched_at = models.DateTimeField("上次派发全量", null=True, blank=True)
    # A full crawl dispatched after the last one that succeeded is lost (its message, its worker) once it is older
    # than HLHT_PULL_REDISPATCH_SECONDS: it is dispatched again rather than waiting a day.
    full_succeeded_at = models.DateTimeField("上次全量成功", null=True, blank=True)
    holder = models.CharField("执行者", max_length=32, blank=True)
    held_until = models.DateTimeField("占用至", null=True, blank=True)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "拉取调度"
        verbose_name_plural = "拉取调度"
        constraints = [models.UniqueConstraint(fields=["operator", "interface"], name="pullstate_unique")]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.interface}"


class RejectedRecord(models.Model):
    """A record an operator sent that broke a rule; the rest of its page was kept."""

    operator = models.ForeignKey(
        Operator, on_delete=models.CASCADE, related_name="rejected_records", verbose_name="运营商"
    )
    run = models.ForeignKey(
        SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="rejected", verbose_name="同步记录"
    )
    interface = models.CharField("接口", max_length=64)
    record_key = models.CharField("记录标识", max_length=64, blank=True, db_index=True)
    rules = models.JSONField("违反的规则", default=list)
    reasons = models.JSONField("原因", default=list)
    payload = models.JSONField("记录内容", null=True, blank=True)
    # The message the record came in; the journal's retention may outlive it, hence SET_NULL.
    # No database constraint: on PostgreSQL the journal is partitioned by time, and a foreign key cannot point into
    # a partitioned table by its id alone. SET_NULL is done by Django; dropping an old partition leaves the id.
    exchange = models.ForeignKey(
        Exchange,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rejected",
        verbose_name="报文",
        db_constraint=False,
    )
    created = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "拒收记录"
        verbose_name_plural = "拒收记录"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.operator_id} {self.record_key}"
