"""Writes of the directory from StationInfo pages: exact, bulk, one transaction per page, every change recorded."""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from apps.core.exceptions import ValidationFailed

from .models import Connector, ConnectorStats, Equipment, EquipmentStats, Station, StationStats

STATION_FIELDS = [
    "equipment_owner_id", "station_name", "country_code", "area_code", "address", "station_tel", "service_tel",
    "station_type", "station_status", "park_nums", "station_lng", "station_lat", "site_guide", "construction",
    "pictures", "match_cars", "park_info", "busine_hours", "electricity_fee", "service_fee", "park_fee", "payment",
    "support_order", "remark",
]  # fmt: skip
EQUIPMENT_FIELDS = [
    "manufacturer_id", "manufacturer_name", "equipment_model", "production_date", "equipment_type",
    "equipment_lng", "equipment_lat", "power", "equipment_name",
]  # fmt: skip
CONNECTOR_FIELDS = [
    "connector_name", "connector_type", "voltage_upper_limits", "voltage_lower_limits", "current", "power",
    "park_no", "national_standard",
]  # fmt: skip


@functools.cache
def wire_name(field_name: str) -> str:
    """`station_lng` → `StationLng`, `equipment_owner_id` → `EquipmentOwnerID`: field names mirror the wire."""
    return "".join("ID" if part == "id" else part.capitalize() for part in field_name.split("_"))


@functools.cache
def _field(model: type[models.Model], name: str) -> tuple[Any, int | None, bool]:
    """(value for absent, decimal places or None, is a date): looked up once, used for every record."""
    f = model._meta.get_field(name)
    default = None if f.null else (f.get_default() if f.has_default() else "")
    places = f.decimal_places if isinstance(f, models.DecimalField) else None
    return default, places, isinstance(f, models.DateField)


@functools.cache
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def _value(model: type[models.Model], name: str, raw: Any) -> Any:
    """The wire value as the model stores it: absent optional text is "", decimals at the field's scale."""
    default, places, is_date = _field(model, name)
    if raw is None or raw == "":
        return copy.copy(default) if isinstance(default, list | dict) else default  # never share a mutable
    if places is not None:
        return Decimal(raw).quantize(_quantum(places))
    if is_date:
        return dt.date.fromisoformat(raw)
    return raw


def _fields(model: type[models.Model], names: list[str], info: dict[str, Any]) -> dict[str, Any]:
    return {name: _value(model, name, info.get(wire_name(name))) for name in names}


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal | dt.date) else value


@dataclass
class PageOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # (kind, object id, station id, action, {field: [old, new]})
    changes: list[tuple[str, str, str, str, dict[str, list[Any]]]] = field(default_factory=list)


def _sync(
    existing: dict[str, models.Model],
    key: str,
    values: dict[str, Any],
    build: Callable[[], models.Model],
    kind: str,
    station_id: str,
    outcome: PageOutcome,
    to_create: list,
    to_update: dict,
    record_created: bool = True,
) -> tuple[models.Model, bool]:
    """Create or diff one object; returns it and whether anything about it changed."""
    obj = existing.get(key)
    if obj is None:
        obj = build()
        to_create.append(obj)
        if record_created:
            outcome.changes.append((kind, key, station_id, "created", {}))
        return obj, True
    diff = {n: [_jsonable(getattr(obj, n)), _jsonable(v)] for n, v in values.items() if getattr(obj, n) != v}
    if not diff:
        return obj, False
    for name in diff:
        setattr(obj, name, values[name])
    to_update.setdefault(obj.pk, (obj, set()))[1].update(diff)
    outcome.changes.append((kind, key, station_id, "updated", diff))
    return obj, True


def _bulk_update(model: type[models.Model], pending: dict) -> None:
    if pending:
        names = set().union(*(names for _, names in pending.values())) | {"updated"}
        now = timezone.now()
        objs = [obj for obj, _ in pending.values()]
        for obj in objs:
            obj.updated = now  # bulk_update skips auto_now
        model.objects.bulk_update(objs, sorted(names), batch_size=500)


