"""Writes of the directory from StationInfo pages: exact, bulk, one transaction per page, every change recorded."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.core.exceptions import ValidationFailed
from apps.core.rows import column_of, concrete_field, insert_many
from apps.protocol.names import wire_name

from .models import Connector, ConnectorStats, Equipment, EquipmentStats, Station, StationStats

STATION_FIELDS = [
    "equipment_owner_id",
    "station_name",
    "country_code",
    "area_code",
    "address",
    "station_tel",
    "service_tel",
    "station_type",
    "station_status",
    "park_nums",
    "station_lng",
    "station_lat",
    "site_guide",
    "construction",
    "pictures",
    "match_cars",
    "park_info",
    "busine_hours",
    "electricity_fee",
    "service_fee",
    "park_fee",
    "payment",
    "support_order",
    "remark",
]
EQUIPMENT_FIELDS = [
    "manufacturer_id",
    "manufacturer_name",
    "equipment_model",
    "production_date",
    "equipment_type",
    "equipment_lng",
    "equipment_lat",
    "power",
    "equipment_name",
]
CONNECTOR_FIELDS = [
    "connector_name",
    "connector_type",
    "voltage_upper_limits",
    "voltage_lower_limits",
    "current",
    "power",
    "park_no",
    "national_standard",
]


@functools.cache
def _field(model: type[models.Model], name: str) -> tuple[Any, int | None, bool]:
    """(value for absent, decimal places or None, is a date): looked up once, used for every record."""
    f = concrete_field(model, name)
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


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal | dt.date) else value


@dataclass
class PageOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # (kind, object id, station id, action, {field: [old, new]})
    changes: list[tuple[str, str, str, str, dict[str, list[Any]]]] = field(default_factory=list)


@dataclass(frozen=True)
class _Kind:
    """One level of the directory as the page writer sees it: its model, key, the wire fields it stores and the
    parents' keys it carries; `names` is the order of a row's values, stored and compared alike."""

    label: str
    model: type[Station | Equipment | Connector]
    key: str
    fields: tuple[str, ...]
    parents: tuple[str, ...] = ()

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        return (*self.fields, *self.parents, "removed_at")

    @functools.cached_property
    def converters(self) -> tuple[tuple[str, Any, bool, Decimal | None, bool], ...]:
        """Per field: (wire name, value for absent, is it mutable, decimal quantum or None, is a date), looked up
        once: `values` runs for every record of a crawl (210,000 connectors) and `_value`'s lookups were most of it."""
        out = []
        for name in self.fields:
            default, places, is_date = _field(self.model, name)
            quantum = _quantum(places) if places is not None else None
            out.append((wire_name(name), default, isinstance(default, list | dict), quantum, is_date))
        return tuple(out)

    def values(self, info: dict[str, Any], parents: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        """The record's values in `names` order, as the model stores them (removed_at None: it is listed); the same
        conversion as `_value`."""
        out: list[Any] = []
        for wire, default, mutable, quantum, is_date in self.converters:
            raw = info.get(wire)
            if raw is None or raw == "":
                out.append(copy.copy(default) if mutable else default)  # never share a mutable
            elif quantum is not None:
                out.append(Decimal(raw).quantize(quantum))
            elif is_date:
                out.append(dt.date.fromisoformat(raw))
            else:
                out.append(raw)
        return (*out, *parents, None)

    def existing(
        self, operator_id: str, keys: list[str], station_pks: Sequence[int] = ()
    ) -> dict[str, tuple[Any, ...]]:
        """key → (pk, *values in `names` order) of the operator's rows with these keys, and of the rows at these
        stations, read as tuples (no model objects). Two plain queries rather than one with OR: each has its index
        (the (operator, key) constraint; the station's), where the OR of both was planned as a scan of the table."""
        names = ("pk", self.key, *self.names)
        query = self.model.objects.filter(operator_id=operator_id, **{f"{self.key}__in": _listed(keys)}).order_by()
        rows = {row[1]: (row[0], *row[2:]) for row in query.values_list(*names)}
        if station_pks:
            for row in self.model.objects.filter(station_id__in=station_pks).order_by().values_list(*names):
                rows.setdefault(row[1], (row[0], *row[2:]))
        return rows

    @functools.cached_property
    def columns(self) -> tuple[str, ...]:
        """The columns a written row carries in its JSON document, parents left out (they travel as keys)."""
        return tuple(column_of(self.model, name) for name in ("operator_id", self.key, *self.fields))

    def row(self, operator_id: str, key: str, values: tuple[Any, ...], keys: tuple[str, ...]) -> dict:
        """A row to write: its own columns, and its parents by business key (`keys`), resolved by the write. Its
        removed_at (NULL: it is listed) and times are the statement's, not the row's: two datetimes a row in the JSON
        document cost more to encode (6.5 ms a page of connectors) than all the rest of it."""
        own = (operator_id, key, *values[: len(self.fields)])
        return dict(zip(self.columns, own, strict=True)) | dict(zip(PARENT_KEYS[: len(keys)], keys, strict=True))


# A child row names its parents by business key (StationID, EquipmentID): the write resolves them in SQL, so the
# page can be diffed before the page ahead of it (which may create those parents) is committed.
PARENT_KEYS = ("station_key", "equipment_key")


@functools.cache
def _upsert_sql(kind: _Kind) -> str:
    """INSERT … SELECT FROM jsonb_to_recordset(…) JOIN the parents on business key … ON CONFLICT DO UPDATE …
    RETURNING (id, key, parents' ids): one statement for a level of a page. Parameters: per parent the operator and
    the page's keys, then the rows' document. The parents are first looked up by key through a subquery over one
    array (one probe of the (operator, key) unique index per key whatever the statistics say, see `_listed`): a
    plain JOIN of the document with the tables was planned from a new operator's empty statistics as a scan of
    every row written so far, for each row (16 s a page of connectors by mid-crawl)."""
    quote = connection.ops.quote_name
    model = kind.model
    own = [quote(c) for c in kind.columns]
    types = [f"{quote(column_of(model, c))} {concrete_field(model, c).db_type(connection)}" for c in kind.columns]
    parents = [quote(column_of(model, name)) for name in kind.parents]
    select, ctes, joins = [*(f"r.{c}" for c in own), "NULL", "%s", "%s"], [], []
    own += [quote(column_of(model, name)) for name in ("removed_at", "created", "updated")]
    for alias, parent, key in zip(("s", "e"), (STATIONS, EQUIPMENT), PARENT_KEYS[: len(parents)], strict=False):
        column = quote(column_of(parent.model, parent.key))
        types.append(f"{key} text")
        select.append(f"{alias}.id")
        ctes.append(
            f"{alias} AS MATERIALIZED (SELECT id, {column} AS k FROM {quote(parent.model._meta.db_table)} "  # noqa: S608
            f"WHERE operator_id = %s AND {column} IN (SELECT unnest(%s::text[])))"
        )
        joins.append(f" JOIN {alias} ON {alias}.k = r.{key}")
    updates = [quote(column_of(model, n)) for n in (*kind.names, "updated")]
    returning = ", ".join(quote(column_of(model, n)) for n in ("id", kind.key, *kind.parents))
    head = f"WITH {', '.join(ctes)} " if ctes else ""
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in updates)
    return (
        f"{head}INSERT INTO {quote(model._meta.db_table)} ({', '.join(own + parents)}) "  # noqa: S608 - model names
        f"SELECT {', '.join(select)} FROM jsonb_to_recordset(%s::jsonb) AS r({', '.join(types)}){''.join(joins)} "
        f"ON CONFLICT ({quote('operator_id')}, {quote(column_of(model, kind.key))}) DO UPDATE SET {sets} "
        f"RETURNING {returning}"
    )


