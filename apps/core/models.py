"""Abstract base models shared by every app."""

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact


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
