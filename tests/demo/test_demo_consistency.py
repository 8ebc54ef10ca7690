"""The static demo (hlht_demo) agrees with itself: its operators are not stale, a station under maintenance charges
nobody, orders lie in the past and last minutes, the dashboard's figures are the counts of the lists they link to,
and the live demo carries the seeded operators' day on without them going stale."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from apps.core.roles import CITY
from apps.demo.data import OPERATORS, demo_load
from apps.demo.day import SEEDED_OPERATORS, day_plan, seeded_day, seeded_since
from apps.interconnect.models import Exchange, SyncRun
from apps.operators.models import Operator
from apps.orders.models import ChargeOrder
from apps.protocol.names import Interface
from apps.stations import choices as sc
from apps.stations.models import Connector, ConnectorStatus, ConnectorStatusHistory
from apps.supervision import figures
from apps.supervision.health import PULLED, with_health

pytestmark = pytest.mark.django_db

SEED = 20161110


@pytest.fixture
def demo(db):
    return demo_load(seed=SEED)


def _midnight(now: datetime) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))


def test_the_static_demo_agrees_with_itself(demo):
    """One load, every rule (loading the demo takes seconds: it is loaded once for all of them)."""
    assert set(SEEDED_OPERATORS) == {row[0] for row in OPERATORS}
    _no_seeded_operator_is_stale_or_never_pulled()
    _a_station_under_maintenance_charges_nobody()
    _orders_lie_in_the_past_and_last_minutes()
    _every_current_status_is_the_last_the_history_holds()
    _today_s_orders_were_charging_in_the_timeline()


def _no_seeded_operator_is_stale_or_never_pulled():
    for operator in with_health(Operator.objects.filter(pk__in=SEEDED_OPERATORS)):
        assert not operator.is_stale, operator.pk
        assert operator.stale_connector_count == 0, operator.pk
        assert operator.last_push is not None, operator.pk
        for name in PULLED:  # the health panel's 从未 (never) for a pull
            assert getattr(operator, f"last_{name}") is not None, (operator.pk, name)
    assert figures.stale_operators(CITY) == []
    # Their crawls read stations (the data-quality figures say 100 %, not 尚无站点数据)
    correct = {row.figure.operator_id: row.figure for row in figures.correctness_last_days(CITY)}
    for operator_id in SEEDED_OPERATORS:
        assert correct[operator_id].accepted > 0 and correct[operator_id].rejected == 0, operator_id


def _a_station_under_maintenance_charges_nobody():
    maintenance = Connector.objects.filter(station__station_status=sc.StationStatus.MAINTENANCE)
    assert maintenance.exists()  # the demo has such stations, so the rule below is tested
    busy = (sc.ConnectorStatus.CHARGING, sc.ConnectorStatus.OCCUPIED)
    assert not ConnectorStatus.objects.filter(connector__in=maintenance, status__in=busy).exists()
    assert not ConnectorStatusHistory.objects.filter(
        connector__in=maintenance, status__in=busy, status_time__gte=_midnight(timezone.now())
    ).exists()


def _orders_lie_in_the_past_and_last_minutes():
    now = timezone.now()
    orders = ChargeOrder.objects.all()
    assert not orders.filter(end_time__gt=now).exists()
    assert not orders.filter(start_time__gt=F("end_time")).exists()
    assert not orders.filter(end_time__lt=F("start_time") + timedelta(minutes=5)).exists()


def _every_current_status_is_the_last_the_history_holds():
    """The connector list (current status) and the station's timeline (history) tell the same story."""
    since = _midnight(timezone.now())
    for current in ConnectorStatus.objects.filter(connector__operator__in=SEEDED_OPERATORS):
        last = (
            ConnectorStatusHistory.objects.filter(connector=current.connector_id, status_time__gte=since)
            .order_by("-status_time", "-id")
            .first()
        )
        assert last is not None, current.connector_id  # a status history across the day
        assert last.status == current.status, current.connector_id
        assert last.status_time <= current.status_time


