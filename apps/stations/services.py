"""Writes of the directory: connector statuses (pushed or pulled), applied in the order they held."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.core.exceptions import ValidationFailed
from apps.protocol.names import Interface

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


@transaction.atomic
def connector_statuses_apply(
    *, operator_id: str, infos: list[dict[str, Any]], status_time: datetime, source: str, refuse_overflow: bool = True
) -> StatusOutcome:
    """Record ConnectorStatusInfo items observed at `status_time` (a push's envelope TimeStamp, a pull's time).

    Idempotent: a repeat changes nothing. A status older than the current one goes to history but never
    replaces it (same time: the later arrival wins). Unknown connectors are kept pending until the directory
    lists them, up to HLHT_MAX_PENDING_STATUSES per operator, so IDs nobody lists cannot fill the database: beyond
    it a push is refused (ValidationFailed, nothing written); a pull (`refuse_overflow=False`) keeps what it knows
    and reports the rest in `outcome.overflow`.
    """
    outcome = StatusOutcome()
    ids = {info["ConnectorID"] for info in infos}
    # Locked in a fixed order: two messages about one connector apply one after the other, never interleaved (two
    # first statuses at once would otherwise both create the same history row).
    connectors = {
        c.connector_id: c
        for c in Connector.objects.select_for_update()
        .filter(operator_id=operator_id, connector_id__in=ids)
        .order_by("pk")
    }
    unknown = sorted(ids - connectors.keys())
    if unknown:
        room = _pending_room(operator_id, len(unknown), refuse=refuse_overflow)
        if room < len(unknown):
            outcome.overflow = unknown[room:]
            dropped = set(outcome.overflow)
            infos = [info for info in infos if info["ConnectorID"] not in dropped]
    currents = {
        s.connector_id: s for s in ConnectorStatus.objects.select_for_update().filter(connector__in=connectors.values())
    }
    for info in infos:
        fields = _fields(info)
        connector = connectors.get(info["ConnectorID"])
        if connector is None:
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
        current = currents.get(connector.pk)
        if current is not None and all(getattr(current, k) == v for k, v in fields.items()):
            # Same status seen again: history records changes, not every observation (a status sweep every
            # five minutes would otherwise write a row per connector each time); the current row learns the time.
            if status_time > current.status_time:
                current.status_time, current.source = status_time, source
                current.save(update_fields=["status_time", "source", "updated"])
                outcome.confirmed += 1
                continue
            if status_time == current.status_time:
                outcome.duplicates += 1
                continue
        # filter().exists(), not get_or_create(): rows duplicated before the connector lock must not make this fail.
        if ConnectorStatusHistory.objects.filter(connector=connector, status_time=status_time, **fields).exists():
            outcome.duplicates += 1
            continue
        ConnectorStatusHistory.objects.create(connector=connector, status_time=status_time, source=source, **fields)
        if current is None:
            try:
                with transaction.atomic():
                    currents[connector.pk] = ConnectorStatus.objects.create(
                        connector=connector, status_time=status_time, source=source, **fields
                    )
            except IntegrityError:  # a concurrent message created it first: compare with that one
                current = ConnectorStatus.objects.select_for_update().get(connector=connector)
            else:
                outcome.applied += 1
                continue
        if status_time >= current.status_time:
            for name, value in {**fields, "status_time": status_time, "source": source}.items():
                setattr(current, name, value)
            current.save()
            outcome.applied += 1
        else:
            outcome.history_only += 1
    return outcome


def _pending_room(operator_id: str, unknown: int, *, refuse: bool) -> int:
    """How many of `unknown` new connectors may be kept pending; ValidationFailed instead when `refuse` and short."""
    limit = settings.HLHT_MAX_PENDING_STATUSES
    held = PendingConnectorStatus.objects.filter(operator_id=operator_id).count()
    room = max(0, limit - held)
    if refuse and unknown > room:
        raise ValidationFailed(
            f"有{unknown}个充电设备接口不在平台已获取的充电站信息中，该运营商待关联的接口状态已有{held}条，"
            f"再保存将超过上限{limit}条；请先确认这些接口已通过 {Interface.QUERY_STATIONS_INFO} 上报",
            field="ConnectorID",
        )
    return room


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
