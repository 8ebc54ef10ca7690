"""Reads of the directory for publication: the published stations and their T/CEC 102.2 wire structures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from apps.core.conf import conf
from apps.core.roles import ScopedQuerySet
from apps.operators.choices import OperatorStatus
from apps.protocol.names import wire_name

from .choices import ConnectorStatus as ConnectorStatusChoices
from .directory import CONNECTOR_FIELDS, EQUIPMENT_FIELDS, STATION_FIELDS
from .models import Connector, ConnectorStats, ConnectorStatus, Equipment, EquipmentStats, Station, StationStats

# Only operators in 正式接入 are published. 联调测试 (testing) operators may hold tokens and exchange messages, but
# their directory is still being verified and may be test data, so third parties must not see it; applied and
# suspended operators are not connected at all.
PUBLISHED_OPERATOR_STATUSES = (OperatorStatus.ACTIVE,)

# A connector the portal has no status for yet is published as 0 离网: the portal cannot vouch that it is reachable,
# and E7 has no "unknown" value (0 is the state a consumer treats as "not usable now", which is the safe reading).
UNKNOWN_CONNECTOR_STATUS = int(ConnectorStatusChoices.OFFLINE)


def listed_connectors() -> ScopedQuerySet:
    """Connectors the operator lists now: neither they nor their station removed."""
    return Connector.objects.filter(removed_at__isnull=True, station__removed_at__isnull=True)


def stale_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """Statuses older than this are stale (HLHT_STALE_MINUTES)."""
    return (now or timezone.now()) - conf().supervision.stale_after


def stale_connectors(cutoff: dt.datetime) -> models.QuerySet[Connector]:
    """Listed connectors whose last known status is older than `cutoff`, or that never had one."""
    return listed_connectors().filter(Q(current_status__isnull=True) | Q(current_status__status_time__lt=cutoff))


def _wire(obj: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """The wire fields of a record; optional values that are empty (None, "", []) are left out, as the spec allows."""
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(obj, name)
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, dt.date):
            value = value.isoformat()  # yyyy-MM-dd (ProductionDate)
        elif isinstance(value, int) and not isinstance(value, bool):
            value = int(value)  # enum members as plain ints
        out[wire_name(name)] = value  # Decimals stay Decimal: the JSON codec writes them with their exact scale
    return out


def connector_info(connector: Connector) -> dict[str, Any]:
    """ConnectorInfo (part 2 §2.4)."""
    return {"ConnectorID": connector.connector_id, **_wire(connector, CONNECTOR_FIELDS)}


def equipment_info(equipment: Equipment) -> dict[str, Any]:
    """EquipmentInfo (part 2 §2.3) with its ConnectorInfos; connectors should be prefetched in ConnectorID order."""
    return {
        "EquipmentID": equipment.equipment_id,
        **_wire(equipment, EQUIPMENT_FIELDS),
        "ConnectorInfos": [connector_info(c) for c in equipment.connectors.all()],
    }


def station_info(station: Station) -> dict[str, Any]:
    """StationInfo (part 2 §2.2) with EquipmentInfos → ConnectorInfos; use with published_stations() to prefetch."""
    return {
        "StationID": station.station_id,
        "OperatorID": station.operator_id,
        **_wire(station, STATION_FIELDS),
        "EquipmentInfos": [equipment_info(e) for e in station.equipment.all()],
    }


def published_stations() -> models.QuerySet[Station]:
    """Stations third parties may see: not removed, of an operator in PUBLISHED_OPERATOR_STATUSES; stable order."""
    return Station.objects.filter(removed_at__isnull=True, operator__status__in=PUBLISHED_OPERATOR_STATUSES).order_by(
        "operator_id", "station_id"
    )


def stations_changed_since(queryset: models.QuerySet[Station], since: dt.datetime) -> models.QuerySet[Station]:
    """Stations whose own record, or any of their equipment or connectors, was modified after `since` (§1.1)."""
    return queryset.filter(
        Q(updated__gt=since)
        # An operator that changed (e.g. became active again) republishes its stations to incremental consumers.
        | Q(operator__updated__gt=since)
        | Exists(Equipment.objects.filter(station=OuterRef("pk"), updated__gt=since))
        | Exists(Connector.objects.filter(station=OuterRef("pk"), updated__gt=since))
    )


def with_directory(queryset: models.QuerySet[Station]) -> models.QuerySet[Station]:
    """Prefetch equipment and connectors in ID order: three queries per page whatever its size."""
    return queryset.prefetch_related(
        Prefetch(
            "equipment",
            # Equipment and connectors the operator stopped listing are kept for history, never published.
            queryset=Equipment.objects.filter(removed_at__isnull=True)
            .order_by("equipment_id")
            .prefetch_related(
                Prefetch(
                    "connectors", queryset=Connector.objects.filter(removed_at__isnull=True).order_by("connector_id")
                )
            ),
        )
    )


@dataclass(frozen=True, slots=True)
class Page:
    """One page of query_stations_info: the requested number (echoed even past the end), totals and the items."""

    number: int
    count: int
    item_count: int
    items: list[Any]


def page_get(queryset: models.QuerySet, *, number: int, size: int) -> Page:
    """Slice one page out of an ordered queryset (a page past the last one is empty, not an error)."""
    total = queryset.count()
    pages = (total + size - 1) // size
    start = (number - 1) * size
    items = list(queryset[start : start + size]) if start < total else []
    return Page(number=number, count=pages, item_count=total, items=items)


def station_infos_page(*, since: dt.datetime | None, number: int, size: int) -> Page:
    """A page of StationInfo dicts over all published operators, ordered by (OperatorID, StationID)."""
    queryset = published_stations()
    if since is not None:
        queryset = stations_changed_since(queryset, since)
    page = page_get(with_directory(queryset), number=number, size=size)
    return Page(
        number=page.number, count=page.count, item_count=page.item_count, items=[station_info(s) for s in page.items]
    )


def connector_status_info(connector: Connector) -> dict[str, Any]:
    """ConnectorStatusInfo (part 2 §2.5) of the current status; ParkStatus/LockStatus only when known."""
    try:
        current = connector.current_status
    except ConnectorStatus.DoesNotExist:
        return {"ConnectorID": connector.connector_id, "Status": UNKNOWN_CONNECTOR_STATUS}
    info: dict[str, Any] = {"ConnectorID": connector.connector_id, "Status": int(current.status)}
    if current.park_status is not None:
        info["ParkStatus"] = int(current.park_status)
    if current.lock_status is not None:
        info["LockStatus"] = int(current.lock_status)
    return info


def station_status_infos(station_ids: list[str]) -> list[dict[str, Any]]:
    """StationStatusInfo of each published station among `station_ids`; unknown or unpublished IDs are left out.

    A StationID is unique only within its operator, so an ID two published operators both use yields two entries
    (in OperatorID order): dropping either would hide real connectors, and the ConnectorIDs tell them apart
    against query_stations_info. Entries follow the order of the request; repeated IDs are answered once.
    """
    wanted = list(dict.fromkeys(station_ids))
    stations = list(
        published_stations()
        .filter(station_id__in=wanted)
        .prefetch_related(
            Prefetch(
                "connectors",
                queryset=Connector.objects.filter(removed_at__isnull=True)
                .select_related("current_status")
                .order_by("equipment__equipment_id", "connector_id"),
            )
        )
    )
    position = {station_id: index for index, station_id in enumerate(wanted)}
    stations.sort(key=lambda s: (position[s.station_id], s.operator_id))
    return [
        {"StationID": s.station_id, "ConnectorStatusInfos": [connector_status_info(c) for c in s.connectors.all()]}
        for s in stations
    ]


def published_stations_by_id(station_id: str, operator_id: str | None = None) -> list[Station]:
    """The published stations with this StationID (more than one when operators share it), optionally narrowed."""
    queryset = published_stations().filter(station_id=station_id)
    if operator_id:
        queryset = queryset.filter(operator_id=operator_id)
    return list(queryset)


def _covering_rows(rows: list[StationStats]) -> list[StationStats]:
    """Stored periods that do not overlap one another, so no day is counted twice.

    The daily pull stores one-day periods; an import may add a longer one over the same days. Taking periods in
    (start, end) order and skipping any that starts on a day already counted keeps the finer rows when both exist.
    """
    chosen: list[StationStats] = []
    covered_until: dt.date | None = None
    for row in sorted(rows, key=lambda r: (r.start_time, r.end_time)):
        if covered_until is None or row.start_time > covered_until:
            chosen.append(row)
            covered_until = row.end_time
    return chosen


def station_stats_info(station: Station, *, start: dt.date, end: dt.date) -> dict[str, Any]:
    """StationStatsInfo (part 2 §2.7) for [start, end], both days inclusive, summed from the stored periods.

    Only stored periods lying wholly inside the range count (a period cannot be split by day). Sums are exact
    Decimals at the stored scale of 0.1 kWh. A connector's energy is left out when a counted period listed the
    connector without it (ConnectorElectricity is optional there; a partial sum would understate it). No stored
    period gives 0.0 and an empty breakdown: the station is published, and the answer must still be the standard
    structure.
    """
    rows = _covering_rows(
        list(
            StationStats.objects.filter(station=station, start_time__gte=start, end_time__lte=end).prefetch_related(
                Prefetch(
                    "equipment_stats",
                    queryset=EquipmentStats.objects.select_related("equipment").prefetch_related(
                        Prefetch("connector_stats", queryset=ConnectorStats.objects.select_related("connector"))
                    ),
                )
            )
        )
    )
    station_total = sum((row.station_electricity for row in rows), Decimal("0.0"))
    equipment: dict[str, Decimal] = {}
    connectors: dict[str, dict[str, Decimal | None]] = {}
    for row in rows:
        for es in row.equipment_stats.all():
            eid = es.equipment.equipment_id
            equipment[eid] = equipment.get(eid, Decimal("0.0")) + es.equipment_electricity
            per_connector = connectors.setdefault(eid, {})
            for cs in es.connector_stats.all():
                cid = cs.connector.connector_id
                known = per_connector.get(cid, Decimal("0.0"))
                value = cs.connector_electricity
                per_connector[cid] = None if known is None or value is None else known + value
    return {
        "StationID": station.station_id,
        "StartTime": start.isoformat(),
        "EndTime": end.isoformat(),
        "StationElectricity": station_total,
        "EquipmentStatsInfos": [
            {
                "EquipmentID": eid,
                "EquipmentElectricity": equipment[eid],
                "ConnectorStatsInfos": [
                    {"ConnectorID": cid} if value is None else {"ConnectorID": cid, "ConnectorElectricity": value}
                    for cid, value in sorted(connectors[eid].items())
                ],
            }
            for eid in sorted(equipment)
        ],
    }


def connector_keys(connector_id: str) -> list[int]:
    """Primary keys of the connectors with this ConnectorID (one per operator that uses it), for filtering the
    status history by key: a literal list lets PostgreSQL use the (connector, time) index of each partition."""
    return list(Connector.objects.filter(connector_id=connector_id).values_list("pk", flat=True)[:1000])
