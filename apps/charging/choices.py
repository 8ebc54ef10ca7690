"""Vocabularies of charging sessions: how one ended, the commands the portal sends, where a command stands."""

from django.db import models

from apps.orders.choices import StartChargeSeqStat

# The states of a session still under way (未知 included: nothing may start on that connector until it is known).
LIVE_STATES = (
    StartChargeSeqStat.STARTING,
    StartChargeSeqStat.CHARGING,
    StartChargeSeqStat.STOPPING,
    StartChargeSeqStat.UNKNOWN,
)


class Outcome(models.TextChoices):
    """Why a finished session finished (StartChargeSeqStat 4 says only that it did)."""

    NONE = "", "—"
    COMPLETED = "completed", "充电完成"
    AUTH_REFUSED = "auth_refused", "设备认证失败"
    CANCELLED = "cancelled", "认证期间已取消"
    START_REFUSED = "start_refused", "启动命令被拒绝"
    START_FAILED = "start_failed", "启动失败"
    STUCK = "stuck", "超时关闭（待复核）"


class CommandKind(models.TextChoices):
    AUTH = "auth", "设备认证"
    START = "start", "启动充电"
    STOP = "stop", "停止充电"
    POLL = "poll", "查询充电状态"


class CommandState(models.TextChoices):
    PENDING = "pending", "待发送"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class EventSource(models.TextChoices):
    DRIVER = "driver", "用户"
    COMMAND = "command", "平台命令应答"
    PUSH = "push", "运营商推送"
    POLL = "poll", "平台查询"
    TIMER = "timer", "定时检查"
    ORDER = "order", "充电订单"
