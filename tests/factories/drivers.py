"""Drivers, their wallet ledger and their notifications."""

from __future__ import annotations

from decimal import Decimal

import factory

from apps.drivers.choices import EntryKind
from apps.drivers.models import Driver, Notification, WalletEntry

from .base import UserFactory


class DriverFactory(factory.django.DjangoModelFactory):
    """A prepaid driver whose login is their phone number, as driver_register makes it."""

    class Meta:
        model = Driver

    phone = factory.Sequence(lambda n: f"139{n:08d}")
    user = factory.SubFactory(UserFactory, username=factory.SelfAttribute("..phone"))


class WalletEntryFactory(factory.django.DjangoModelFactory):
    """A first top-up of 100 元 (the ledger only grows: pass balance_after for any later entry)."""

    class Meta:
        model = WalletEntry

    driver = factory.SubFactory(DriverFactory)
    kind = EntryKind.TOP_UP
    amount = Decimal("100.00")
    balance_after = factory.SelfAttribute("amount")
    key = factory.Sequence(lambda n: f"PAY-{n}")


class NotificationFactory(factory.django.DjangoModelFactory):
    """An unread message to the driver."""

    class Meta:
        model = Notification

    driver = factory.SubFactory(DriverFactory)
    key = factory.Sequence(lambda n: f"note-{n}")
    title = "充电已结束"
    body = "您的充电已结束。"
