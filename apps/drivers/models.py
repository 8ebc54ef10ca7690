"""EV drivers (the city platform is their service provider), their wallet ledger and their notifications."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from apps.core.models import TimeStampedModel, choices_constraint
from apps.core.privacy import mask_text
from apps.core.roles import CityOnlyQuerySet
from apps.orders.models import MONEY, ChargeOrder

from .choices import DriverStatus, EntryKind, PaymentKind

phone_validator = RegexValidator(r"^1[3-9]\d{9}$", "手机号码应为11位中国大陆手机号")
plate_validator = RegexValidator(
    r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][A-Z0-9]{4,6}[A-Z0-9挂学警]?$",
    "车牌号应为省份简称+字母+5–6位字母或数字",
)


class DriverDataQuerySet(CityOnlyQuerySet):
    """Drivers are the city platform's customers: regulators see them (masked), operators' staff never do."""


class Driver(TimeStampedModel):
    """An EV driver: who they are, how they pay, and whether they may charge. The balance is the ledger's sum."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="driver", verbose_name="登录账号"
    )
    phone = models.CharField("手机号码", max_length=11, unique=True, validators=[phone_validator])
    plate = models.CharField("车牌号", max_length=10, blank=True, validators=[plate_validator])
    payment = models.CharField("支付方式", max_length=12, choices=PaymentKind.choices, default=PaymentKind.PREPAID)
    enterprise = models.CharField("企业名称", max_length=64, blank=True)
    status = models.CharField("状态", max_length=12, choices=DriverStatus.choices, default=DriverStatus.ACTIVE)

    objects = DriverDataQuerySet.as_manager()

    class Meta:
        verbose_name = "充电用户"
        verbose_name_plural = "充电用户"
        ordering = ["-created"]
        constraints = [
            choices_constraint("payment", PaymentKind, "driver"),
            choices_constraint("status", DriverStatus, "driver"),
            models.CheckConstraint(
                condition=~models.Q(payment=PaymentKind.ENTERPRISE) | ~models.Q(enterprise=""),
                name="driver_enterprise_named",
            ),
        ]

    def __str__(self) -> str:
        return mask_text(self.phone)


class ImmutableEntry(Exception):
    """A wallet entry was about to be changed or deleted: the ledger only grows."""


class WalletEntryQuerySet(DriverDataQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableEntry("钱包流水不可修改")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableEntry("钱包流水不可删除")


class WalletEntry(models.Model):
    """One immutable movement of a driver's money. `key` makes each business event post at most once."""

    driver = models.ForeignKey(Driver, on_delete=models.PROTECT, related_name="entries", verbose_name="充电用户")
    kind = models.CharField("类型", max_length=10, choices=EntryKind.choices)
    # Signed: positive adds to the balance (SIGNS in choices.py says which kinds may be which).
    amount = models.DecimalField("金额（元）", **MONEY)
    balance_after = models.DecimalField("余额（元）", **MONEY)
    key = models.CharField("业务键", max_length=80)
    order = models.ForeignKey(
        ChargeOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="wallet_entries",
        verbose_name="充电订单",
    )  # fmt: skip
    start_charge_seq = models.CharField("充电订单号", max_length=27, blank=True, db_index=True)
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.CharField("操作人", max_length=150, blank=True)
    created = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    objects = WalletEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "钱包流水"
        verbose_name_plural = "钱包流水"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["driver", "key"], name="wallet_entry_once_per_key"),
            choices_constraint("kind", EntryKind, "walletentry"),
            models.CheckConstraint(
                condition=(
                    (
                        models.Q(kind__in=[EntryKind.TOP_UP, EntryKind.RELEASE, EntryKind.REFUND])
                        & models.Q(amount__gt=0)
                    )
                    | (models.Q(kind__in=[EntryKind.HOLD, EntryKind.CHARGE]) & models.Q(amount__lt=0))
                ),
                name="walletentry_sign_follows_kind",
            ),
        ]
        indexes = [models.Index(fields=["driver", "-id"], name="wallet_entry_driver_latest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableEntry("钱包流水不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableEntry("钱包流水不可删除")


class Notification(models.Model):
    """A message to a driver (the driver API lists them): a charge, a refund, a session that failed or ended."""

    driver = models.ForeignKey(Driver, on_delete=models.CASCADE, related_name="notifications", verbose_name="充电用户")
    key = models.CharField("业务键", max_length=80)
    title = models.CharField("标题", max_length=60)
    body = models.CharField("内容", max_length=400)
    start_charge_seq = models.CharField("充电订单号", max_length=27, blank=True)
    read = models.BooleanField("已读", default=False)
    created = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    objects = DriverDataQuerySet.as_manager()

    class Meta:
        verbose_name = "用户通知"
        verbose_name_plural = "用户通知"
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["driver", "key"], name="notification_once_per_key")]

    def __str__(self) -> str:
        return self.title
