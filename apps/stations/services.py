"""Writes of the directory: connector statuses (pushed or pulled), applied in the order they held."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.core.conf import conf
from apps.core.exceptions import ValidationFailed
from apps.core.rows import CHUNK, insert_statement, plain_cursor, write_together
from apps.protocol.names import Interface

from .decisions import CurrentStatus, StatusVerdict, may_be_in_history, pending_split, status_verdict
from .models import Connector, ConnectorStatus, ConnectorStatusHistory, PendingConnectorStatus


@dataclass
class StatusOutcome:
    """How a batch of statuses was taken: newest ones applied, older ones kept in history only, repeats ignored."""

    applied: int = 0
    confirmed: int = 0
    history_only: int = 0
    duplicates: int = 0
    pending: int = 0
    overflow: list[str] = field(default_factory=list)  # unknown ConnectorIDs not kept: the pending bound was reached

    @property
    def learnt_anything(self) -> bool:
        return bool(self.applied or self.confirmed or self.history_only or self.pending)


def _fields(info: dict[str, Any]) -> dict[str, Any]:
    return {"status": info["Status"], "park_status": info.get("ParkStatus"), "lock_status": info.get("LockStatus")}


_STATUS_FIELDS = ("status", "park_status", "lock_status")
_UPDATED = (*_STATUS_FIELDS, "status_time", "source", "updated")  # what an upsert takes from the newer status


@lru_cache(maxsize=64)
def _connector_sql(count: int, vendor: str) -> tuple[str, str]:
    """The lock of the connectors, and the read of their current statuses."""
    quote = connection.ops.quote_name
    c, s = quote(Connector._meta.db_table), quote(ConnectorStatus._meta.db_table)
    where = f"c.operator_id = %s AND c.connector_id IN ({', '.join(['%s'] * count)})"
    lock = f"SELECT c.id FROM {c} c WHERE {where} ORDER BY c.id FOR UPDATE"  # noqa: S608
    read = (
        f"SELECT c.id, c.connector_id, s.status, s.park_status, s.lock_status, s.status_time FROM {c} c "  # noqa: S608
        f"LEFT JOIN {s} s ON s.connector_id = c.id WHERE {where}"
    )
    return lock, read


def _locked_connectors(operator_id: str, ids: list[str]) -> dict[str, tuple[int, CurrentStatus | None]]:
    """ConnectorID → (pk, current status) of the operator's connectors among `ids`, the connector rows locked.

    Locked in a fixed order (pk): two messages about one connector apply one after the other, never interleaved;
    every writer of a connector's status takes this lock first. The current statuses are read by a second
    statement: in READ COMMITTED a statement that waited for the lock still reads other tables as they were when
    it began, so four simultaneous first statuses would each have seen no current row and each written history.
    SQLite has no row locks: its writers are serialised from BEGIN (IMMEDIATE), so one read is enough there.
    Statements written once (the ORM compiled them on every push for more than the round trips cost).
    """
    lock, read = _connector_sql(len(ids), connection.vendor)
    found: dict[str, tuple[int, CurrentStatus | None]] = {}
    with connection.cursor() as cursor:
        if connection.features.has_select_for_update:
            cursor.execute(lock, [operator_id, *ids])
        cursor.execute(read, [operator_id, *ids])
        for pk, connector_id, status, park, lock_status, status_time in cursor.fetchall():
            if status_time is not None and (not isinstance(status_time, datetime) or timezone.is_naive(status_time)):
                # SQLite answers a raw query in naive UTC (or text): made aware as its ORM would. The converter is
                # SQLite's own (not on the base operations the stubs type `connection.ops` as): only SQLite gets here.
                ops: Any = connection.ops
                status_time = ops.convert_datetimefield_value(status_time, None, connection)
            found[connector_id] = (
                pk,
                None if status is None else CurrentStatus(status, park, lock_status, status_time),
            )
    return found


# The function migration 0010 made (PostgreSQL): the lock, status_verdict and the writes of one observation.
_PUSH_SQL = "SELECT hlht_status_push(%s, %s, %s, %s, %s, %s, %s)"
_COUNTED = {
    StatusVerdict.APPLY: "applied",
    StatusVerdict.CONFIRM: "confirmed",
    StatusVerdict.HISTORY_ONLY: "history_only",
    StatusVerdict.DUPLICATE: "duplicates",
}


def connector_status_push(
    *, operator_id: str, info: dict[str, Any], status_time: datetime, source: str
) -> StatusOutcome:
    """Record one ConnectorStatusInfo (a push's usual body): `connector_statuses_apply` for one item, in one
    statement on PostgreSQL — the connector locked, its current status read, the verdict taken and history and the
    current row written by the function hlht_status_push, on the driver's cursor (rows.plain_cursor). A connector
    not in the directory yet (pending), and SQLite, take `connector_statuses_apply`."""
    if connection.vendor != "postgresql":
        return connector_statuses_apply(operator_id=operator_id, infos=[info], status_time=status_time, source=source)
    params = (operator_id, info["ConnectorID"], info["Status"], info.get("ParkStatus"), info.get("LockStatus"),
              status_time, source)  # fmt: skip
    with plain_cursor() as cursor:
        cursor.execute(_PUSH_SQL, params)
        (verdict,) = cursor.fetchone()
    if verdict == "unknown":
        return connector_statuses_apply(operator_id=operator_id, infos=[info], status_time=status_time, source=source)
    outcome = StatusOutcome()
    name = _COUNTED[StatusVerdict(verdict)]
    setattr(outcome, name, getattr(outcome, name) + 1)
    return outcome


@transaction.atomic(savepoint=False)  # inside a message's transaction a savepoint would cost two more round trips
def connector_statuses_apply(
    *, operator_id: str, infos: list[dict[str, Any]], status_time: datetime, source: str, refuse_overflow: bool = True
) -> StatusOutcome:
    """Record ConnectorStatusInfo items observed at `status_time` (a push's envelope TimeStamp, a pull's time).

    Idempotent: a repeat changes nothing. A status older than the current one goes to history but never
    replaces it (same time: the later arrival wins). Unknown connectors are kept pending until the directory
    lists them, up to HLHT_MAX_PENDING_STATUSES per operator, so IDs nobody lists cannot fill the database: beyond
    it a push is refused (ValidationFailed, nothing written); a pull (`refuse_overflow=False`) keeps what it knows
    and reports the rest in `outcome.overflow`.

    Set-based, whatever the batch size: the connectors locked, their current statuses read, then the new history
    rows inserted and the current rows upserted (ON CONFLICT) in one round trip on PostgreSQL.
    """
    outcome = StatusOutcome()
    ids = sorted({info["ConnectorID"] for info in infos})
    connectors = _locked_connectors(operator_id, ids)
    unknown = [connector_id for connector_id in ids if connector_id not in connectors]
    if unknown:
        outcome.overflow = _pending_overflow(operator_id, unknown, refuse=refuse_overflow)
        if outcome.overflow:
            dropped = set(outcome.overflow)
            infos = [info for info in infos if info["ConnectorID"] not in dropped]
    now = timezone.now()
    history: dict[tuple[Any, ...], dict[str, Any]] = {}
    currents: dict[int, dict[str, Any]] = {}
    for info in infos:
        fields = _fields(info)
        found = connectors.get(info["ConnectorID"])
        if found is None:
            _, created = PendingConnectorStatus.objects.get_or_create(
                operator_id=operator_id,
                connector_id=info["ConnectorID"],
                status_time=status_time,
                status=fields["status"],
                defaults={**fields, "source": source},
            )
            outcome.pending += created
            outcome.duplicates += not created
            continue
        pk, current = found
        values = (fields["status"], fields["park_status"], fields["lock_status"])
        verdict = status_verdict(current, values, status_time)
        if verdict is StatusVerdict.CONFIRM:  # the current row learns the time; no history row
            assert current is not None  # only a current status can be confirmed
            current.status_time = status_time
            currents[pk] = {"connector_id": pk, **fields, "status_time": status_time, "source": source}
            outcome.confirmed += 1
            continue
        if verdict is StatusVerdict.DUPLICATE:
            outcome.duplicates += 1
            continue
        key = (pk, status_time, *values)
        if key in history or (
            may_be_in_history(current, status_time)
            and ConnectorStatusHistory.objects.filter(connector_id=pk, status_time=status_time, **fields).exists()
        ):
            outcome.duplicates += 1
            continue
        history[key] = {"connector_id": pk, **fields, "status_time": status_time, "source": source,
                        "created": now, "updated": now}  # fmt: skip
        if verdict is StatusVerdict.APPLY:
            connectors[info["ConnectorID"]] = (pk, CurrentStatus(*values, status_time))
            currents[pk] = {"connector_id": pk, **fields, "status_time": status_time, "source": source}
            outcome.applied += 1
        else:
            outcome.history_only += 1
    rows = list(history.values())
    upserts = [{**row, "created": now, "updated": now} for row in currents.values()]
    for start in range(0, max(len(rows), len(upserts)), CHUNK):
        # History and current rows of one batch in one round trip (on PostgreSQL): the usual push is one of each.
        statements = []
        if chunk := rows[start : start + CHUNK]:
            statements.append(insert_statement(ConnectorStatusHistory, chunk))
        if chunk := upserts[start : start + CHUNK]:
            statements.append(insert_statement(ConnectorStatus, chunk, conflict=["connector"], update=_UPDATED))
        write_together(statements)
    return outcome


def _pending_overflow(operator_id: str, unknown: list[str], *, refuse: bool) -> list[str]:
    """The unknown connectors beyond the pending bound (not kept); ValidationFailed instead when `refuse`."""
    limit = conf().protocol.max_pending_statuses
    held = PendingConnectorStatus.objects.filter(operator_id=operator_id).count()
    _, overflow = pending_split(unknown, limit=limit, held=held)
    if refuse and overflow:
        raise ValidationFailed(
            f"有{len(unknown)}个充电设备接口不在平台已获取的充电站信息中，该运营商待关联的接口状态已有{held}条，"
            f"再保存将超过上限{limit}条；请先确认这些接口已通过 {Interface.QUERY_STATIONS_INFO} 上报",
            field="ConnectorID",
        )
    return overflow


def pending_statuses_purge(*, older_than: datetime) -> int:
    """Forget statuses of connectors no directory listed in time: what no crawl ever linked is noise, and the room
    it takes under HLHT_MAX_PENDING_STATUSES belongs to connectors that will appear."""
    deleted, _ = PendingConnectorStatus.objects.filter(created__lt=older_than).delete()
    return deleted


@transaction.atomic
def pending_statuses_link(*, operator_id: str) -> int:
    """Apply statuses that arrived before their connector was in the directory, oldest first; return how many."""
    pending = list(
        PendingConnectorStatus.objects.select_for_update()
        .filter(
            operator_id=operator_id,
            connector_id__in=Connector.objects.filter(operator_id=operator_id).values("connector_id"),
        )
        .order_by("status_time", "id")
    )
    for row in pending:
        info = {
            "ConnectorID": row.connector_id,
            "Status": row.status,
            "ParkStatus": row.park_status,
            "LockStatus": row.lock_status,
        }
        connector_statuses_apply(operator_id=operator_id, infos=[info], status_time=row.status_time, source=row.source)
    PendingConnectorStatus.objects.filter(pk__in=[row.pk for row in pending]).delete()
    return len(pending)