def _today_s_orders_were_charging_in_the_timeline():
    since = _midnight(timezone.now())
    today = ChargeOrder.objects.filter(operator__in=SEEDED_OPERATORS, start_time__gte=since)
    # Today's orders are the day's sessions whose order had arrived when the load wrote them (at 00:10 there may be
    # none): all of those up to its last pull, none that arrives after this test's now.
    now, written = timezone.now(), seeded_since()
    assert written is not None
    sessions = [
        session
        for connector in Connector.objects.filter(operator__in=SEEDED_OPERATORS).select_related("station")
        for session in day_plan(connector, timezone.localdate(now), SEED).sessions
    ]
    held = set(today.values_list("start_charge_seq", flat=True))
    assert {s.seq for s in sessions if s.arrives <= written} <= held <= {s.seq for s in sessions if s.arrives <= now}
    for order in today:
        assert ConnectorStatusHistory.objects.filter(
            connector=order.connector_id, status=sc.ConnectorStatus.CHARGING, status_time=order.start_time
        ).exists(), order.start_charge_seq
    # and every status push in the journal is a history row (one per change)
    pushes = Exchange.objects.filter(
        operator__in=SEEDED_OPERATORS, interface=Interface.NOTIFICATION_STATION_STATUS, created__gte=since
    )
    rows = ConnectorStatusHistory.objects.filter(connector__operator__in=SEEDED_OPERATORS, status_time__gte=since)
    assert pushes.count() == rows.count() > 0


def _count(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["cl"].result_count


def test_the_dashboard_s_figures_are_the_counts_of_its_lists(demo, client):
    client.force_login(get_user_model().objects.get(username="admin"))
    status = figures.status_now(CITY)
    assert status.total == Connector.objects.filter(removed_at__isnull=True).count()
    for column, n in zip(status.columns, status.city, strict=True):
        assert _count(client, column.url) == n, column.label
    orders = figures.orders_last_days(CITY)
    assert orders.by_operator
    for row in orders.by_operator:
        assert _count(client, row.url) == row.n, row.operator_id
    exchange = figures.exchange_today(CITY)
    assert {row.operator_id for row in exchange} >= set(SEEDED_OPERATORS)
    for row in exchange:
        assert _count(client, row.runs_url) == row.runs, row.operator_id
        assert row.pushes_url is not None
        assert _count(client, row.pushes_url) == row.pushes, row.operator_id


def test_the_live_demo_carries_the_seeded_day_on_and_a_reload_doubles_nothing(demo):
    """Forty minutes later (beyond HLHT_STALE_MINUTES), with the live demo's catch-ups, still nobody stale, and
    nothing it wrote lies after its own now."""
    start = timezone.now()
    # From where the load's own writing stopped, as the live demo begins (the load took seconds: no gap is left).
    since = seeded_since()
    assert since is not None and since <= start
    seeded_since_start = since
    for step in range(1, 21):  # windows shorter than the 5-minute sweeps, as the live demo's 30 s ones are
        now = start + timedelta(minutes=2 * step)
        seeded_day(seed=SEED, since=since, now=now)
        since = now
    later = since
    for operator in with_health(Operator.objects.filter(pk__in=SEEDED_OPERATORS), now=later):
        assert not operator.is_stale, operator.pk
        assert operator.stale_connector_count == 0, operator.pk
    assert not ChargeOrder.objects.filter(end_time__gt=later).exists()
    assert not ConnectorStatus.objects.filter(status_time__gt=later).exists()
    assert not SyncRun.objects.filter(started__gt=later).exists()
    # The live demo starts from the last pull written (seeded_since), so windows overlap: rewritten, not doubled.
    written = (ConnectorStatusHistory.objects.count(), Exchange.objects.count(), SyncRun.objects.count())
    seeded_day(seed=SEED, since=seeded_since_start, now=later)
    assert (ConnectorStatusHistory.objects.count(), Exchange.objects.count(), SyncRun.objects.count()) == written

    counts = (ConnectorStatusHistory.objects.count(), ChargeOrder.objects.count())
    demo_load(seed=SEED)
    # A second `make run`: nothing doubled (the day is a function of seed and date; the reload rewrites today up to
    # the real now, which is before the catch-ups' "forty minutes later").
    again = (ConnectorStatusHistory.objects.count(), ChargeOrder.objects.count())
    assert again[0] <= counts[0] and again[1] == counts[1]
