"""Every model of the portal has a factory, and each factory alone builds a row its model calls valid."""

from __future__ import annotations

import inspect

import pytest
from django.apps import apps

from tests import factories

pytestmark = pytest.mark.django_db

FACTORIES = {
    obj._meta.get_model_class(): obj
    for obj in vars(factories).values()
    if inspect.isclass(obj) and obj.__name__.endswith("Factory") and obj._meta.model is not None
}


# Fields the services write empty (a first event has no previous state, a new station no field changes, most
# platforms no dialect, a queued job no result) although the model does not declare them blank: full_clean would
# refuse the services' own rows.
WRITTEN_EMPTY = {
    "charging.SessionEvent": ["from_state"],
    "stations.DirectoryChange": ["changes"],
    "onboarding.ConformanceReport": ["dialects_detected"],
    "core.Job": ["result"],
}


def portal_models():
    # simple_history's Historical* tables are written by the library, never by a test; a proxy (an admin page's
    # entry, apps.indicators.models.IndicatorExplorer) has no table of its own.
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("apps.")
        and not model.__name__.startswith("Historical")
        and not model._meta.proxy
    ]


def test_every_model_of_the_portal_has_a_factory():
    missing = sorted(model._meta.label for model in portal_models() if model not in FACTORIES)
    assert missing == []
    assert len(portal_models()) >= 40


@pytest.mark.parametrize("factory", sorted(FACTORIES.values(), key=lambda f: f.__name__), ids=lambda f: f.__name__)
def test_a_factory_builds_a_valid_row(factory):
    exclude = WRITTEN_EMPTY.get(factory._meta.get_model_class()._meta.label)
    row = factory()
    row.full_clean(exclude=exclude)
    assert type(row).objects.filter(pk=row.pk).exists()
    # Twice in one test: sequences keep unique keys apart, and nothing it hangs from is shared by accident.
    again = factory()
    again.full_clean(exclude=exclude)
    assert again.pk != row.pk


def test_the_shorthands_hang_each_row_from_its_parent():
    op = factories.operator("MA59CU773")
    conn = factories.connector(factories.equipment(factories.station(op, "ST1"), "EQ1"), "CN1")
    assert (conn.operator_id, conn.station.station_id, conn.equipment.equipment_id) == ("MA59CU773", "ST1", "EQ1")
    assert conn.station.equipment_owner_id == "MA59CU773"
    order = factories.order(conn, connector=None)
    assert order.connector is None and order.connector_code == "CN1" and order.operator_id == "MA59CU773"
    assert order.start_charge_seq.startswith("MA59CU773") and len(order.start_charge_seq) == 27


def test_a_station_day_of_statistics_covers_every_pile_and_connector():
    conn = factories.ConnectorFactory()
    factories.ConnectorFactory(equipment=conn.equipment)
    row = factories.station_stats(conn.station, factories.MOMENT.date(), "12.5")
    assert [e.equipment_electricity for e in row.equipment_stats.all()] == [row.station_electricity]
    assert row.equipment_stats.get().connector_stats.count() == 2
