"""Charging sessions the portal starts for drivers, every change of their state, and the commands it sends."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from apps.core.models import TimeStampedModel, choices_constraint, fixed_length_constraint
from apps.core.roles import ScopedManager
from apps.drivers.models import Driver
from apps.interconnect.models import Exchange
from apps.operators.models import Operator
from apps.orders.choices import SEQ_STAT_TRANSITIONS, StartChargeSeqStat
from apps.orders.models import ENERGY, MONEY, ChargeOrder
from apps.stations.models import Connector

from .choices import LIVE_STATES, CommandKind, CommandState, EventSource, Outcome


class ChargingSession(TimeStampedModel):
    """One roaming session: a driver of the city platform on an operator's connector, keyed by StartChargeSeq.

    `state` is StartChargeSeqStat and moves only along TRANSITIONS (`services.state.transition` raises on any other
    move, each move an event). The latest snapshot (a push or a poll) is kept on the row for the driver to watch.
    """

    # The moves a session may make: the spec's E1 table, the one the orders follow too (never backwards, 未知 resolves
    # to any state, 已结束 is final). Staying in a state is not a move.
    TRANSITIONS: ClassVar[dict[int, frozenset[int]]] = SEQ_STAT_TRANSITIONS

    driver = models.ForeignKey(Driver, on_delete=models.PROTECT, related_name="sessions", verbose_name="充电用户")
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="sessions", verbose_name="运营商")
    connector = models.ForeignKey(Connector, on_delete=models.PROTECT, related_name="sessions", verbose_name="充电接口")
    start_charge_seq = models.CharField("充电订单号", max_length=27, unique=True)
    equip_auth_seq = models.CharField("设备认证流水号", max_length=27, blank=True)
    qr_code = models.CharField("二维码其他信息", max_length=200, blank=True)
    state = models.PositiveSmallIntegerField(
        "充电订单状态", choices=StartChargeSeqStat.choices, default=StartChargeSeqStat.STARTING, db_index=True
    )
    outcome = models.CharField("结果", max_length=16, choices=Outcome.choices, blank=True, default=Outcome.NONE)
    fail_reason = models.PositiveSmallIntegerField("失败原因", null=True, blank=True)
    review = models.BooleanField("待复核", default=False, db_index=True)
    review_reason = models.CharField("复核原因", max_length=200, blank=True)
    requested_at = models.DateTimeField("请求时间")
    started_at = models.DateTimeField("充电启动时间", null=True, blank=True)
    stop_requested_at = models.DateTimeField("请求停止时间", null=True, blank=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    ident_code = models.CharField("验证码", max_length=64, blank=True)
    # The latest snapshot (notification_equip_charge_status or query_equip_charge_status), by its sample time.
    sampled_at = models.DateTimeField("本次采样时间", null=True, blank=True)
    last_status_at = models.DateTimeField("最近状态推送时间", null=True, blank=True)
    last_poll_at = models.DateTimeField("最近查询时间", null=True, blank=True)
    # When the session's one timer is due (schedule_watch): a timer task for another moment is stale and stops.
    watch_at = models.DateTimeField("下次检查时间", null=True, blank=True)
    connector_status = models.PositiveSmallIntegerField("充电设备接口状态", null=True, blank=True)
    total_power = models.DecimalField("累计充电量（kWh）", null=True, blank=True, **ENERGY)
    elec_money = models.DecimalField("累计电费（元）", null=True, blank=True, **MONEY)
    sevice_money = models.DecimalField("累计服务费（元）", null=True, blank=True, **MONEY)
    total_money = models.DecimalField("累计总金额（元）", null=True, blank=True, **MONEY)
    soc = models.DecimalField("SOC（%）", max_digits=5, decimal_places=1, null=True, blank=True)
    order = models.OneToOneField(
        ChargeOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="session", verbose_name="充电订单"
    )

    scope_operator_field = "operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "漫游充电会话"
        verbose_name_plural = "漫游充电会话"
        ordering = ["-requested_at"]
        constraints = [
            fixed_length_constraint("start_charge_seq", 27, "chargingsession"),
            choices_constraint("state", StartChargeSeqStat, "chargingsession"),
            choices_constraint("outcome", Outcome, "chargingsession"),
            # One live session per connector: two drivers can never be started on the same gun.
            models.UniqueConstraint(
                fields=["connector"], condition=models.Q(state__in=LIVE_STATES), name="session_one_live_per_connector"
            ),
        ]
        indexes = [models.Index(fields=["driver", "-requested_at"], name="session_driver_latest")]

    def __str__(self) -> str:
        return self.start_charge_seq

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    def can_move_to(self, state: int) -> bool:
        return state in self.TRANSITIONS[self.state]


class SessionEvent(models.Model):
    """One change of a session (its audit trail): from which state to which, why, and from what source."""

    session = models.ForeignKey(ChargingSession, on_delete=models.CASCADE, related_name="events", verbose_name="会话")
    from_state = models.PositiveSmallIntegerField("原状态", choices=StartChargeSeqStat.choices, null=True)
    to_state = models.PositiveSmallIntegerField("新状态", choices=StartChargeSeqStat.choices)
    source = models.CharField("来源", max_length=10, choices=EventSource.choices)
    note = models.CharField("说明", max_length=200, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "会话事件"
        verbose_name_plural = "会话事件"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.from_state}→{self.to_state}"


class OutboundCommand(TimeStampedModel):
    """The outbox: a call the portal owes an operator for a session, sent by a task and retried on transient errors.

    At most one start and one stop per session (a constraint): a command is never created twice for one seq, and
    every resend carries the same StartChargeSeq, so the operator can recognise it.
    """

    session = models.ForeignKey(ChargingSession, on_delete=models.CASCADE, related_name="commands", verbose_name="会话")
    kind = models.CharField("命令", max_length=8, choices=CommandKind.choices)
    state = models.CharField("状态", max_length=8, choices=CommandState.choices, default=CommandState.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试时间", null=True, blank=True, db_index=True)
    # Taken by the worker sending it: a redelivered task or the sweep finds it taken and leaves it alone.
    lease_until = models.DateTimeField("发送占用至", null=True, blank=True)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    answer = models.JSONField("应答", null=True, blank=True)

    scope_operator_field = "session__operator"
    objects = ScopedManager()

    class Meta:
        verbose_name = "平台命令"
        verbose_name_plural = "平台命令"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "kind"], condition=~models.Q(kind="poll"), name="command_once_per_session"
            ),
            choices_constraint("kind", CommandKind, "outboundcommand"),
            choices_constraint("state", CommandState, "outboundcommand"),
        ]
        # The outbox's backlog (what is still owed) read by the sweep and by /healthz and /metrics, without a scan
        # of every command ever sent: a partial index holds only the pending few.
        indexes = [
            models.Index(fields=["created"], condition=models.Q(state=CommandState.PENDING), name="command_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.session_id}"


class CommandAttempt(models.Model):
    """One sending of a command, with its journal row: what went out, what came back.

    Written before the call goes out (ok empty: under way), completed after: a worker killed mid-send leaves an
    attempt whose outcome is unknown, and the next sender confirms with the operator before sending again."""

    command = models.ForeignKey(OutboundCommand, on_delete=models.CASCADE, related_name="tries", verbose_name="命令")
    # No database constraint: the journal is partitioned on PostgreSQL (see RejectedRecord.exchange).
    exchange = models.ForeignKey(
        Exchange, on_delete=models.SET_NULL, null=True, blank=True, verbose_name="报文", db_constraint=False
    )
    ok = models.BooleanField("成功", null=True, blank=True, help_text="空：发送中，或发送进程中断、结果未知")
    error = models.CharField("错误", max_length=500, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)
    finished = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "命令发送记录"
        verbose_name_plural = "命令发送记录"
        ordering = ["id"]

    def __str__(self) -> str:
        outcome = "结果未知" if self.ok is None else "成功" if self.ok else "失败"
        return f"{self.command} {outcome}"
