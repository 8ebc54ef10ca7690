"""Directory upserts: equipment and connectors a station no longer lists are marked removed, and come back."""

from __future__ import annotations

import copy
import time
from decimal import Decimal

import pytest

from apps.core.exceptions import ValidationFailed
from apps.simulator.directory import Directory
from apps.stations.directory import station_infos_upsert, station_stats_store
from apps.stations.models import Connector, ConnectorStats, Equipment, EquipmentStats, Station, StationStats
from tests import factories

pytestmark = pytest.mark.django_db
OPERATOR = "MA0SIMDIR"


@pytest.fixture
def info():
    """A generated StationInfo with at least two pieces of equipment, the first with two connectors."""
    factories.operator(OPERATOR)
    directory = Directory(OPERATOR, seed=7, count=40, start=time.time())
    for station in directory.stations:
        record = directory.station_info(station)
        equipment = record["EquipmentInfos"]
        if len(equipment) >= 2 and len(equipment[0]["ConnectorInfos"]) >= 2:
            return record
    pytest.fail("the seed produced no station with two pieces of equipment and a twin-gun charger")


def live(model, **filters):
    return set(model.objects.filter(operator_id=OPERATOR, removed_at__isnull=True, **filters).values_list(
        "equipment_id" if model is Equipment else "connector_id", flat=True))  # fmt: skip


def test_dropped_equipment_and_connector_are_marked_removed_not_deleted(info):
    station_infos_upsert(operator_id=OPERATOR, infos=[info])
    shrunk = copy.deepcopy(info)
    gone_equipment = shrunk["EquipmentInfos"].pop()
    gone_connector = shrunk["EquipmentInfos"][0]["ConnectorInfos"].pop()

    outcome = station_infos_upsert(operator_id=OPERATOR, infos=[shrunk])

    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 1, 0)
    removed = {(kind, oid) for kind, oid, _, action, _ in outcome.changes if action == "removed"}
    gone_connectors = {c["ConnectorID"] for c in gone_equipment["ConnectorInfos"]} | {gone_connector["ConnectorID"]}
    assert removed == {("equipment", gone_equipment["EquipmentID"])} | {("connector", c) for c in gone_connectors}
    assert gone_equipment["EquipmentID"] not in live(Equipment)
    assert not gone_connectors & live(Connector)
    # Kept for the orders, history and statistics that refer to them.
    assert Equipment.objects.get(equipment_id=gone_equipment["EquipmentID"]).removed_at is not None
    assert Connector.objects.filter(connector_id__in=gone_connectors, removed_at__isnull=False).count() == len(
        gone_connectors
    )
    assert live(Connector) == {c["ConnectorID"] for e in shrunk["EquipmentInfos"] for c in e["ConnectorInfos"]}


def test_listing_them_again_brings_them_back(info):
    station_infos_upsert(operator_id=OPERATOR, infos=[info])
    shrunk = copy.deepcopy(info)
    shrunk["EquipmentInfos"].pop()
    station_infos_upsert(operator_id=OPERATOR, infos=[shrunk])

    outcome = station_infos_upsert(operator_id=OPERATOR, infos=[info])

    assert outcome.updated == 1
    assert live(Equipment) == {e["EquipmentID"] for e in info["EquipmentInfos"]}
    restored = [diff for kind, _, _, action, diff in outcome.changes if kind == "equipment" and action == "updated"]
    assert restored and all(set(diff) == {"removed_at"} and diff["removed_at"][1] is None for diff in restored)


def test_a_repeat_of_the_same_listing_changes_nothing(info):
    station_infos_upsert(operator_id=OPERATOR, infos=[info])
    outcome = station_infos_upsert(operator_id=OPERATOR, infos=[info])
    assert (outcome.created, outcome.updated, outcome.unchanged, outcome.changes) == (0, 0, 1, [])
    assert Station.objects.get(station_id=info["StationID"]).removed_at is None


