"""Beat's heartbeat: a row, not the cache (per process by default), so every web process reads the same tick."""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time a periodic process proved it was alive, one row per process kind ("beat")."""

    name = models.CharField("名称", max_length=32, primary_key=True)
    at = models.DateTimeField("最近心跳")

    class Meta:
        verbose_name = "心跳"
        verbose_name_plural = "心跳"

    def __str__(self) -> str:
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"
