"""Operators and the accounts that tie a person to one."""

from __future__ import annotations

import factory

from apps.operators.choices import OperatorStatus
from apps.operators.models import Operator, OperatorAccount

from .base import StaffFactory


class OperatorFactory(factory.django.DjangoModelFactory):
    """A connected charging operator (9-character OperatorID in the credit-code alphabet, as onboarding derives it)."""

    class Meta:
        model = Operator

    operator_id = factory.Sequence(lambda n: f"MA{n:07d}")
    operator_name = factory.LazyAttribute(lambda o: f"测试运营商{o.operator_id}")
    operator_tel1 = "400-000-0000"
    status = OperatorStatus.ACTIVE


class OperatorAccountFactory(factory.django.DjangoModelFactory):
    """An operator account manager's link to their operator."""

    class Meta:
        model = OperatorAccount

    user = factory.SubFactory(StaffFactory)
    operator = factory.SubFactory(OperatorFactory)
