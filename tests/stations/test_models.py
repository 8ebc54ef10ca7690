"""The directory's database constraints and validators reject what T/CEC 102.2 forbids."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction

from apps.stations.models import Connector, Station
from tests import factories


def _rejected_by_db(fn):
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        fn()


@pytest.fixture
def op(db):
    return factories.operator()


def test_station_natural_key_unique_per_operator(op):
    factories.station(op, "S1")
    _rejected_by_db(lambda: factories.station(op, "S1"))
    other = factories.operator("MA59CU773")
    assert factories.station(other, "S1").station_id == "S1"  # same StationID under another operator is fine


@pytest.mark.parametrize(
    "field, value",
    [
        ("station_type", 2),  # not in E1
        ("station_status", 7),  # not in E2
        ("construction", 12),  # not in E3
        ("support_order", 2),
        ("station_lat", Decimal("91")),
        ("equipment_owner_id", "12345678"),  # must be exactly 9
        ("country_code", "C"),
        ("station_id", ""),
    ],
)
def test_station_constraints(op, field, value):
    _rejected_by_db(lambda: factories.station(op, **{field: value}))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("station_name", "站" * 51, "50"),
        ("address", "路" * 51, "50"),
        ("area_code", "11010", "6位"),
        ("station_lng", Decimal("181"), "180"),
        ("equipment_owner_id", "abc-12345", "9位"),
        ("country_code", "cn", "大写"),
        ("station_type", 3, "3"),
    ],
)
def test_station_validation_names_the_rule(op, field, value, message):
    st = factories.station(op)
    setattr(st, field, value)
    with pytest.raises(ValidationError) as exc:
        st.full_clean()
    assert field in exc.value.message_dict
    assert message in " ".join(exc.value.message_dict[field])


def test_valid_station_passes_full_clean(op):
    factories.station(op).full_clean()


def test_equipment_and_connector_constraints(op):
    st = factories.station(op)
    eq = factories.equipment(st, "E1")
    _rejected_by_db(lambda: factories.equipment(st, "E1"))  # EquipmentID unique within operator
    _rejected_by_db(lambda: factories.equipment(st, equipment_type=6))  # E4 is 1–5
    _rejected_by_db(lambda: factories.equipment(st, power=Decimal("-1.0")))
    _rejected_by_db(lambda: factories.equipment(st, manufacturer_id="1234"))
    factories.connector(eq, "C1")
    _rejected_by_db(lambda: factories.connector(eq, "C1"))  # ConnectorID unique within operator
    _rejected_by_db(lambda: factories.connector(eq, connector_type=7))  # E5 is 1–6
    _rejected_by_db(lambda: factories.connector(eq, national_standard=3))  # E6 is 1–2
    _rejected_by_db(lambda: factories.connector(eq, voltage_lower_limits=800, voltage_upper_limits=750))


def test_connector_id_length_and_qr_code(op):
    eq = factories.equipment(factories.station(op))
    conn = factories.connector(eq, "3702030162102")
    assert conn.qr_code == "hlht://3702030162102.123456789/"
    conn.connector_id = "x" * 27
    with pytest.raises(ValidationError) as exc:
        conn.full_clean()
    assert "connector_id" in exc.value.message_dict


def test_status_enums_enforced(op):
    conn = factories.connector(factories.equipment(factories.station(op)))
    for bad in ({"status": 5}, {"status": 1, "park_status": 20}, {"status": 1, "lock_status": 1}):
        _rejected_by_db(lambda bad=bad: factories.ConnectorStatusHistoryFactory(connector=conn, **bad))
    factories.ConnectorStatusFactory(connector=conn, status=255, park_status=50, lock_status=10, source="pull")
    assert str(conn.current_status) == f"{conn.connector_id}: 故障"


def test_stats_period_and_energy(op):
    import datetime as dt

    st = factories.station(op)
    day = dt.date(2024, 1, 1)
    factories.StationStatsFactory(station=st, start_time=day, end_time=day, station_electricity=Decimal("12.3"))
    _rejected_by_db(lambda: factories.StationStatsFactory(station=st, start_time=day, end_time=day))
    _rejected_by_db(
        lambda: factories.StationStatsFactory(station=st, start_time=dt.date(2024, 1, 3), end_time=dt.date(2024, 1, 2))
    )


def test_field_names_mirror_the_wire():
    # The rule that makes wire <-> database mapping table-free: snake_case of the spec's names.
    station_fields = {f.name for f in Station._meta.get_fields()}
    for wire in ("StationLng", "BusineHours", "ElectricityFee", "SupportOrder", "EquipmentOwnerID", "ParkNums"):
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in wire.replace("ID", "Id")).lstrip("_")
        assert snake in station_fields, wire
    assert {"voltage_upper_limits", "voltage_lower_limits", "national_standard"} <= {
        f.name for f in Connector._meta.get_fields()
    }
