"""Monthly partitions of the journal and the status history (PostgreSQL); plain tables and no-ops on SQLite."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.partitions import is_partitioned, partitions_drop_before, partitions_ensure, partitions_of
from apps.interconnect.journal import journal_purge
from apps.interconnect.models import Exchange
from apps.stations.models import ConnectorStatusHistory
from apps.stations.tasks import status_history_partitions_task
from tests import factories

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"


def _row(created: datetime) -> Exchange:
    row = factories.ExchangeFactory(operator=None, interface="echo")
    Exchange.objects.filter(pk=row.pk).update(created=created)  # moves the row to the partition of its time
    return row


def _home(row: Exchange) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM interconnect_exchange WHERE id = %s", [row.pk])
        return cursor.fetchone()[0]


@pytest.mark.skipif(not POSTGRES, reason="partitions are PostgreSQL's; the SQLite test is below")
def test_the_migrations_partition_both_tables_and_ensure_adds_months_ahead_once():
    assert is_partitioned(Exchange) and is_partitioned(ConnectorStatusHistory)
    created = partitions_ensure(Exchange, months_ahead=6)
    assert partitions_ensure(Exchange, months_ahead=6) == []  # idempotent
    names = [name for name, _, _ in partitions_of(Exchange)]
    this_month = timezone.now().astimezone(UTC)
    assert f"interconnect_exchange_p{this_month:%Y%m}" in names and names[-1] == "interconnect_exchange_default"
    assert all(name in names for name in created) and len(names) >= 8  # 7 months and the default
    assert _home(_row(timezone.now())) == f"interconnect_exchange_p{this_month:%Y%m}"


@pytest.mark.skipif(not POSTGRES, reason="partitions are PostgreSQL's; the SQLite test is below")
def test_a_row_outside_every_month_waits_in_default_and_moves_when_its_month_is_made():
    old = datetime(2019, 5, 17, 12, tzinfo=UTC)
    row = _row(old)
    assert _home(row) == "interconnect_exchange_default"
    assert partitions_ensure(Exchange, months_ahead=0, today=date(2019, 5, 3)) == ["interconnect_exchange_p201905"]
    assert _home(row) == "interconnect_exchange_p201905" and Exchange.objects.get(pk=row.pk).created == old


@pytest.mark.skipif(not POSTGRES, reason="partitions are PostgreSQL's; the SQLite test is below")
def test_retention_drops_whole_months_and_keeps_the_rest(settings):
    old, recent = _row(datetime(2019, 5, 17, tzinfo=UTC)), _row(timezone.now() - timedelta(days=1))
    partitions_ensure(Exchange, months_ahead=0, today=date(2019, 5, 1))
    settings.HLHT_JOURNAL_RETENTION_DAYS, settings.HLHT_JOURNAL_RETENTION = 30, {}
    journal_purge()
    assert "interconnect_exchange_p201905" not in [name for name, _, _ in partitions_of(Exchange)]
    assert not Exchange.objects.filter(pk=old.pk).exists() and Exchange.objects.filter(pk=recent.pk).exists()
    report = status_history_partitions_task()
    assert set(report) == {"created", "dropped"}
    assert partitions_drop_before(Exchange, datetime(2000, 1, 1, tzinfo=UTC)) == []


@pytest.mark.skipif(POSTGRES, reason="SQLite's plain tables; PostgreSQL is tested above")
def test_on_sqlite_the_tables_stay_plain_and_every_step_does_nothing():
    assert not is_partitioned(Exchange) and partitions_of(Exchange) == []
    assert partitions_ensure(Exchange) == [] and partitions_drop_before(Exchange, timezone.now()) == []
    assert status_history_partitions_task() == {"created": [], "dropped": []}
