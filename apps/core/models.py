"""Base models shared by every app, and the one concrete model of core: the background Job."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact

from .choices import JobStatus


class TimeStampedModel(models.Model):
    """Adds `created` and `updated`, which every table of the portal carries."""

    created = models.DateTimeField("创建时间", auto_now_add=True, db_index=True)
    updated = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


def choices_constraint(field: str, choices: type[models.Choices], model_label: str) -> models.CheckConstraint:
    """A database CHECK that `field` holds one of the enum's values (NULL allowed where the column is nullable)."""
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__in": choices.values}) | models.Q(**{f"{field}__isnull": True}),
        name=f"{model_label}_{field}_valid",
    )


def fixed_length_constraint(field: str, length: int, model_label: str, *, allow_blank: bool = False):
    """A database CHECK for the spec's fixed-length strings (OperatorID 9, CountryCode 2, serials 27)."""
    condition: Exact | models.Q = Exact(Length(field), length)
    if allow_blank:
        condition = models.Q(condition) | models.Q(**{field: ""})
    return models.CheckConstraint(condition=condition, name=f"{model_label}_{field}_len_{length}")


class Job(models.Model):
    """One piece of background work a person asked for (NetBox's Job): which runner, about which object, by whom,
    its status and its result. The page that asked polls it; the worker moves it queued → running → done/failed."""

    name = models.CharField("任务", max_length=64)  # the JobRunner's name
    object_id = models.CharField("对象", max_length=64, blank=True, db_index=True)  # e.g. the operator checked
    kwargs = models.JSONField("参数", default=dict)
    status = models.CharField("状态", max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name="发起人")  # fmt: skip
    created = models.DateTimeField("创建时间", auto_now_add=True, db_index=True)
    started = models.DateTimeField("开始时间", null=True, blank=True)
    finished = models.DateTimeField("结束时间", null=True, blank=True)
    result = models.JSONField("结果", default=dict)  # what the runner returned (e.g. the report's id)
    error = models.TextField("错误", blank=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created"]
        constraints = [choices_constraint("status", JobStatus, "core_job")]

    def __str__(self) -> str:
        return f"{self.name} {self.object_id} {self.get_status_display()}"

    @property
    def over(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
