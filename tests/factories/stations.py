"""The directory: stations, equipment, connectors, their statuses and statistics, and what pulls changed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory

from apps.stations import choices as sc
from apps.stations.models import (
    Connector,
    ConnectorStats,
    ConnectorStatus,
    ConnectorStatusHistory,
    DirectoryChange,
    Equipment,
    EquipmentStats,
    PendingConnectorStatus,
    Station,
    StationStats,
)

from .base import MOMENT
from .operators import OperatorFactory


class StationFactory(factory.django.DjangoModelFactory):
    """A public DC station in Chaoyang, owned by its operator."""

    class Meta:
        model = Station

    operator = factory.SubFactory(OperatorFactory)
    station_id = factory.Sequence(lambda n: f"S{n}")
    equipment_owner_id = factory.SelfAttribute("operator.operator_id")
    station_name = "测试充电站"
    area_code = "110105"
    address = "北京市朝阳区测试路1号"
    service_tel = "400-000-0000"
    station_type = sc.StationType.PUBLIC
    station_status = sc.StationStatus.NORMAL
    station_lng = Decimal("116.461286")
    station_lat = Decimal("39.909604")
    construction = sc.Construction.OFFICE


class EquipmentFactory(factory.django.DjangoModelFactory):
    """A 120 kW DC pile; its operator is its station's."""

    class Meta:
        model = Equipment

    station = factory.SubFactory(StationFactory)
    operator = factory.SelfAttribute("station.operator")
    equipment_id = factory.Sequence(lambda n: f"E{n}")
    equipment_type = sc.EquipmentType.DC
    power = Decimal("120.0")


class ConnectorFactory(factory.django.DjangoModelFactory):
    """A 60 kW GB/T 2015 DC gun; its station and operator are its equipment's."""

    class Meta:
        model = Connector

    equipment = factory.SubFactory(EquipmentFactory)
    station = factory.SelfAttribute("equipment.station")
    operator = factory.SelfAttribute("equipment.operator")
    connector_id = factory.Sequence(lambda n: f"C{n}")
    connector_type = sc.ConnectorType.DC_GUN
    voltage_upper_limits = 750
    voltage_lower_limits = 200
    current = 250
    power = Decimal("60.0")
    national_standard = sc.NationalStandard.GB2015


class ConnectorStatusFactory(factory.django.DjangoModelFactory):
    """A connector's current status: idle, pushed at MOMENT."""

    class Meta:
        model = ConnectorStatus

    connector = factory.SubFactory(ConnectorFactory)
    status = sc.ConnectorStatus.IDLE
    status_time = MOMENT
    source = sc.StatusSource.PUSH


class ConnectorStatusHistoryFactory(ConnectorStatusFactory):
    """One status in a connector's history."""

    class Meta:
        model = ConnectorStatusHistory


class PendingConnectorStatusFactory(factory.django.DjangoModelFactory):
    """A status pushed for a connector the directory does not list yet."""

    class Meta:
        model = PendingConnectorStatus

    operator = factory.SubFactory(OperatorFactory)
    connector_id = factory.Sequence(lambda n: f"UNKNOWN{n}")
    status = sc.ConnectorStatus.IDLE
    status_time = MOMENT
    source = sc.StatusSource.PUSH


class StationStatsFactory(factory.django.DjangoModelFactory):
    """One day's energy at a station."""

    class Meta:
        model = StationStats

    station = factory.SubFactory(StationFactory)
    start_time = date(2024, 1, 1)
    end_time = factory.SelfAttribute("start_time")
    station_electricity = Decimal("10.0")


class EquipmentStatsFactory(factory.django.DjangoModelFactory):
    """A pile's share of a station's statistics (the pile stands in that station)."""

    class Meta:
        model = EquipmentStats

    station_stats = factory.SubFactory(StationStatsFactory)
    equipment = factory.SubFactory(EquipmentFactory, station=factory.SelfAttribute("..station_stats.station"))
    equipment_electricity = factory.SelfAttribute("station_stats.station_electricity")


class ConnectorStatsFactory(factory.django.DjangoModelFactory):
    """A connector's share of its pile's statistics."""

    class Meta:
        model = ConnectorStats

    equipment_stats = factory.SubFactory(EquipmentStatsFactory)
    connector = factory.SubFactory(ConnectorFactory, equipment=factory.SelfAttribute("..equipment_stats.equipment"))
    connector_electricity = factory.SelfAttribute("equipment_stats.equipment_electricity")


class DirectoryChangeFactory(factory.django.DjangoModelFactory):
    """A station a pull found for the first time."""

    class Meta:
        model = DirectoryChange

    operator = factory.SubFactory(OperatorFactory)
    station_id = factory.Sequence(lambda n: f"S{n}")
    kind = "station"
    object_id = factory.SelfAttribute("station_id")
    action = sc.ChangeAction.CREATED


def station_stats(station: Station, day: date, kwh: str) -> StationStats:
    """A day's statistics of a station with every pile and connector of it carrying the same energy."""
    row = StationStatsFactory(station=station, start_time=day, station_electricity=Decimal(kwh))
    for equipment in station.equipment.all():
        eq = EquipmentStatsFactory(station_stats=row, equipment=equipment)
        for connector in equipment.connectors.all():
            ConnectorStatsFactory(equipment_stats=eq, connector=connector)
    return row
