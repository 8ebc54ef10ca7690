"""Vocabularies of drivers: how a driver pays, where an account stands, what a wallet entry is."""

from django.db import models


class PaymentKind(models.TextChoices):
    PREPAID = "prepaid", "预付费钱包"
    ENTERPRISE = "enterprise", "企业账户（按月结算）"


class DriverStatus(models.TextChoices):
    ACTIVE = "active", "正常"
    SUSPENDED = "suspended", "已停用"


class EntryKind(models.TextChoices):
    """Each kind's sign is fixed (`SIGNS`): the balance is the plain sum of the amounts."""

    TOP_UP = "top_up", "充值"
    HOLD = "hold", "预授权冻结"
    RELEASE = "release", "预授权解冻"
    CHARGE = "charge", "充电扣款"
    REFUND = "refund", "退款"


# +1 adds to the balance, −1 takes from it; a correction of a charge is a CHARGE (more) or a REFUND (less).
SIGNS: dict[str, int] = {
    EntryKind.TOP_UP: 1,
    EntryKind.HOLD: -1,
    EntryKind.RELEASE: 1,
    EntryKind.CHARGE: -1,
    EntryKind.REFUND: 1,
}
