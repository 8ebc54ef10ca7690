"""Pulls from operator platforms (part 2): the crawl of query_stations_info, status sweeps; each leaves a SyncRun."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.core.exceptions import ValidationFailed
from apps.operators.models import Operator
from apps.stations.choices import StatusSource
from apps.stations.directory import station_infos_upsert, station_stats_store, stations_mark_removed
from apps.stations.models import Station
from apps.stations.services import connector_statuses_apply, pending_statuses_link

from .choices import ChangeAction, RunStatus
from .client import last_exchange, operator_client
from .models import DirectoryChange, Exchange, RejectedRecord, SyncRun
from .protocol import ClientError, TransientError, format_datetime, schema
from .quality import page_conflicts, station_problems

logger = logging.getLogger(__name__)
PAGE_SIZE = 100
MAX_PAGES = 10_000  # a platform that keeps answering PageCount ever higher must not keep a worker forever
# The next increment asks from a little before the last complete crawl began, for clocks that disagree.
WATERMARK_MARGIN = timedelta(minutes=5)


def stations_info_watermark(operator_id: str) -> str:
    """LastQueryTime for the next incremental crawl: it moves only when a crawl completed."""
    last = (
        SyncRun.objects.filter(operator_id=operator_id, interface="query_stations_info", status=RunStatus.SUCCEEDED)
        .order_by("-started")
        .values_list("started", flat=True)
        .first()
    )
    return format_datetime(last - WATERMARK_MARGIN) if last else ""


def _reject(run: SyncRun, interface: str, key: str, record, problems, exchange=None) -> RejectedRecord:
    return RejectedRecord(
        operator_id=run.operator_id,
        run=run,
        exchange=exchange,
        interface=interface,
        record_key=str(key)[:64],
        rules=sorted({p.rule for p in problems}),
        reasons=[p.message for p in problems][:50],
        payload=schema_safe(record),
    )


def schema_safe(value):
    """JSON-storable copy of a record as received (Decimals as text, so no digit is lost)."""
    if isinstance(value, dict):
        return {str(k): schema_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [schema_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


Heartbeat = Callable[[], None]  # called after every page, so a long pull can renew its lease


def _finish(run: SyncRun, *, error: str = "", retryable: bool = False) -> SyncRun:
    run.status = RunStatus.FAILED if error else RunStatus.SUCCEEDED
    run.error = error
    run.retryable = retryable
    run.finished = timezone.now()
    run.save()
    return run


@contextmanager
def _recording(run: SyncRun) -> Iterator[None]:
    """Finish the run whatever happens: a pull never leaves a run RUNNING, and never raises to its caller."""
    try:
        yield
    except ClientError as exc:
        _finish(run, error=f"{type(exc).__name__}: {exc}", retryable=isinstance(exc, TransientError))
    except Exception as exc:
        logger.exception("%s from %s failed", run.interface, run.operator_id)
        _finish(run, error=f"{type(exc).__name__}: {exc}")
    except BaseException as exc:  # Ctrl-C, a worker shutting down: the run ends here too, then the signal goes on
        _finish(run, error=f"{type(exc).__name__}: 拉取被中断")
        raise
    else:
        _finish(run)


def _beat(heartbeat: Heartbeat | None) -> None:
    if heartbeat is not None:
        heartbeat()


def stations_info_pull(*, operator: Operator, full: bool = False, heartbeat: Heartbeat | None = None) -> SyncRun:
    """Crawl the operator's stations page by page; each page is written in its own transaction, so a crawl that
    dies halfway keeps what it wrote and the next crawl (whose LastQueryTime has not moved) completes it."""
    last_query_time = "" if full else stations_info_watermark(operator.pk)
    run = SyncRun.objects.create(
        operator=operator, interface="query_stations_info", full=full, last_query_time=last_query_time
    )
    listed: set[str] = set()
    with _recording(run), operator_client(operator) as client:
        page, page_count, item_size = 1, 1, None
        while page <= page_count:
            if page > MAX_PAGES:
                raise _incomplete(f"PageCount {page_count} 超过上限 {MAX_PAGES} 页")
            request = {"PageNo": page, "PageSize": PAGE_SIZE}
            if last_query_time:
                request["LastQueryTime"] = last_query_time
            data = client.call("query_stations_info", request)
            infos, page_count, item_size = data.get("StationInfos"), data.get("PageCount"), data.get("ItemSize")
            if not isinstance(infos, list) or not isinstance(page_count, int) or isinstance(page_count, bool):
                raise _incomplete("应答缺少 StationInfos 列表或整数 PageCount")
            _store_page(run, infos, listed, exchange=last_exchange(client))
            run.pages = page
            run.save(update_fields=["pages", "created_count", "updated_count", "unchanged_count", "rejected_count"])
            _beat(heartbeat)
            if not infos and page < page_count:
                raise _incomplete(f"第 {page} 页为空，但 PageCount 为 {page_count}")
            page += 1
        if full:
            # Only a crawl known to be complete may say what is gone: a short crawl would mark live stations removed.
            if isinstance(item_size, int) and len(listed) < item_size:
                raise _incomplete(f"ItemSize 为 {item_size}，只收到 {len(listed)} 个充电站")
            if not listed and Station.objects.filter(operator=operator, removed_at__isnull=True).exists():
                raise _incomplete("全量查询没有列出任何充电站；不据此将全部充电站标记为下线")
            _mark_removed(run, listed)
        pending_statuses_link(operator_id=operator.pk)
    return run


def _incomplete(reason: str) -> ClientError:
    """A crawl that cannot be trusted to be complete: it fails, so the watermark stays and nothing is removed."""
    return ClientError(f"query_stations_info 未完整获取：{reason}", interface="query_stations_info")


def _store_page(run: SyncRun, infos: list, listed: set[str], exchange: Exchange | None = None) -> None:
    good, rejected = [], []
    claimed: dict[tuple[str, str], str] = {}
    for info in infos:
        problems = station_problems(info, operator_id=run.operator_id) or page_conflicts(info, claimed)
        key = info.get("StationID", "") if isinstance(info, dict) else ""
        if isinstance(key, str) and key:
            listed.add(key)  # listed, even if rejected: a bad record is not a removal
        if problems:
            rejected.append(_reject(run, "query_stations_info", key, info, problems, exchange))
        else:
            good.append(info)
    with transaction.atomic():
        outcome = station_infos_upsert(operator_id=run.operator_id, infos=good)
        RejectedRecord.objects.bulk_create(rejected)
        DirectoryChange.objects.bulk_create(
            DirectoryChange(
                operator_id=run.operator_id,
                station_id=sid,
                kind=kind,
                object_id=oid,
                action=action,
                changes=diff,
                run=run,
                exchange=exchange,
            )
            for kind, oid, sid, action, diff in outcome.changes
        )
    run.created_count += outcome.created
    run.updated_count += outcome.updated
    run.unchanged_count += outcome.unchanged
    run.rejected_count += len(rejected)


def _mark_removed(run: SyncRun, listed: set[str]) -> None:
    with transaction.atomic():
        gone = stations_mark_removed(operator_id=run.operator_id, listed=listed)
        DirectoryChange.objects.bulk_create(
            DirectoryChange(operator_id=run.operator_id, station_id=sid, kind="station", object_id=sid,
                            action=ChangeAction.REMOVED, run=run)
            for sid in gone
        )  # fmt: skip
    run.removed_count += len(gone)


def station_status_pull(*, operator: Operator, heartbeat: Heartbeat | None = None) -> SyncRun:
    """query_station_status for every listed station, 50 at a time; statuses are applied as observed now."""
    run = SyncRun.objects.create(operator=operator, interface="query_station_status")
    ids = list(
        Station.objects.filter(operator=operator, removed_at__isnull=True)
        .order_by("station_id")
        .values_list("station_id", flat=True)
    )
    with _recording(run), operator_client(operator) as client:
        for start in range(0, len(ids), 50):
            # Observed when asked (the answer can only be older), in whole seconds like a push's TimeStamp: a
            # change pushed after the question, even in the same second, wins (equal times go to the later arrival).
            observed = timezone.now().replace(microsecond=0)
            data = client.call("query_station_status", {"StationIDs": ids[start : start + 50]})
            infos, rejected = [], []
            for station in data.get("StationStatusInfos") or []:
                problems = schema.validate(station, schema.STATION_STATUS_INFO)
                if problems:
                    key = station.get("StationID", "") if isinstance(station, dict) else ""
                    rejected.append(_reject(run, "query_station_status", key, station, problems, last_exchange(client)))
                else:
                    infos.extend(station["ConnectorStatusInfos"])
            outcome = connector_statuses_apply(
                operator_id=operator.pk, infos=infos, status_time=observed, source=StatusSource.PULL
            )
            RejectedRecord.objects.bulk_create(rejected)
            run.pages += 1
            run.updated_count += outcome.applied
            run.unchanged_count += outcome.duplicates
            run.created_count += outcome.pending
            run.rejected_count += len(rejected)
            run.save()
            _beat(heartbeat)
    return run


def station_stats_pull(*, operator: Operator, day=None, heartbeat: Heartbeat | None = None) -> SyncRun:
    """query_station_stats per listed station for one day (default: yesterday in Beijing)."""
    day = day or (timezone.localdate() - timedelta(days=1))
    run = SyncRun.objects.create(operator=operator, interface="query_station_stats")
    ids = list(
        Station.objects.filter(operator=operator, removed_at__isnull=True)
        .order_by("station_id")
        .values_list("station_id", flat=True)
    )
    with _recording(run), operator_client(operator) as client:
        for station_id in ids:
            data = client.call(
                "query_station_stats",
                {"StationID": station_id, "StartTime": day.isoformat(), "EndTime": day.isoformat()},
            )
            info = data.get("StationStats")
            problems = schema.validate(info, schema.STATION_STATS_INFO)
            run.pages += 1
            if not problems:
                try:
                    created = station_stats_store(operator_id=operator.pk, info=info)
                except ValidationFailed as exc:
                    problems = [schema.Problem(exc.field or "", "directory", exc.message)]
                else:
                    run.created_count += created
                    run.updated_count += not created
            if problems:
                RejectedRecord.objects.bulk_create(
                    [_reject(run, "query_station_stats", station_id, info, problems, last_exchange(client))]
                )
                run.rejected_count += 1
            run.save()
            _beat(heartbeat)
    return run


PULLS = {
    "query_stations_info": stations_info_pull,
    "query_station_status": station_status_pull,
    "query_station_stats": station_stats_pull,
}
