"""Onboarding's vocabularies: where an application stands, and the outcome of one conformance check."""

from django.db import models


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", "待审核"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"


# An application in one of these holds its OperatorID: a second one for the same operator is refused.
OPEN_STATUSES = (ApplicationStatus.PENDING, ApplicationStatus.APPROVED)


class CheckOutcome(models.TextChoices):
    PASSED = "passed", "通过"
    FAILED = "failed", "未通过"
    SKIPPED = "skipped", "不适用"
