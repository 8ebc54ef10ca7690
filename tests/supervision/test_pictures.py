"""The station timeline and the operator figures from histories small enough to check by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.roles import CITY, OPERATOR_MANAGER, REGULATOR, Scope
from apps.indicators.services import indicators_compute_day
from apps.interconnect.choices import Direction, RunStatus
from apps.interconnect.models import Exchange, SyncRun
from apps.protocol import CST
from apps.protocol.names import Interface
from apps.stations.choices import STATUS_COLOURS
from apps.stations.choices import ConnectorStatus as S
from apps.stations.models import Connector, ConnectorStatus, ConnectorStatusHistory
from apps.supervision import pictures
from apps.supervision.picture_panels import count, kwh, operator_figures_data, yuan
from tests import factories

NOW = datetime(2024, 1, 10, 12, 0, tzinfo=CST)  # the window: 2024-01-09 12:00 to 2024-01-10 12:00, Beijing time


def at(hour: int, minute: int = 0, *, day: int = 10) -> datetime:
    return datetime(2024, 1, day, hour, minute, tzinfo=CST)


def history(conn: Connector, when: datetime, value: int) -> None:
    ConnectorStatusHistory.objects.create(connector=conn, status=value, status_time=when, source="pull")


def sweeps(operator, start: datetime, end: datetime) -> None:
    """Answered status sweeps every five minutes: what confirms a connector's status between its changes."""
    runs, moment = [], start
    while moment < end:
        runs.append(SyncRun(operator=operator, interface=Interface.QUERY_STATION_STATUS.value,
                            status=RunStatus.SUCCEEDED, finished=moment))  # fmt: skip
        moment += timedelta(minutes=5)
    SyncRun.objects.bulk_create(runs)


@pytest.fixture
def station(db):
    """A station of three connectors (listed long before), its operator swept every five minutes, and another
    operator's station beside it."""
    op = factories.operator("123456789")
    st = factories.station(op, "ST1")
    eq = factories.equipment(st, "EQ1")
    conns = {code: factories.connector(eq, code) for code in ("C2", "C1", "C3")}
    other = factories.connector(factories.equipment(factories.station(factories.operator("MA59CU773"), "ST9")), "X1")
    Connector.objects.update(created=at(0, day=1))
    sweeps(op, at(0, day=9), NOW)
    return {"op": op, "st": st, "other": other, **conns}


def spans(timeline):
    return {
        line.connector_id: [
            (s.start.astimezone(CST).strftime("%d %H:%M"), s.end.astimezone(CST).strftime("%d %H:%M"), s.status)
            for s in line.segments
        ]
        for line in timeline.lines
    }


def test_a_connector_idle_then_charging_then_offline_in_three_segments_of_its_colours(station):
    history(station["C1"], at(10, day=9), S.IDLE)  # before the window: holds from its start
    history(station["C1"], at(8), S.CHARGING)
    history(station["C1"], at(9, 30), S.OFFLINE)
    history(station["C2"], at(20, day=9), S.IDLE)
    history(station["C2"], at(21, day=9), S.IDLE)  # the same status again: one segment, not two
    history(station["other"], at(8), S.FAULT)
    timeline = pictures.station_timeline(CITY, station["st"].pk, now=NOW)
    assert [line.connector_id for line in timeline.lines] == ["C1", "C2", "C3"]  # by ConnectorID; not ST9's X1
    found = spans(timeline)
    assert found["C1"] == [("09 12:00", "10 08:00", S.IDLE), ("10 08:00", "10 09:30", S.CHARGING),
                           ("10 09:30", "10 12:00", S.OFFLINE)]  # fmt: skip
    assert found["C2"] == [("09 12:00", "09 20:00", None), ("09 20:00", "10 12:00", S.IDLE)]
    assert found["C3"] == [("09 12:00", "10 12:00", None)]  # never reported: unknown throughout
    c1 = timeline.lines[0].segments
    assert [s.colour for s in c1] == [STATUS_COLOURS[S.IDLE], STATUS_COLOURS[S.CHARGING], STATUS_COLOURS[S.OFFLINE]]
    assert [s.label for s in c1] == ["空闲", "占用（充电中）", "离网"]
    assert timeline.lines[2].segments[0].colour == STATUS_COLOURS[None]
    assert sum(s.seconds for s in c1) == timeline.seconds == 24 * 3600


