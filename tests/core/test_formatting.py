"""Figures and times as people read them (apps.core.formatting): kWh to one decimal, 元 to two, times to the minute in
Beijing."""

from datetime import UTC, datetime
from decimal import Decimal

from apps.core.formatting import compact_time, full_time, kwh, yuan


def test_energy_and_money_to_their_precision_with_separators():
    assert kwh(Decimal("4245.35000000000")) == "4,245.4"
    assert yuan(Decimal("1358.5")) == "1,358.50"
    assert (kwh(None), yuan(None)) == ("—", "—")


def test_a_time_is_compact_in_beijing_and_keeps_the_year_only_when_it_differs():
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    assert compact_time(datetime(2026, 12, 5, 20, 55, 31, tzinfo=UTC), now=now) == "12-06 04:55"
    assert compact_time(datetime(2025, 12, 5, 20, 55, tzinfo=UTC), now=now) == "2025-12-06 04:55"
    assert full_time(datetime(2026, 12, 5, 20, 55, 31, tzinfo=UTC)) == "2026-12-06 04:55:31"
    assert compact_time(None) == "—"
