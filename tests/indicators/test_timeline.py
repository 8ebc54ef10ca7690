"""Time in state: the spec's six states from the status history, sweeps, maintenance windows and exemptions."""

from __future__ import annotations

from apps.indicators.models import Exemption, MaintenanceWindow
from apps.indicators.timeline import connector_days
from apps.interconnect.models import SyncRun

from .conftest import DAY, DAY_SECONDS, at, status


def durations(day=DAY, **kwargs):
    return {d.connector_id: d.durations() for d in connector_days(day, **kwargs)}


def test_a_connector_offline_for_exactly_90_minutes(city):
    status(city["c1"], at(23, day=9), 1)
    status(city["c1"], at(10), 0)
    status(city["c1"], at(11, 30), 1)
    found = durations()["C1"]
    assert found == {
        "t_free": DAY_SECONDS - 5400,
        "t_occupied": 0.0,
        "t_charging": 0.0,
        "t_out": 5400.0,
        "t_unknown": 0.0,
        "t_excluded": 0.0,
        "t_period": DAY_SECONDS,
    }


def test_before_the_first_report_is_unknown_and_rows_are_placed_by_their_time(city):
    # Arrival order differs from time order: the 08:00 row arrives last and is still placed at 08:00.
    status(city["c2"], at(9), 3)
    status(city["c2"], at(10), 1)
    status(city["c2"], at(8), 1, arrived=at(11))
    found = durations()["C2"]
    assert found["t_unknown"] == 8 * 3600
    assert found["t_charging"] == found["t_occupied"] == 3600
    assert found["t_free"] == DAY_SECONDS - 9 * 3600


def test_a_gap_in_the_sweeps_longer_than_the_gap_is_unknown_inside_and_excluded_in_a_maintenance_window(city):
    status(city["c1"], at(23, day=9), 1)
    # No sweep answered from 12:00 to 14:00 (the last at 11:55, the next at 14:00): unknown from 11:55 + 10 min
    # (2 × the 5-minute pull interval) to 14:00: 115 minutes.
    SyncRun.objects.filter(finished__gt=at(11, 55), finished__lt=at(14)).delete()
    assert durations()["C1"]["t_unknown"] == 115 * 60
    # A maintenance window declared the day before over 13:00–15:00 excludes its part of the gap and of the free time.
    window = MaintenanceWindow.objects.create(
        operator=city["op"], station=city["st"], start=at(13), end=at(15), reason="更换充电模块"
    )
    MaintenanceWindow.objects.filter(pk=window.pk).update(created=at(9, day=9))
    found = durations()["C1"]
    assert found["t_excluded"] == 2 * 3600
    assert found["t_unknown"] == 55 * 60  # 12:05–13:00
    assert found["t_free"] == DAY_SECONDS - 2 * 3600 - 55 * 60


def test_a_maintenance_window_declared_after_it_started_excludes_nothing(city):
    status(city["c1"], at(23, day=9), 0)
    window = MaintenanceWindow.objects.create(
        operator=city["op"], station=city["st"], start=at(13), end=at(15), reason="临时抢修"
    )
    MaintenanceWindow.objects.filter(pk=window.pk).update(created=at(13, 30))
    assert durations()["C1"]["t_excluded"] == 0
    assert durations()["C1"]["t_out"] == DAY_SECONDS


def test_a_regulator_exemption_of_the_operator_excludes_every_connector(city):
    status(city["c1"], at(23, day=9), 0)
    status(city["c2"], at(23, day=9), 1)
    Exemption.objects.create(operator=city["op"], start=at(6), end=at(7, 30), reason="电网停电")
    found = durations()
    assert found["C1"]["t_excluded"] == found["C2"]["t_excluded"] == 5400
    assert found["C1"]["t_out"] == DAY_SECONDS - 5400


def test_a_connector_listed_during_the_day_counts_from_its_listing_and_today_ends_now(city):
    from apps.stations.models import Connector

    Connector.objects.filter(pk=city["c2"].pk).update(created=at(18))
    status(city["c2"], at(18), 1)
    assert durations()["C2"]["t_period"] == 6 * 3600
    # Asked at 20:00 of the day itself, the day is 00:00–20:00 and C2 has been listed for two hours of it.
    found = durations(now=at(20))
    assert found["C1"]["t_period"] == 20 * 3600
    assert found["C2"]["t_period"] == 2 * 3600


def test_a_window_or_exemption_never_reaches_another_operators_equipment(city):
    import pytest
    from django.core.exceptions import ValidationError

    from tests import factories

    other = factories.operator("MA59CU773")
    foreign = factories.station(other, "STB")
    window = MaintenanceWindow(operator=city["op"], station=foreign, start=at(13), end=at(15), reason="维护")
    with pytest.raises(ValidationError) as refused:
        window.full_clean()
    assert "station" in refused.value.message_dict
    exemption = Exemption(operator=other, connector=city["c1"], start=at(13), end=at(15), reason="停电")
    with pytest.raises(ValidationError) as refused:
        exemption.full_clean()
    assert "connector" in refused.value.message_dict
    MaintenanceWindow(operator=city["op"], station=city["st"], connector=city["c2"], start=at(13), end=at(15),
                      reason="维护").full_clean()  # fmt: skip
