"""`manage.py hlht_demo` (what `make run` loads): the seeded days come with their indicators, rolled up."""

from datetime import datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.demo.day import SEEDED_OPERATORS
from apps.indicators.models import Indicator
from apps.orders.models import ChargeOrder
from apps.stations.choices import StationStatus

pytestmark = pytest.mark.django_db


def test_the_demo_loads_with_yesterdays_indicators_and_their_month(roles):
    # The seeded orders of the days before today give their price and timeliness figures at once.
    call_command("hlht_demo", stdout=StringIO())
    yesterday = timezone.localdate() - timedelta(days=1)
    day = Indicator.objects.filter(period="day", start=yesterday, level="city", code="PRICE_AVG").get()
    assert day.denominator > 0 and day.value > 0
    month = Indicator.objects.filter(period="month", start=yesterday.replace(day=1), level="city", code="PRICE_AVG")
    assert month.exists()


def test_the_demo_s_past_days_have_a_time_in_state_that_agrees_with_their_orders(roles):
    # The directory is listed a month before the seeded days and each day's statuses are those its orders imply, so
    # availability, uptime and push timeliness are there from the first minute, and the time spent charging is the
    # orders' own duration: the explorer's default figure (AVAIL) is never empty on a fresh demo.
    call_command("hlht_demo", stdout=StringIO())
    yesterday = timezone.localdate() - timedelta(days=1)
    city = {row.code: row for row in Indicator.objects.filter(period="day", start=yesterday, level="city")}
    assert 90 < city["AVAIL"].value < 100  # the small hours' faults cost something, not everything
    assert city["T_STATUS"].value == 100 and city["T_STATUS"].denominator > 0  # pushed when they happened
    start = timezone.make_aware(datetime.combine(yesterday, time.min))
    orders = ChargeOrder.objects.filter(
        start_time__gte=start,
        start_time__lt=start + timedelta(days=1),
        connector__station__station_status=StationStatus.NORMAL,
        connector__operator__in=SEEDED_OPERATORS,
    )
    charged = sum((o.end_time - o.start_time).total_seconds() for o in orders)
    assert charged > 0
    assert city["UTIL_T"].details["t_charging"] == pytest.approx(charged)
