"""`manage.py hlht_demo` (what `make run` loads): the seeded days come with their indicators, rolled up."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.indicators.models import Indicator

pytestmark = pytest.mark.django_db


def test_the_demo_loads_with_yesterdays_indicators_and_their_month(roles):
    # The seeded orders of the days before today give their price and timeliness figures at once (the connectors are
    # listed when the demo loads, so their time in state counts from then: tomorrow's run has today's).
    call_command("hlht_demo", stdout=StringIO())
    yesterday = timezone.localdate() - timedelta(days=1)
    day = Indicator.objects.filter(period="day", start=yesterday, level="city", code="PRICE_AVG").get()
    assert day.denominator > 0 and day.value > 0
    month = Indicator.objects.filter(period="month", start=yesterday.replace(day=1), level="city", code="PRICE_AVG")
    assert month.exists()
