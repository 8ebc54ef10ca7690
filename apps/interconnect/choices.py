"""Vocabularies of the interconnect app."""

from django.db import models


class KeyDirection(models.TextChoices):
    INBOUND = "inbound", "平台签发（对方调用平台时使用）"
    OUTBOUND = "outbound", "对方签发（平台调用对方时使用）"


class Direction(models.TextChoices):
    IN = "in", "接收"
    OUT = "out", "发送"


class RunStatus(models.TextChoices):
    RUNNING = "running", "进行中"
    SUCCEEDED = "succeeded", "成功"
    FAILED = "failed", "失败"