def test_where_the_operators_data_stopped_the_timeline_is_unknown_as_the_indicators_count_it(station):
    history(station["C1"], at(10, day=9), S.CHARGING)
    # No sweep answered after the one at 10:00 today: unknown from 10:00 + 10 minutes (2 × the 5-minute pull
    # interval) on.
    SyncRun.objects.filter(finished__gt=at(10)).delete()
    found = spans(pictures.station_timeline(CITY, station["st"].pk, now=NOW))
    assert found["C1"] == [("09 12:00", "10 10:10", S.CHARGING), ("10 10:10", "10 12:00", None)]


def test_a_connector_removed_before_the_window_is_not_drawn_and_one_listed_inside_starts_late(station):
    Connector.objects.filter(pk=station["C3"].pk).update(removed_at=at(11, day=9))
    Connector.objects.filter(pk=station["C2"].pk).update(created=at(6))
    timeline = pictures.station_timeline(CITY, station["st"].pk, now=NOW)
    assert [line.connector_id for line in timeline.lines] == ["C1", "C2"]
    assert spans(timeline)["C2"] == [("10 06:00", "10 12:00", None)]


def test_another_operators_manager_sees_no_connector_of_the_station(station):
    history(station["C1"], at(8), S.CHARGING)
    assert pictures.station_timeline(Scope(operator_id="MA59CU773"), station["st"].pk, now=NOW).lines == []
    assert len(pictures.station_timeline(Scope(operator_id="123456789"), station["st"].pk, now=NOW).lines) == 3


def test_the_time_axis_is_labelled_every_two_beijing_hours_and_names_the_day_at_midnight(station):
    ticks = pictures.station_timeline(CITY, station["st"].pk, now=NOW + timedelta(minutes=7)).ticks
    labels = [tick.label for tick in ticks]
    assert labels[:3] == ["14:00", "16:00", "18:00"]
    assert "01-10" in labels and labels[-1] == "12:00"
    assert all(tick.at.astimezone(CST).hour % 2 == 0 for tick in ticks)


def test_the_station_timeline_reads_a_fixed_number_of_queries(station, django_assert_num_queries):
    for conn in ("C1", "C2", "C3"):
        history(station[conn], at(8), S.CHARGING)
    # The names, the operators' pull intervals, the connectors' keys (few: the history is read by key), the connectors
    # with their last status before the window, the sweeps, the maintenance windows, the exemptions and the window's
    # history: however many connectors.
    with django_assert_num_queries(8):
        pictures.station_timeline(CITY, station["st"].pk, now=NOW)


# -- an operator over 30 days --------------------------------------------------------------------------------------


def days_ago(n: int, hour: int = 10) -> datetime:
    day = timezone.localdate() - timedelta(days=n)
    return datetime(day.year, day.month, day.day, hour, tzinfo=CST)


