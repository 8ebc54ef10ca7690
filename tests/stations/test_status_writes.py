"""connector_statuses_apply as set-based writes: large batches, repeats inside a batch, the statements it costs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.stations.choices import StatusSource
from apps.stations.models import ConnectorStatus, ConnectorStatusHistory
from apps.stations.services import connector_statuses_apply
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    op = factories.operator()
    equipment = factories.equipment(factories.station(op, "S1"), "E1")
    for n in range(700):
        factories.connector(equipment, f"C{n:04d}")
    return op


def _apply(op, infos, when, source=StatusSource.PULL):
    return connector_statuses_apply(operator_id=op.pk, infos=infos, status_time=when, source=source)


def test_a_batch_larger_than_one_statement_is_written_whole(operator):
    when = timezone.now().replace(microsecond=0)
    infos = [{"ConnectorID": f"C{n:04d}", "Status": 2} for n in range(700)]
    outcome = _apply(operator, infos, when)
    assert (outcome.applied, outcome.duplicates) == (700, 0)
    assert ConnectorStatus.objects.count() == ConnectorStatusHistory.objects.count() == 700
    again = _apply(operator, infos, when + timedelta(seconds=60))  # the same statuses later: confirmed, no history
    assert (again.confirmed, again.applied) == (700, 0) and ConnectorStatusHistory.objects.count() == 700
    assert set(ConnectorStatus.objects.values_list("status_time", flat=True)) == {when + timedelta(seconds=60)}


def test_one_connector_twice_in_a_batch_and_an_old_repeat(operator, django_assert_max_num_queries):
    when = timezone.now().replace(microsecond=0)
    infos = [{"ConnectorID": "C0001", "Status": 2}, {"ConnectorID": "C0001", "Status": 3},
             {"ConnectorID": "C0001", "Status": 2}]  # fmt: skip
    # Lock and read (PostgreSQL) or read (SQLite); one look into history (the second status has the current time);
    # then history and current rows: one round trip on PostgreSQL, two statements on SQLite. Four either way.
    with django_assert_max_num_queries(4):
        outcome = _apply(operator, infos, when, StatusSource.PUSH)
    # Same time: the later arrival wins; the third is a repeat of the first, which history already holds.
    assert (outcome.applied, outcome.duplicates) == (2, 1)
    assert ConnectorStatus.objects.get().status == 3
    assert sorted(ConnectorStatusHistory.objects.values_list("status", flat=True)) == [2, 3]
    older = _apply(operator, [{"ConnectorID": "C0001", "Status": 4}], when - timedelta(seconds=30))
    repeat = _apply(operator, [{"ConnectorID": "C0001", "Status": 4}], when - timedelta(seconds=30))
    assert (older.history_only, repeat.duplicates) == (1, 1)  # an older status: history only, and only once
    assert ConnectorStatus.objects.get().status == 3 and ConnectorStatusHistory.objects.count() == 3
