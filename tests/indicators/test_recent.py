"""The nightly run: the lookback days each replaced, their week, month and quarter rolled up once after them."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection

from apps.indicators.models import Indicator, Level, Period
from apps.indicators.services import (
    ROLLED_UP,
    connector_periods_ensure,
    indicators_compute_day,
    indicators_compute_recent,
    indicators_roll_up,
    period_start,
)

from .conftest import DAY, at, order, status, sweeps


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


def _periods() -> dict[tuple, tuple]:
    """Every week, month and quarter row, the connectors' summed first (on PostgreSQL they are summed when asked)."""
    for period in ROLLED_UP:
        connector_periods_ensure(period, [DAY], Indicator.objects.all())
    return {
        (r.code, r.level, r.target, r.period, str(r.start)): (r.value, r.numerator, r.denominator, r.details)
        for r in Indicator.objects.exclude(period=Period.DAY)
    }


def test_a_replaced_day_moves_its_periods_to_what_summing_every_day_again_gives(city):
    # Day 10 computed, then its history corrected (C1 offline 90 min, then charging an order) and day 10 computed
    # again beside day 11: the week, month and quarter, moved by each day's difference, are the rows a full roll-up
    # from the day rows writes — every code, level and detail, the peaks (a maximum) included.
    status(city["c1"], at(23, day=9), 1)
    status(city["c2"], at(23, day=9), 1)
    status(city["c2"], at(14), 3)
    sweeps(city["op"], at(0, day=11), at(0, day=12))
    indicators_compute_day(DAY)
    first = _periods()
    assert first[("PU_LEN", "station", "123456789:ST1", "week", "2024-01-08")][1] == 0.0
    status(city["c1"], at(10), 0)
    status(city["c1"], at(11, 30), 3)
    order(city["c1"], at(11, 30), at(12, 30))
    indicators_compute_day(DAY)
    indicators_compute_day(DAY + timedelta(days=1))
    if connection.vendor == "postgresql":  # the connectors' summed periods went stale with the day: removed
        assert not Indicator.objects.filter(level=Level.CONNECTOR).exclude(period=Period.DAY).exists()
    moved = _periods()
    assert moved != first
    assert moved[("PU_LEN", "station", "123456789:ST1", "week", "2024-01-08")][1] > 0
    c1 = moved[("AVAIL", "connector", "123456789:C1", "week", "2024-01-08")]
    assert (c1[1], c1[2], c1[3]["days"], c1[3]["t_out"]) == (167400.0, 172800.0, 2, 5400.0)
    for period in ROLLED_UP:
        indicators_roll_up(period, period_start(period, DAY))
    assert _periods() == moved
