"""notification_stationStatus through the real pipeline: order by TimeStamp, idempotent, pending until known."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.interconnect.services import operator_provision
from apps.protocol import build_request, format_timestamp
from apps.stations.models import ConnectorStatus, ConnectorStatusHistory, PendingConnectorStatus
from apps.stations.services import pending_statuses_link
from tests import factories
from tests.caller import OPERATOR_ID, Caller, keyset

pytestmark = pytest.mark.django_db


@pytest.fixture
def pusher(client, provisioned):
    caller = Caller(client=client, operator_id=OPERATOR_ID, keys=keyset(provisioned["inbound"]))
    caller.login()
    from apps.operators.models import Operator

    station = factories.station(Operator.objects.get(pk=OPERATOR_ID), "S1")
    factories.connector(factories.equipment(station, "E1"), "C1")
    return caller


def push(caller, status, *, seconds_ago=0, connector="C1", body=None, seq=None):
    when = timezone.now() - timedelta(seconds=seconds_ago)
    payload = body or {"ConnectorStatusInfo": {"ConnectorID": connector, "Status": status, "ParkStatus": 0}}
    env = build_request(
        OPERATOR_ID,
        payload,
        caller.keys,
        timestamp=format_timestamp(when),
        seq=seq or f"{(seconds_ago % 9000) + 1:04d}",
    ).to_dict()
    return caller.call("notification_stationStatus", envelope=env)


def test_in_order_pushes_update_current_and_history(pusher):
    assert push(pusher, 1, seconds_ago=20).data == {"Status": 0}
    assert push(pusher, 3, seconds_ago=10).data == {"Status": 0}
    assert ConnectorStatus.objects.get().status == 3
    assert list(ConnectorStatusHistory.objects.order_by("status_time").values_list("status", flat=True)) == [1, 3]


def test_out_of_order_push_never_overwrites_a_newer_status(pusher):
    push(pusher, 3, seconds_ago=10)
    late = push(pusher, 1, seconds_ago=20)  # happened earlier, arrived later
    assert late.data == {"Status": 0}  # accepted: it is true history
    assert ConnectorStatus.objects.get().status == 3
    assert ConnectorStatusHistory.objects.count() == 2


def test_duplicate_push_is_ignored(pusher):
    push(pusher, 2, seconds_ago=10, seq="0001")
    again = push(pusher, 2, seconds_ago=10, seq="0002")  # same status at the same time, new envelope
    assert again.data == {"Status": 1}
    assert ConnectorStatusHistory.objects.count() == 1


def test_unknown_connector_is_kept_and_linked_later(pusher):
    assert push(pusher, 255, seconds_ago=5, connector="C-NEW").data == {"Status": 0}
    assert PendingConnectorStatus.objects.get().connector_id == "C-NEW"
    from apps.stations.models import Equipment

    factories.connector(Equipment.objects.get(equipment_id="E1"), "C-NEW")
    assert pending_statuses_link(operator_id=OPERATOR_ID) == 1
    assert ConnectorStatus.objects.get(connector__connector_id="C-NEW").status == 255
    assert not PendingConnectorStatus.objects.exists()


def test_array_form_is_accepted(pusher):
    body = {"ConnectorStatusInfos": [{"ConnectorID": "C1", "Status": 4}, {"ConnectorID": "C2", "Status": 1}]}
    assert push(pusher, None, body=body).data == {"Status": 0}
    assert ConnectorStatus.objects.get().status == 4
    assert PendingConnectorStatus.objects.get().connector_id == "C2"


def test_bad_status_is_4004_naming_the_field(pusher):
    answer = push(pusher, 5)
    assert answer.ret == 4004
    assert "Status" in answer.envelope.msg
    assert not ConnectorStatusHistory.objects.exists()


def test_consumer_platforms_cannot_push_statuses(client, db):
    keys = operator_provision(operator_id="MA01NAV01", name="导航平台", kind="consumer")["inbound"]
    consumer = Caller(client=client, operator_id="MA01NAV01", keys=keyset(keys))
    consumer.login()
    answer = consumer.call("notification_stationStatus", {"ConnectorStatusInfo": {"ConnectorID": "C1", "Status": 1}})
    assert answer.ret == 4003


def _unknown(*ids):
    return [{"ConnectorID": cid, "Status": 1} for cid in ids]


def test_a_pull_keeps_what_it_knows_when_the_pending_bound_is_reached(pusher, settings):
    from apps.stations.choices import StatusSource
    from apps.stations.services import connector_statuses_apply

    settings.HLHT_MAX_PENDING_STATUSES = 1
    outcome = connector_statuses_apply(
        operator_id=OPERATOR_ID,
        infos=[{"ConnectorID": "C1", "Status": 3}, *_unknown("U1", "U2", "U3")],
        status_time=timezone.now(),
        source=StatusSource.PULL,
        refuse_overflow=False,
    )
    assert (outcome.applied, outcome.pending, outcome.overflow) == (1, 1, ["U2", "U3"])
    assert ConnectorStatus.objects.get().status == 3
    assert list(PendingConnectorStatus.objects.values_list("connector_id", flat=True)) == ["U1"]


def test_pending_statuses_nobody_linked_are_forgotten(pusher, settings):
    from apps.stations.tasks import pending_statuses_purge_task

    assert push(pusher, 1, connector="GONE1").ret == 0
    assert push(pusher, 1, connector="GONE2", seconds_ago=1).ret == 0
    PendingConnectorStatus.objects.filter(connector_id="GONE1").update(created=timezone.now() - timedelta(days=8))
    assert pending_statuses_purge_task() == 1
    assert list(PendingConnectorStatus.objects.values_list("connector_id", flat=True)) == ["GONE2"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("earlier", [None, 1], ids=["first-status", "after-an-earlier-status"])
@pytest.mark.parametrize("writers", ["apply", "push", "both"])
def test_concurrent_first_statuses_of_one_connector_write_one_history_row(provisioned, earlier, writers):
    # Without the connector lock, four first pushes at once wrote duplicate history rows on PostgreSQL, and a
    # later replay of that status failed with MultipleObjectsReturned (Ret 500) ever after.
    import threading

    from django.db import connection as default_connection

    from apps.operators.models import Operator
    from apps.stations.choices import StatusSource
    from apps.stations.services import connector_status_push, connector_statuses_apply

    station = factories.station(Operator.objects.get(pk=OPERATOR_ID), "S1")
    factories.connector(factories.equipment(station, "E1"), "C1")
    when = timezone.now().replace(microsecond=0)
    if earlier is not None:  # a current row exists: the waiting pushes must not read it as it was before the first
        connector_statuses_apply(operator_id=OPERATOR_ID, infos=[{"ConnectorID": "C1", "Status": earlier}],
                                 status_time=when - timedelta(seconds=60), source=StatusSource.PUSH)  # fmt: skip
    barrier, errors = threading.Barrier(4), []

    def apply(number):
        from django.db import connection, transaction

        info = {"ConnectorID": "C1", "Status": 3}
        # The one-statement push (hlht_status_push) and the set-based apply take the same lock: any mix is safe.
        push = writers == "push" or (writers == "both" and number % 2)
        try:
            barrier.wait()
            with transaction.atomic():
                if push:
                    connector_status_push(
                        operator_id=OPERATOR_ID, info=info, status_time=when, source=StatusSource.PUSH
                    )
                else:
                    connector_statuses_apply(
                        operator_id=OPERATOR_ID, infos=[info], status_time=when, source=StatusSource.PUSH
                    )
        except Exception as exc:  # collected: an assertion in a thread would be lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] or (default_connection.vendor == "sqlite" and all("locked" in str(e) for e in errors))
    assert ConnectorStatusHistory.objects.filter(connector__connector_id="C1", status_time=when).count() == 1
    assert ConnectorStatus.objects.get().status == 3


def test_a_push_refused_for_its_fields_is_a_rejected_record_with_its_rules(pusher):
    from apps.interconnect.models import Exchange, RejectedRecord

    answer = push(pusher, 7)  # 7 is not a connector status (E7)
    assert answer.ret == 4004
    record = RejectedRecord.objects.get()
    assert (record.interface, record.record_key, record.rules) == ("notification_stationStatus", "C1", ["enum"])
    assert record.exchange == Exchange.objects.filter(interface="notification_stationStatus").latest("created")
    assert record.payload["ConnectorStatusInfo"]["Status"] == 7 and record.run is None
