"""The indicators app (issue 24): indicator rows, maintenance windows, exemptions, reward schemes and scorecards.

Models named by label, not imported: this module is loaded only where the app is installed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

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


class RewardSchemeFactory(factory.django.DjangoModelFactory):
    """A scheme version with the public defaults, each valid from its own quarter."""

    class Meta:
        model = "indicators.RewardScheme"

    name = factory.Sequence(lambda n: f"奖励方案{n}")
    valid_from = factory.Sequence(lambda n: date(2030 + n // 4, 3 * (n % 4) + 1, 1))


class ScorecardFactory(factory.django.DjangoModelFactory):
    """A station graded A for a quarter: 30 kWh rewarded at ¥0.20."""

    class Meta:
        model = "indicators.Scorecard"

    scheme = factory.SubFactory(RewardSchemeFactory)
    quarter = date(2024, 1, 1)
    station = factory.SubFactory(StationFactory)
    operator = factory.SelfAttribute("station.operator")
    eligible = True
    values = factory.LazyFunction(lambda: {"PRICE_AVG": 1.0, "T_STATUS": 100.0, "UTIL_E": 2.0})
    scores = factory.LazyFunction(lambda: {"PRICE_AVG": 100.0, "T_STATUS": 100.0, "UTIL_E": 100.0})
    total = 100.0
    rank = 1
    grade = "A"
    energy_kwh = 30.0
    cap_kwh = 22377.049
    reward_yuan = factory.LazyFunction(lambda: Decimal("6.00"))


class AnnualSchemeFactory(factory.django.DjangoModelFactory):
    """An annual assessment version with the public defaults, each valid from its own year."""

    class Meta:
        model = "indicators.AnnualScheme"

    name = factory.Sequence(lambda n: f"年度考核方案{n}")
    valid_from = factory.Sequence(lambda n: date(2030 + n, 1, 1))


class AnnualAssessmentFactory(factory.django.DjangoModelFactory):
    """A 120 kW station graded A for a year: ¥106 per kW."""

    class Meta:
        model = "indicators.AnnualAssessment"

    scheme = factory.SubFactory(AnnualSchemeFactory)
    year = 2024
    station = factory.SubFactory(StationFactory)
    operator = factory.SelfAttribute("station.operator")
    eligible = True
    values = factory.LazyFunction(lambda: {"CONFORMANCE": 100.0, "PUSH_COVERAGE": 100.0, "AVAIL": 99.0})
    scores = factory.LazyFunction(lambda: {"CONFORMANCE": 100.0, "PUSH_COVERAGE": 100.0, "AVAIL": 100.0})
    total = 100.0
    rank = 1
    grade = "A"
    rated_kw = 120.0
    reward_yuan = factory.LazyFunction(lambda: Decimal("12720.00"))