@pytest.fixture
def operator_month(station):
    op, other = station["op"], station["other"].operator
    SyncRun.objects.all().delete()  # the sweeps above are 2024's; these figures are the last 30 days'
    ConnectorStatus.objects.create(connector=station["C1"], status=S.IDLE, status_time=days_ago(0))
    ConnectorStatus.objects.create(connector=station["C2"], status=S.CHARGING, status_time=days_ago(0))
    ConnectorStatus.objects.create(connector=station["other"], status=S.FAULT, status_time=days_ago(0))
    ok, failed = RunStatus.SUCCEEDED, RunStatus.FAILED
    for who, state, when in [(op, ok, days_ago(0)), (op, ok, days_ago(0, 11)), (op, failed, days_ago(0)),
                             (op, ok, days_ago(3)), (op, ok, days_ago(30)), (other, failed, days_ago(0))]:  # fmt: skip
        run = SyncRun.objects.create(operator=who, interface=Interface.QUERY_STATION_STATUS.value, status=state)
        SyncRun.objects.filter(pk=run.pk).update(started=when)
    status_push = Interface.NOTIFICATION_STATION_STATUS.value
    for who, interface, direction, ret, when in [
        (op, status_push, Direction.IN, 0, days_ago(1)),
        (op, status_push, Direction.IN, 0, days_ago(1)),
        (op, status_push, Direction.IN, 4, days_ago(1)),
        (op, status_push, Direction.IN, 0, days_ago(29)),
        (op, "notification_charge_order_info", Direction.IN, 0, days_ago(1)),  # not a status push
        (op, status_push, Direction.OUT, 0, days_ago(1)),  # not theirs to us
        (other, status_push, Direction.IN, 0, days_ago(1)),
    ]:
        row = factories.ExchangeFactory(operator=who, interface=interface, direction=direction, ret=ret)
        Exchange.objects.filter(pk=row.pk).update(created=when)
    for conn, begin, kwh_, money in [(station["C1"], days_ago(2), "30.25", "45.10"),
                                     (station["C2"], days_ago(2, 20), "12.00", "18.00"),
                                     (station["C1"], days_ago(0), "7.50", "11.25"),
                                     (station["C1"], days_ago(31), "99.00", "99.00"),  # before the 30 days
                                     (station["other"], days_ago(2), "50.00", "70.00")]:  # fmt: skip
        end = begin + timedelta(minutes=40)
        factories.order(conn, start_time=begin, end_time=end, total_power=Decimal(kwh_), total_money=Decimal(money),
                        order_received_at=end + timedelta(seconds=5))  # fmt: skip
    ahead = days_ago(1) + timedelta(hours=12)  # an order from a clock running 12 hours ahead of its arrival
    factories.order(station["C2"], start_time=ahead, end_time=ahead + timedelta(minutes=30),
                    order_received_at=days_ago(1))  # fmt: skip
    return op


def test_the_operators_figures_per_day(operator_month):
    days = pictures.figure_days()
    assert len(days) == 30 and days[-1] == timezone.localdate()
    status = {share.label: (share.n, share.colour) for share in pictures.operator_status_now(CITY, "123456789")}
    assert status["空闲"] == (1, STATUS_COLOURS[S.IDLE])
    assert status["占用（充电中）"] == (1, STATUS_COLOURS[S.CHARGING])
    assert status[pictures.NO_STATUS] == (1, STATUS_COLOURS[None])  # C3 has no status yet
    assert status["故障"] == (0, STATUS_COLOURS[S.FAULT])  # the other operator's fault is not theirs

    crawls = pictures.operator_crawls(CITY, "123456789", days)
    assert (crawls.ok[-1], crawls.failed[-1]) == (2, 1)
    assert (crawls.ok[-4], crawls.failed[-4]) == (1, 0)
    assert crawls.total == 4  # 30 days ago is outside

    pushes = pictures.operator_pushes(CITY, "123456789", days)
    assert (pushes.ok[-2], pushes.failed[-2]) == (2, 1)
    assert (pushes.ok[0], pushes.failed[0]) == (1, 0)
    assert pushes.total == 4

    orders = pictures.operator_orders(CITY, "123456789", days)
    assert orders.orders[-3] == 2 and orders.energy[-3] == Decimal("42.25") and orders.money[-3] == Decimal("63.10")
    assert orders.orders[-1] == 1 and orders.energy[-1] == Decimal("7.50")
    assert sum(orders.orders) == 3  # not 31 days ago, not the other operator's, not the one from the future


