"""The indicators app (issue 24, merged from its own branch): indicator rows, maintenance windows, exemptions.

Models named by label, not imported: this module is loaded only where the app is installed."""

from __future__ import annotations

from datetime import date, timedelta

import factory

from .base import MOMENT
from .stations import StationFactory


class IndicatorFactory(factory.django.DjangoModelFactory):
    """One operator's daily availability: 9 of 10 (90 %)."""

    class Meta:
        model = "indicators.Indicator"

    operator = factory.SubFactory("tests.factories.operators.OperatorFactory")
    code = "AVAIL"  # 可用率, in %
    level = "operator"
    target = factory.SelfAttribute("operator.operator_id")
    period = "day"
    start = factory.Sequence(lambda n: date(2024, 1, 1) + timedelta(days=n))
    numerator = 9.0
    denominator = 10.0
    value = 90.0


class MaintenanceWindowFactory(factory.django.DjangoModelFactory):
    """Two hours of declared maintenance of a whole station."""

    class Meta:
        model = "indicators.MaintenanceWindow"

    station = factory.SubFactory(StationFactory)
    operator = factory.SelfAttribute("station.operator")
    start = MOMENT
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=2))
    reason = "设备检修"


class ExemptionFactory(factory.django.DjangoModelFactory):
    """A day's grid outage over the operator's whole network, exempted."""

    class Meta:
        model = "indicators.Exemption"

    operator = factory.SubFactory("tests.factories.operators.OperatorFactory")
    start = MOMENT
    end = factory.LazyAttribute(lambda o: o.start + timedelta(days=1))
    reason = "电网停电"
