"""The portal's own vocabularies for operators (kind and lifecycle)."""

from django.db import models


class OperatorKind(models.TextChoices):
    OPERATOR = "operator", "充电运营商"
    CONSUMER = "consumer", "第三方平台"


class OperatorStatus(models.TextChoices):
    APPLIED = "applied", "已申请"
    TESTING = "testing", "联调测试"
    ACTIVE = "active", "正式接入"
    SUSPENDED = "suspended", "已暂停"


# Operators that may hold tokens and exchange messages.
CONNECTED_STATUSES = (OperatorStatus.ACTIVE, OperatorStatus.TESTING)