@transaction.atomic
def station_infos_upsert(*, operator_id: str, infos: list[dict[str, Any]]) -> PageOutcome:
    """Write one page of valid StationInfo records (with their equipment and connectors) for an operator.

    A station counts as updated when it, or any of its equipment or connectors, changed. Equipment or a
    connector that moved to another station follows it. A station marked removed comes back when listed again.
    """
    outcome = PageOutcome()
    ids = [info["StationID"] for info in infos]
    eq_ids = [e["EquipmentID"] for info in infos for e in info["EquipmentInfos"]]
    conn_ids = [c["ConnectorID"] for info in infos for e in info["EquipmentInfos"] for c in e["ConnectorInfos"]]
    stations = {
        s.station_id: s for s in Station.objects.select_for_update().filter(operator_id=operator_id, station_id__in=ids)
    }
    equipment = {e.equipment_id: e for e in Equipment.objects.filter(operator_id=operator_id, equipment_id__in=eq_ids)}
    connectors = {
        c.connector_id: c for c in Connector.objects.filter(operator_id=operator_id, connector_id__in=conn_ids)
    }

    new_st, upd_st, touched = [], {}, {}
    for info in infos:
        values = {**_fields(Station, STATION_FIELDS, info), "removed_at": None}
        sid = info["StationID"]
        station, changed = _sync(
            stations, sid, values, lambda v=values, s=sid: Station(operator_id=operator_id, station_id=s, **v),
            "station", sid, outcome, new_st, upd_st,
        )  # fmt: skip
        stations[sid] = station
        touched[sid] = changed
    Station.objects.bulk_create(new_st, batch_size=500)
    _bulk_update(Station, upd_st)
    # A new station's "created" change stands for its equipment and connectors too: a first crawl of a city
    # would otherwise write a change row per connector (200,000 of them) that says nothing the station's does not.
    new_ids = {s.station_id for s in new_st}

    new_eq, upd_eq = [], {}
    for info in infos:
        station = stations[info["StationID"]]
        for e in info["EquipmentInfos"]:
            values = {**_fields(Equipment, EQUIPMENT_FIELDS, e), "station_id": station.pk, "removed_at": None}
            eid = e["EquipmentID"]
            obj, changed = _sync(
                equipment, eid, values, lambda v=values, i=eid: Equipment(operator_id=operator_id, equipment_id=i, **v),
                "equipment", station.station_id, outcome, new_eq, upd_eq, station.station_id not in new_ids,
            )  # fmt: skip
            equipment[eid] = obj
            touched[station.station_id] |= changed
    Equipment.objects.bulk_create(new_eq, batch_size=500)
    _bulk_update(Equipment, upd_eq)

    new_conn, upd_conn = [], {}
    for info in infos:
        station = stations[info["StationID"]]
        for e in info["EquipmentInfos"]:
            eq = equipment[e["EquipmentID"]]
            for c in e["ConnectorInfos"]:
                values = {
                    **_fields(Connector, CONNECTOR_FIELDS, c),
                    "station_id": station.pk,
                    "equipment_id": eq.pk,
                    "removed_at": None,
                }
                cid = c["ConnectorID"]
                _, changed = _sync(
                    connectors, cid, values,
                    lambda v=values, i=cid: Connector(operator_id=operator_id, connector_id=i, **v),
                    "connector", station.station_id, outcome, new_conn, upd_conn, station.station_id not in new_ids,
                )  # fmt: skip
                touched[station.station_id] |= changed
    Connector.objects.bulk_create(new_conn, batch_size=500)
    _bulk_update(Connector, upd_conn)

    # A StationInfo lists all of the station's equipment, so what it leaves out has gone (orders, history and
    # stats still refer to it, hence removed_at rather than a delete).
    listed_pks = [stations[info["StationID"]].pk for info in infos]
    for model, kind, key, listed in (
        (Equipment, "equipment", "equipment_id", eq_ids),
        (Connector, "connector", "connector_id", conn_ids),
    ):
        gone = list(
            model.objects.filter(station_id__in=listed_pks, removed_at__isnull=True)
            .exclude(**{f"{key}__in": listed})
            .values_list("pk", key, "station__station_id")
        )
        if gone:
            now = timezone.now()
            model.objects.filter(pk__in=[pk for pk, _, _ in gone]).update(removed_at=now, updated=now)
            for _, oid, sid in gone:
                outcome.changes.append((kind, oid, sid, "removed", {}))
                touched[sid] = True

    for sid, changed in touched.items():
        if sid in new_ids:
            outcome.created += 1
        elif changed:
            outcome.updated += 1
        else:
            outcome.unchanged += 1
    return outcome


@transaction.atomic
def stations_mark_removed(*, operator_id: str, listed: set[str]) -> list[str]:
    """After a complete full crawl: stations the operator no longer lists are marked removed (kept, not deleted)."""
    gone = list(
        Station.objects.filter(operator_id=operator_id, removed_at__isnull=True)
        .exclude(station_id__in=listed)
        .values_list("station_id", flat=True)
    )
    Station.objects.filter(operator_id=operator_id, station_id__in=gone).update(removed_at=timezone.now())
    return gone


@transaction.atomic
def station_stats_store(*, operator_id: str, info: dict[str, Any]) -> bool:
    """Store one StationStatsInfo (replacing an earlier answer for the same period); True when it was new.

    Raises ValidationFailed when the record names a station, equipment or connector the directory lacks.
    """
    station = Station.objects.filter(operator_id=operator_id, station_id=info["StationID"]).first()
    if station is None:
        raise ValidationFailed(f"充电站 {info['StationID']} 不在目录中", field="StationID")
    eq_ids = [e["EquipmentID"] for e in info["EquipmentStatsInfos"]]
    equipment = {e.equipment_id: e for e in Equipment.objects.filter(operator_id=operator_id, equipment_id__in=eq_ids)}
    conn_ids = [c["ConnectorID"] for e in info["EquipmentStatsInfos"] for c in e["ConnectorStatsInfos"]]
    connectors = {
        c.connector_id: c for c in Connector.objects.filter(operator_id=operator_id, connector_id__in=conn_ids)
    }
    missing = sorted(set(eq_ids) - set(equipment)) + sorted(set(conn_ids) - set(connectors))
    if missing:
        raise ValidationFailed(f"目录中没有这些设备或接口：{'、'.join(missing[:10])}", field="EquipmentStatsInfos")
    stats, created = StationStats.objects.update_or_create(
        station=station,
        start_time=dt.date.fromisoformat(info["StartTime"]),
        end_time=dt.date.fromisoformat(info["EndTime"]),
        defaults={"station_electricity": _value(StationStats, "station_electricity", info["StationElectricity"])},
    )
    stats.equipment_stats.all().delete()  # a repeated answer replaces the breakdown as a whole
    for e in info["EquipmentStatsInfos"]:
        es = EquipmentStats.objects.create(
            station_stats=stats,
            equipment=equipment[e["EquipmentID"]],
            equipment_electricity=_value(EquipmentStats, "equipment_electricity", e["EquipmentElectricity"]),
        )
        ConnectorStats.objects.bulk_create(
            ConnectorStats(
                equipment_stats=es,
                connector=connectors[c["ConnectorID"]],
                connector_electricity=_value(ConnectorStats, "connector_electricity", c.get("ConnectorElectricity")),
            )
            for c in e["ConnectorStatsInfos"]
        )
    return created
