"""The nightly run: the lookback days each replaced, their week, month and quarter rolled up once after them."""

from __future__ import annotations

from datetime import timedelta

from apps.indicators.models import Indicator, Period
from apps.indicators.services import indicators_compute_recent

from .conftest import DAY, at, status, sweeps


def test_the_nightly_run_rolls_its_week_month_and_quarter_up_over_all_its_days(city, settings):
    # Lookback 2 from 2024-01-12: days 10 and 11. Day 10: C1 offline 90 min (93.75 %), C2 100 %; day 11: both 100 %.
    settings.HLHT_INDICATOR_LOOKBACK_DAYS = 2
    status(city["c1"], at(23, day=9), 1)
    status(city["c1"], at(10), 0)
    status(city["c1"], at(11, 30), 1)
    status(city["c2"], at(23, day=9), 1)
    sweeps(city["op"], at(0, day=11), at(0, day=12))
    written = indicators_compute_recent(today=DAY + timedelta(days=2))
    assert list(written) == ["2024-01-10", "2024-01-11"] and all(written.values())
    for period, first in ((Period.WEEK, "2024-01-08"), (Period.MONTH, "2024-01-01"), (Period.QUARTER, "2024-01-01")):
        row = Indicator.objects.get(code="AVAIL", level="station", period=period)
        assert (str(row.start), row.numerator, row.denominator, row.details["days"]) == (first, 340200, 345600, 2)
        assert row.value == 98.4375
