"""Beat's schedule, each entry naming its task by import (`task.name`), never by a dotted string that a rename would
silently orphan. Installed on the Celery app by `PortalConfig.ready()`, once every app's models are loaded."""

from __future__ import annotations

from celery.schedules import crontab

from apps.charging.tasks import sessions_sweep_task
from apps.indicators.tasks import indicators_compute_task
from apps.interconnect.tasks import (
    journal_partitions_task,
    journal_purge_task,
    protocol_housekeeping_task,
    pulls_dispatch_task,
)
from apps.ops.tasks import beat_heartbeat_task
from apps.settlement.tasks import statements_generate_task
from apps.stations.tasks import pending_statuses_purge_task, status_history_partitions_task

SCHEDULE: dict[str, dict] = {
    # Beat's heartbeat, a row /healthz reads: a tick proves beat, the broker and a `celery` worker all ran it.
    "beat-heartbeat": {"task": beat_heartbeat_task.name, "schedule": 60.0},
    "protocol-housekeeping": {"task": protocol_housekeeping_task.name, "schedule": 600.0},
    "journal-purge": {"task": journal_purge_task.name, "schedule": 86400.0},
    # Monthly partitions (PostgreSQL) made months ahead, so no row ever waits for one; daily is plenty.
    "journal-partitions": {"task": journal_partitions_task.name, "schedule": 86400.0},
    "status-history-partitions": {"task": status_history_partitions_task.name, "schedule": 86400.0},
    "pending-statuses-purge": {"task": pending_statuses_purge_task.name, "schedule": 3600.0},
    # Each minute, one task per active operator and pull that is due by that operator's own intervals.
    "pulls-dispatch": {"task": pulls_dispatch_task.name, "schedule": 60.0},
    # The backstop of the session timers and the outbox: what a lost worker left behind is found within a minute.
    "sessions-sweep": {"task": sessions_sweep_task.name, "schedule": 60.0},
    # After midnight: yesterday's indicators and the days before it (late orders, reconciliation), rolled up, and the
    # reward scorecards of the current and previous quarter.
    "indicators-compute": {"task": indicators_compute_task.name, "schedule": crontab(hour=0, minute=20)},
    # Each night after the 00:00–03:00 reconciliations: statements of the periods that ended, drafts refreshed.
    "statements-generate": {"task": statements_generate_task.name, "schedule": crontab(hour=4, minute=0)},
}