def test_the_status_mix_per_day_is_the_indicators_time_in_state(station):
    yesterday = timezone.localdate() - timedelta(days=1)
    start = datetime(yesterday.year, yesterday.month, yesterday.day, tzinfo=CST)
    SyncRun.objects.all().delete()
    sweeps(station["op"], start - timedelta(hours=1), start + timedelta(days=1, hours=1))
    history(station["C1"], start - timedelta(hours=3), S.IDLE)
    history(station["C1"], start + timedelta(hours=8), S.CHARGING)
    history(station["C1"], start + timedelta(hours=10), S.IDLE)
    history(station["C2"], start - timedelta(hours=3), S.OFFLINE)  # C3 never reports: unknown all day
    indicators_compute_day(yesterday)
    days = pictures.figure_days()
    found = {state.label: state.hours for state in pictures.operator_states_by_day(CITY, "123456789", days).states}
    assert {label: hours[-2] for label, hours in found.items()} == {
        "空闲": 22.0, "充电中": 2.0, "占用（未充电或预约）": 0.0, "离网或故障": 24.0, pictures.NO_STATUS: 24.0,
    }  # fmt: skip
    assert all(hours[-1] is None and hours[0] is None for hours in found.values())  # not computed: no bar, not zero
    theirs = Scope(operator_id="MA59CU773")
    assert pictures.operator_states_by_day(theirs, "123456789", days).states[0].hours[-2] is None


def test_an_operators_manager_reaches_only_their_own_figures(operator_month):
    days = pictures.figure_days()
    theirs = Scope(operator_id="MA59CU773")
    assert sum(share.n for share in pictures.operator_status_now(theirs, "123456789")) == 0
    assert pictures.operator_crawls(theirs, "123456789", days).total == 0
    assert pictures.operator_orders(theirs, "123456789", days).orders == [0] * 30
    assert pictures.operator_crawls(Scope(operator_id="123456789"), "123456789", days).total == 4


def test_one_query_per_series(operator_month, django_assert_num_queries, rf, roles, django_user_model):
    user = django_user_model.objects.create_user(username="reg", password="pw-for-tests-only", is_staff=True)
    user.groups.add(django_user_model.groups.rel.model.objects.get(name=REGULATOR))
    request = rf.get("/")
    request.user = django_user_model.objects.get(pk=user.pk)
    user_groups = 1  # the scope rule reads the user's groups once
    with django_assert_num_queries(5 + user_groups):
        found = operator_figures_data(request, "123456789")
    assert found["charts"]["orders"]["energy"][-3] == 42.3  # kWh to one decimal: 42.25 is drawn as 42.3
    assert dict(found["totals"])["电量"] == "49.8 kWh" and dict(found["totals"])["金额"] == "74.35 元"


def test_number_formats():
    assert count(1234567) == "1,234,567"
    assert kwh(Decimal("4245.35000000000")) == "4,245.4"
    assert yuan(Decimal("1234.5")) == "1,234.50"


def test_the_station_and_operator_pages_carry_their_pictures(operator_month, station, client, roles, django_user_model):
    user = django_user_model.objects.create_user(username="reg", password="pw-for-tests-only", is_staff=True)
    user.groups.add(django_user_model.groups.rel.model.objects.get(name=REGULATOR))
    client.force_login(user)
    page = client.get(f"/admin/stations/station/{station['st'].pk}/change/").content.decode()
    assert "接口状态（最近24小时）" in page and 'id="station-timeline"' in page
    assert [code for code in ("C1", "C2", "C3", "X1") if f'data-connector="{code}"' in page] == ["C1", "C2", "C3"]
    page = client.get(f"/admin/operators/operator/{operator_month.pk}/change/").content.decode()
    assert "近30天概况" in page and 'id="operator-figures-data"' in page and "74.35 元" in page


def test_an_operators_manager_reads_their_own_pages_figures(operator_month, station, client, roles, django_user_model):
    user = django_user_model.objects.create_user(username="mgr", password="pw-for-tests-only", is_staff=True)
    user.groups.add(django_user_model.groups.rel.model.objects.get(name=OPERATOR_MANAGER))
    factories.OperatorAccountFactory(user=user, operator=operator_month)
    client.force_login(user)
    page = client.get(f"/admin/operators/operator/{operator_month.pk}/change/").content.decode()
    # Their three connectors, their orders' money; not the other operator's 70.00 元 order.
    assert "3 个" in page and "74.35 元" in page
    page = client.get(f"/admin/stations/station/{station['st'].pk}/change/").content.decode()
    assert page.count('class="hlht-timeline-row" data-connector=') == 3
    other = station["other"].station
    assert client.get(f"/admin/stations/station/{other.pk}/change/").status_code in (302, 404)