def _upsert_params(kind: _Kind, operator_id: str, rows: list[dict[str, Any]], now: dt.datetime) -> list[Any]:
    """The parameters of `_upsert_sql` (built by the plan, off the writer's thread)."""
    params: list[Any] = []
    for key in PARENT_KEYS[: len(kind.parents)]:
        params += [operator_id, list({row[key]: None for row in rows})]
    document = json.dumps(rows, default=_jsonable, ensure_ascii=False, separators=(",", ":"))
    return [*params, now, now, document]


def _upsert(kind: _Kind, operator_id: str, rows: list[dict[str, Any]], params: list[Any] | None) -> list[tuple]:
    """Write a level's rows; returns (pk, key, parents' pks) of each. On PostgreSQL the statement above with the
    parameters the plan built; elsewhere (SQLite) the parents' keys are looked up first and the rows inserted."""
    if not rows:
        return []
    if params is not None:
        with connection.cursor() as cursor:
            cursor.execute(_upsert_sql(kind), params)
            written = [tuple(r) for r in cursor.fetchall()]
    else:
        pks = {}
        for parent, key in zip((STATIONS, EQUIPMENT), PARENT_KEYS[: len(kind.parents)], strict=False):
            wanted = {row[key] for row in rows}
            pks[key] = dict(
                parent.model.objects.filter(operator_id=operator_id, **{f"{parent.key}__in": wanted}).values_list(
                    parent.key, "pk"
                )
            )
        names = [concrete_field(kind.model, c).attname for c in kind.columns]
        now = timezone.now()
        dicts = [
            dict(zip(names, (row[c] for c in kind.columns), strict=True))
            | {"removed_at": None, "created": now, "updated": now}
            | {parent: pks[key][row[key]] for parent, key in zip(kind.parents, PARENT_KEYS, strict=False)}
            for row in rows
        ]
        written = insert_many(
            kind.model,
            dicts,
            conflict=("operator", kind.key),
            update=(*kind.names, "updated"),
            returning=("id", kind.key, *kind.parents),
        )
    if len(written) != len(rows):  # a parent the page's own earlier statement should have written is missing
        raise RuntimeError(f"{kind.label}: {len(rows)} rows to write, {len(written)} written")
    return written


