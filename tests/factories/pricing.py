"""Business policies: a connector's tariff versions, their periods, and the portal's last query of each."""

from __future__ import annotations

from decimal import Decimal

import factory

from apps.pricing.models import BusinessPolicy, PolicyCheck, PolicyPeriod, PolicySource

from .base import MOMENT
from .stations import ConnectorFactory


class BusinessPolicyFactory(factory.django.DjangoModelFactory):
    """One version of a connector's tariff, in force from MOMENT (add periods with PolicyPeriodFactory)."""

    class Meta:
        model = BusinessPolicy

    connector = factory.SubFactory(ConnectorFactory)
    operator = factory.SelfAttribute("connector.operator")
    effective_from = MOMENT
    source = PolicySource.PULL


class PolicyPeriodFactory(factory.django.DjangoModelFactory):
    """The whole day at one price."""

    class Meta:
        model = PolicyPeriod

    policy = factory.SubFactory(BusinessPolicyFactory)
    start_time = "000000"
    elec_price = Decimal("1.0000")
    sevice_price = Decimal("0.8000")


class PolicyCheckFactory(factory.django.DjangoModelFactory):
    """The portal asked the connector's policy at MOMENT and was answered."""

    class Meta:
        model = PolicyCheck

    connector = factory.SubFactory(ConnectorFactory)
    operator = factory.SelfAttribute("connector.operator")
    checked_at = MOMENT
    succ_stat = 0
