"""The one-statement status push (hlht_status_push, PostgreSQL) decides as the Python rules of the set-based apply.

Every case of apps.stations.decisions — no current status, the same values or others, observed earlier, at the same
time or later, history already holding the observation or not, park and lock statuses absent or present — is
applied to two connectors in the same state, one through each path; the verdicts and the rows they leave must be
the same.
"""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.stations.choices import StatusSource
from apps.stations.models import ConnectorStatus, ConnectorStatusHistory
from apps.stations.services import StatusOutcome, connector_status_push, connector_statuses_apply
from tests import factories

pytestmark = pytest.mark.django_db

CURRENT = {"none": None, "same": (2, 0, None), "other": (3, 10, 50)}
OFFSETS = {"earlier": -30, "equal": 0, "later": 30}
OBSERVED = (2, 0, None)
CASES = list(itertools.product(CURRENT, OFFSETS, [False, True]))


def _counts(outcome: StatusOutcome) -> tuple[int, ...]:
    return (outcome.applied, outcome.confirmed, outcome.history_only, outcome.duplicates, outcome.pending)


def _state(connector) -> tuple:
    current = ConnectorStatus.objects.filter(connector=connector).values_list(
        "status", "park_status", "lock_status", "status_time", "source"
    )
    history = ConnectorStatusHistory.objects.filter(connector=connector).order_by("status_time", "id")
    rows = list(history.values_list("status", "park_status", "lock_status", "status_time", "source"))
    return list(current), rows


def _info(connector_id: str, values: tuple) -> dict:
    status, park, lock = values
    info = {"ConnectorID": connector_id, "Status": status}
    if park is not None:
        info["ParkStatus"] = park
    if lock is not None:
        info["LockStatus"] = lock
    return info


@pytest.fixture
def equipment():
    return factories.equipment(factories.station(factories.operator(), "S1"), "E1")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="hlht_status_push is PostgreSQL's; SQLite's push is the apply"
)
@pytest.mark.parametrize(("current", "offset", "in_history"), CASES, ids=["-".join(map(str, c)) for c in CASES])
def test_the_sql_push_decides_as_the_python_rules(equipment, current, offset, in_history):
    base = timezone.now().replace(microsecond=0)
    when = base + timedelta(seconds=OFFSETS[offset])
    results = []
    for n, path in enumerate(("python", "sql")):
        connector = factories.connector(equipment, f"C{n}")
        if CURRENT[current] is not None:
            start = _info(connector.connector_id, CURRENT[current])
            connector_statuses_apply(
                operator_id=equipment.operator_id, infos=[start], status_time=base, source=StatusSource.PULL
            )
        if in_history:  # the observation itself already in history (a repeat arriving again)
            status, park, lock = OBSERVED
            ConnectorStatusHistory.objects.create(
                connector=connector, status=status, park_status=park, lock_status=lock, status_time=when,
                source=StatusSource.PUSH,
            )  # fmt: skip
        info = _info(connector.connector_id, OBSERVED)
        if path == "python":
            outcome = connector_statuses_apply(
                operator_id=equipment.operator_id, infos=[info], status_time=when, source=StatusSource.PUSH
            )
        else:
            outcome = connector_status_push(
                operator_id=equipment.operator_id, info=info, status_time=when, source=StatusSource.PUSH
            )
        results.append((_counts(outcome), _state(connector)))
    python, sql = results
    assert sum(python[0]) == 1  # one observation, one verdict
    assert sql == python


def test_a_push_for_a_connector_not_in_the_directory_is_kept_pending(equipment):
    outcome = connector_status_push(
        operator_id=equipment.operator_id,
        info={"ConnectorID": "NOTYET", "Status": 2},
        status_time=timezone.now(),
        source=StatusSource.PUSH,
    )
    assert (outcome.pending, outcome.applied) == (1, 0)
    assert not ConnectorStatusHistory.objects.exists()