STATIONS = _Kind("station", Station, "station_id", tuple(STATION_FIELDS))
EQUIPMENT = _Kind("equipment", Equipment, "equipment_id", tuple(EQUIPMENT_FIELDS), ("station_id",))
CONNECTORS = _Kind("connector", Connector, "connector_id", tuple(CONNECTOR_FIELDS), ("station_id", "equipment_id"))


def _listed(keys: list[str]) -> Any:
    """The right side of `key__in` for a page's keys. On PostgreSQL a subquery over one array: it is planned as one
    probe of the (operator, key) unique index per key whatever the statistics say. With a plain IN list the planner
    trusted statistics taken before a new operator's first crawl (the operator "has no rows") and scanned every row
    the crawl had written so far for every page: 45 ms a page by the end of a 20,000-station crawl, and growing."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::text[])", (list(keys),))
    return keys


def _diff(kind: _Kind, old: tuple[Any, ...], new: tuple[Any, ...]) -> dict[str, list[Any]]:
    """{field: [old, new]} of what differs; `old` is (pk, *values) as `existing` reads it."""
    return {
        name: [_jsonable(was), _jsonable(now)]
        for name, was, now in zip(kind.names, old[1:], new, strict=True)
        if was != now
    }


@dataclass(frozen=True, slots=True)
class _NewParent:
    """A parent's pk not known when the page is diffed (the page creates it): in a change row's diff until the
    write resolves it from what its upsert returned."""

    label: str
    key: str


@dataclass
class PagePlan:
    """A page read and diffed, ready to write: per level the rows to upsert (parents by business key) and the
    children that have gone, as read (pk, key, station pk, StationID): the write marks them only if still there."""

    operator_id: str
    rows: list[tuple[_Kind, list[dict[str, Any]], list[Any] | None]]  # parameters of its upsert on PostgreSQL
    gone: list[tuple[_Kind, list[tuple[int, str, int, str]]]]
    changes: list[tuple[str, str, str, str, dict[str, list[Any]]]]
    touched: dict[str, bool]
    new_ids: set[str]
    keys: frozenset[str]  # every StationID, EquipmentID and ConnectorID the page lists


def page_keys(infos: list[dict[str, Any]]) -> frozenset[str]:
    """The IDs a page of valid StationInfos lists, prefixed by level (IDs of different levels may coincide)."""
    keys = set()
    for info in infos:
        keys.add(f"s:{info['StationID']}")
        for e in info["EquipmentInfos"]:
            keys.add(f"e:{e['EquipmentID']}")
            keys.update(f"c:{c['ConnectorID']}" for c in e["ConnectorInfos"])
    return frozenset(keys)


def station_infos_plan(*, operator_id: str, infos: list[dict[str, Any]]) -> PagePlan:
    """Read and diff one page of valid StationInfo records (with their equipment and connectors): writes nothing.

    Set-based: each level is read in one query as tuples and diffed in one pass; what is new or changed becomes a
    row to write, what is unchanged is not written at all. Equipment or a connector that moved to another station
    follows it. A station marked removed comes back when listed again. What the page leaves out of a station it
    lists has gone. The rows name their parents by business key, so the plan of a page does not need the pks the
    write of the page before it returns: only a page that lists one of its IDs must be committed first.
    """
    ids = [info["StationID"] for info in infos]
    stations = STATIONS.existing(operator_id, ids)
    known_pks = [row[0] for row in stations.values()]
    # Children are read by their own IDs (a pile may have moved here) and by their station (what the page no
    # longer lists at a station it lists has gone): new stations have no children yet, so only known ones count.
    eq_ids = [e["EquipmentID"] for info in infos for e in info["EquipmentInfos"]]
    conn_ids = [c["ConnectorID"] for info in infos for e in info["EquipmentInfos"] for c in e["ConnectorInfos"]]
    equipment = EQUIPMENT.existing(operator_id, eq_ids, known_pks)
    connectors = CONNECTORS.existing(operator_id, conn_ids, known_pks)
    plan = PagePlan(operator_id, [], [], [], {}, set(), page_keys(infos))
    changes, touched, new_ids = plan.changes, plan.touched, plan.new_ids
    now = timezone.now()

    def sync(kind: _Kind, existing: dict, key: str, values: tuple, station_id: str, rows: list, keys: tuple) -> None:
        old = existing.get(key)
        if old is None:
            rows.append(kind.row(operator_id, key, values, keys))
            # A new station's "created" change stands for its equipment and connectors too: a first crawl of a
            # city would otherwise write a change row per connector (200,000) that says nothing the station's does not.
            if station_id not in new_ids:
                changes.append((kind.label, key, station_id, "created", {}))
            touched[station_id] = True
            return
        diff = _diff(kind, old, values)
        if diff:
            rows.append(kind.row(operator_id, key, values, keys))
            changes.append((kind.label, key, station_id, "updated", diff))
            touched[station_id] = True

    def pk(existing: dict, label: str, key: str) -> int | _NewParent:
        row = existing.get(key)
        return row[0] if row is not None else _NewParent(label, key)

    station_rows: list[dict[str, Any]] = []
    for info in infos:
        sid = info["StationID"]
        touched[sid] = False
        sync(STATIONS, stations, sid, STATIONS.values(info), sid, station_rows, ())
        if sid not in stations:
            new_ids.add(sid)  # after its own "created": its piles and connectors are part of that change
    equipment_rows: list[dict[str, Any]] = []
    connector_rows: list[dict[str, Any]] = []
    for info in infos:
        sid = info["StationID"]
        station_pk = pk(stations, "station", sid)
        for e in info["EquipmentInfos"]:
            eid = e["EquipmentID"]
            sync(EQUIPMENT, equipment, eid, EQUIPMENT.values(e, (station_pk,)), sid, equipment_rows, (sid,))
            parents = (station_pk, pk(equipment, "equipment", eid))
            for c in e["ConnectorInfos"]:
                values = CONNECTORS.values(c, parents)
                sync(CONNECTORS, connectors, c["ConnectorID"], values, sid, connector_rows, (sid, eid))
    postgresql = connection.vendor == "postgresql"
    for kind, rows in ((STATIONS, station_rows), (EQUIPMENT, equipment_rows), (CONNECTORS, connector_rows)):
        plan.rows.append((kind, rows, _upsert_params(kind, operator_id, rows, now) if postgresql and rows else None))

    # A StationInfo lists all of the station's equipment, so what it leaves out has gone (orders, history and
    # stats still refer to it, hence removed_at rather than a delete).
    station_of = {row[0]: sid for sid, row in stations.items()}
    for kind, existing, listed in ((EQUIPMENT, equipment, set(eq_ids)), (CONNECTORS, connectors, set(conn_ids))):
        at = kind.names.index("station_id") + 1  # position in (pk, *values)
        gone = [
            (row[0], key, row[at], station_of[row[at]])
            for key, row in existing.items()
            if key not in listed and row[-1] is None and row[at] in station_of
        ]
        plan.gone.append((kind, gone))
    return plan


def _mark_gone(kind: _Kind, gone: list[tuple[int, str, int, str]], now: dt.datetime) -> set[int]:
    """Mark removed the children read as gone that are still where they were read and not removed yet; returns
    their pks. A child a page written meanwhile moved elsewhere (its ID on that page, not on this one) is kept."""
    if not gone:
        return set()
    at = {pk: station_pk for pk, _, station_pk, _ in gone}
    query = kind.model.objects.filter(pk__in=list(at), removed_at__isnull=True).order_by()
    if connection.features.has_select_for_update:
        query = query.select_for_update()
    still = [pk for pk, station_pk in query.values_list("pk", "station_id") if at[pk] == station_pk]
    if still:
        kind.model.objects.filter(pk__in=still).update(removed_at=now, updated=now)
    return set(still)


def station_infos_write(plan: PagePlan) -> PageOutcome:
    """Write a planned page (in the caller's transaction, on the caller's connection): one upsert per level,
    then the gone marked; the outcome (counts and change rows) is what was actually written."""
    outcome = PageOutcome()
    written: dict[str, dict[str, int]] = {}
    for kind, rows, params in plan.rows:
        written[kind.label] = {row[1]: row[0] for row in _upsert(kind, plan.operator_id, rows, params)}
    changes, touched = list(plan.changes), dict(plan.touched)
    for _, _, _, _, diff in changes:
        for pair in diff.values():
            if isinstance(pair[1], _NewParent):
                pair[1] = written[pair[1].label][pair[1].key]
    now = timezone.now()
    for kind, gone in plan.gone:
        marked = _mark_gone(kind, gone, now)
        for pk, oid, _, sid in gone:
            if pk in marked:
                changes.append((kind.label, oid, sid, "removed", {}))
                touched[sid] = True
    outcome.changes = changes
    for sid, changed in touched.items():
        if sid in plan.new_ids:
            outcome.created += 1
        elif changed:
            outcome.updated += 1
        else:
            outcome.unchanged += 1
    return outcome


@transaction.atomic
def station_infos_upsert(*, operator_id: str, infos: list[dict[str, Any]]) -> PageOutcome:
    """Read, diff and write one page of valid StationInfo records in one transaction (see station_infos_plan)."""
    return station_infos_write(station_infos_plan(operator_id=operator_id, infos=infos))


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

    A fixed number of statements whatever the station's size: its keys read as tuples, the breakdown deleted and
    written with one INSERT per level (one per pile and connector before: 36 ms a station, 10 minutes for 20,000).
    Raises ValidationFailed when the record names a station, equipment or connector the directory lacks.
    """
    station = Station.objects.filter(operator_id=operator_id, station_id=info["StationID"])
    station_pk = station.values_list("pk", flat=True).first()
    if station_pk is None:
        raise ValidationFailed(f"充电站 {info['StationID']} 不在目录中", field="StationID")
    eq_ids = [e["EquipmentID"] for e in info["EquipmentStatsInfos"]]
    equipment = dict(
        Equipment.objects.filter(operator_id=operator_id, equipment_id__in=eq_ids).values_list("equipment_id", "pk")
    )
    conn_ids = [c["ConnectorID"] for e in info["EquipmentStatsInfos"] for c in e["ConnectorStatsInfos"]]
    connectors = dict(
        Connector.objects.filter(operator_id=operator_id, connector_id__in=conn_ids).values_list("connector_id", "pk")
    )
    missing = sorted(set(eq_ids) - set(equipment)) + sorted(set(conn_ids) - set(connectors))
    if missing:
        raise ValidationFailed(f"目录中没有这些设备或接口：{'、'.join(missing[:10])}", field="EquipmentStatsInfos")
    stats, created = StationStats.objects.update_or_create(
        station_id=station_pk,
        start_time=dt.date.fromisoformat(info["StartTime"]),
        end_time=dt.date.fromisoformat(info["EndTime"]),
        defaults={"station_electricity": _value(StationStats, "station_electricity", info["StationElectricity"])},
    )
    if not created:  # a repeated answer replaces the breakdown as a whole
        ConnectorStats.objects.filter(equipment_stats__station_stats=stats).delete()
        EquipmentStats.objects.filter(station_stats=stats).delete()
    now = timezone.now()
    piles = insert_many(
        EquipmentStats,
        [
            {
                "station_stats_id": stats.pk,
                "equipment_id": equipment[e["EquipmentID"]],
                "created": now,
                "updated": now,
                "equipment_electricity": _value(EquipmentStats, "equipment_electricity", e["EquipmentElectricity"]),
            }
            for e in info["EquipmentStatsInfos"]
        ],
        returning=("id", "equipment"),
    )
    pile_of = {equipment_pk: pk for pk, equipment_pk in piles}
    insert_many(
        ConnectorStats,
        [
            {
                "equipment_stats_id": pile_of[equipment[e["EquipmentID"]]],
                "connector_id": connectors[c["ConnectorID"]],
                "created": now,
                "updated": now,
                "connector_electricity": _value(ConnectorStats, "connector_electricity", c.get("ConnectorElectricity")),
            }
            for e in info["EquipmentStatsInfos"]
            for c in e["ConnectorStatsInfos"]
        ],
    )
    return created