def test_a_new_station_is_one_change_and_a_pile_added_later_is_its_own(info):
    outcome = station_infos_upsert(operator_id=OPERATOR, infos=[info])
    assert [(kind, action) for kind, _, _, action, _ in outcome.changes] == [("station", "created")]
    grown = copy.deepcopy(info)
    pile = copy.deepcopy(grown["EquipmentInfos"][0])
    pile["EquipmentID"] = "NEWPILE0001"
    for n, connector in enumerate(pile["ConnectorInfos"]):
        connector["ConnectorID"] = f"NEWPILE0001C{n}"
    grown["EquipmentInfos"].append(pile)

    outcome = station_infos_upsert(operator_id=OPERATOR, infos=[grown])

    created = {(kind, oid) for kind, oid, _, action, _ in outcome.changes if action == "created"}
    assert created == {("equipment", "NEWPILE0001")} | {("connector", c["ConnectorID"]) for c in pile["ConnectorInfos"]}


def _stats_of(info: dict, energy: str) -> dict:
    return {
        "StationID": info["StationID"], "StartTime": "2026-12-01", "EndTime": "2026-12-01",
        "StationElectricity": energy,
        "EquipmentStatsInfos": [
            {"EquipmentID": e["EquipmentID"], "EquipmentElectricity": energy,
             "ConnectorStatsInfos": [{"ConnectorID": c["ConnectorID"], "ConnectorElectricity": energy}
                                     for c in e["ConnectorInfos"]]}
            for e in info["EquipmentInfos"]
        ],
    }  # fmt: skip


def test_a_repeated_stats_answer_replaces_the_breakdown_and_an_unknown_pile_is_refused(info):
    station_infos_upsert(operator_id=OPERATOR, infos=[info])
    piles = len(info["EquipmentInfos"])
    connectors = sum(len(e["ConnectorInfos"]) for e in info["EquipmentInfos"])
    assert station_stats_store(operator_id=OPERATOR, info=_stats_of(info, "12.5")) is True
    assert station_stats_store(operator_id=OPERATOR, info=_stats_of(info, "30.0")) is False
    stats = StationStats.objects.get()
    assert stats.station_electricity == Decimal("30.0")
    assert EquipmentStats.objects.filter(station_stats=stats).count() == piles
    assert set(ConnectorStats.objects.values_list("connector_electricity", flat=True)) == {Decimal("30.0")}
    assert ConnectorStats.objects.count() == connectors
    first = info["EquipmentInfos"][0]
    assert ConnectorStats.objects.filter(equipment_stats__equipment__equipment_id=first["EquipmentID"]).count() == len(
        first["ConnectorInfos"]
    )  # each connector under its own pile
    wrong = _stats_of(info, "1.0")
    wrong["EquipmentStatsInfos"][0]["EquipmentID"] = "NOSUCHPILE"
    with pytest.raises(ValidationFailed) as refused:
        station_stats_store(operator_id=OPERATOR, info=wrong)
    assert refused.value.field == "EquipmentStatsInfos" and "NOSUCHPILE" in refused.value.message
    assert StationStats.objects.get().station_electricity == Decimal("30.0")  # the refused answer changed nothing


def test_a_connectors_operator_is_its_stations_and_the_operator_stays_protected(info):
    # The connector's operator has no constraint of its own (migration stations 0011): the directory writes it from
    # the station's, and the station's constraint keeps the operator from going while its directory stands.
    from django.db import IntegrityError, connection, transaction
    from django.db.models import F, ProtectedError

    from apps.operators.models import Operator

    station_infos_upsert(operator_id=OPERATOR, infos=[info])
    connectors = Connector.objects.filter(operator_id=OPERATOR)
    assert connectors.exists() and not connectors.exclude(operator_id=F("station__operator_id")).exists()
    with pytest.raises(ProtectedError):
        Operator.objects.get(pk=OPERATOR).delete()
    delete = f"DELETE FROM {Operator._meta.db_table} WHERE operator_id = %s"  # noqa: S608 - the model's table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(IntegrityError), transaction.atomic():
            cursor.execute(delete, [OPERATOR])
