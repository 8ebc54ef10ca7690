"""The station pulls (part 2): the crawl of query_stations_info, status sweeps and daily statistics, as PullJobs."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, transaction
from django.utils import timezone

from apps.core.conf import conf
from apps.core.exceptions import ValidationFailed
from apps.core.rows import insert_many
from apps.interconnect.choices import RunStatus
from apps.interconnect.client import last_exchange, operator_client
from apps.interconnect.models import Exchange, PullState, RejectedRecord, SyncRun
from apps.interconnect.pulls import Dispatch, Heartbeat, PullJob
from apps.interconnect.registry import pull_job
from apps.operators.models import Operator
from apps.protocol import ClientError, PeerClient, format_datetime, schema
from apps.protocol.client import Pending
from apps.protocol.names import Interface

from .choices import ChangeAction, StatusSource
from .decisions import MAX_PAGES, incomplete_message, page_verdict, removal_refusal
from .directory import (
    PageOutcome,
    PagePlan,
    page_keys,
    station_infos_plan,
    station_infos_write,
    station_stats_store,
    stations_mark_removed,
)
from .models import DirectoryChange, Station
from .rules import DIRECTORY_RULE, PENDING_LIMIT_RULE, page_conflicts, station_problems
from .services import connector_statuses_apply, pending_statuses_link

PAGE_SIZE = 100
# The next increment asks from a little before the last complete crawl began, for clocks that disagree.
WATERMARK_MARGIN = dt.timedelta(minutes=5)
STATUS_BATCH = 50  # query_station_status takes at most 50 StationIDs (part 2 §1.3)
STATS_SAVE_EVERY = 50  # the statistics pull saves its counts and renews its lease every this many stations


def _older(moment: dt.datetime | None, than: dt.datetime) -> bool:
    return moment is None or moment <= than


def _listed_station_ids(operator: Operator) -> list[str]:
    return list(
        Station.objects.filter(operator=operator, removed_at__isnull=True)
        .order_by("station_id")
        .values_list("station_id", flat=True)
    )


def stations_info_watermark(operator_id: str) -> str:
    """LastQueryTime for the next incremental crawl: it moves only when a crawl completed."""
    last = (
        SyncRun.objects.filter(
            operator_id=operator_id, interface=Interface.QUERY_STATIONS_INFO, status=RunStatus.SUCCEEDED
        )
        .order_by("-started")
        .values_list("started", flat=True)
        .first()
    )
    return format_datetime(last - WATERMARK_MARGIN) if last else ""


def _incomplete(reason: str) -> ClientError:
    """A crawl that cannot be trusted to be complete: it fails, so the watermark stays and nothing is removed."""
    return ClientError(incomplete_message(reason), interface=Interface.QUERY_STATIONS_INFO)


def can_pipeline() -> bool:
    """Whether a crawl writes its pages on a second connection while it diffs the next: on PostgreSQL, outside any
    transaction of the caller's (a second connection would not see that transaction's rows). SQLite has one writer
    at a time, so there the pages are written inline, one after the other."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class PageWriter:
    """The crawl's writer: one page's write at a time, on its own thread and database connection when pipelined
    (page N committed there while page N + 1 is read and diffed on the crawl's connection), inline otherwise.

    `submit` is called only after `wait`, so at most one page is in flight (a queue of depth 1). `wait` returns
    (page, what its write returned) and raises the write's error: a failed page fails the run as before."""

    def __init__(self, *, pipelined: bool) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="crawl-writer") if pipelined else None
        self._flight: tuple[int, frozenset[str], Future[Any]] | None = None
        self._done: tuple[int, Any] | None = None

    def holds(self, keys: frozenset[str]) -> bool:
        """Whether the page in flight lists any of these IDs."""
        return self._flight is not None and not self._flight[1].isdisjoint(keys)

    def submit(self, page: int, keys: frozenset[str], write: Callable[[], Any]) -> None:
        if self._flight is not None or self._done is not None:
            raise RuntimeError("the page before was not waited for")
        if self._pool is None:
            self._done = (page, write())
        else:
            self._flight = (page, keys, self._pool.submit(write))

    def wait(self) -> tuple[int, Any] | None:
        done, self._done = self._done, None
        if done is not None:
            return done
        if self._flight is None:
            return None
        page, _, future = self._flight
        self._flight = None
        return page, future.result()

    def close(self) -> None:
        """Waits for the write in flight (whatever its outcome) and closes the writer's connection."""
        if self._pool is None:
            return
        with contextlib.suppress(BaseException):
            self.wait()
        self._pool.submit(connections.close_all).result()  # the writer thread's own connections
        self._pool.shutdown(wait=True)


@dataclass(frozen=True, slots=True)
class CheckedPage:
    """A page's StationInfos sorted by the rules: the good ones, the rejected with their problems, and every
    StationID listed (a rejected record is still listed: a bad record is not a removal)."""

    good: list[dict[str, Any]]
    rejected: list[tuple[Any, Any, list[schema.Problem]]]
    listed: list[str]


def checked_page(data: dict[str, Any], *, operator_id: str) -> CheckedPage | None:
    """The rules applied to one answer of query_stations_info (pure: it runs on the client's fetching thread)."""
    infos = data.get("StationInfos")
    if not isinstance(infos, list):
        return None
    good, rejected, listed = [], [], []
    claimed: dict[tuple[str, str], str] = {}
    for info in infos:
        problems = station_problems(info, operator_id=operator_id) or page_conflicts(info, claimed)
        key = info.get("StationID", "") if isinstance(info, dict) else ""
        if isinstance(key, str) and key:
            listed.append(key)
        if problems:
            rejected.append((key, info, problems))
        else:
            good.append(info)
    return CheckedPage(good, rejected, listed)


@pull_job
class StationsInfoPull(PullJob):
    """Crawl the operator's stations page by page; each page is written in its own transaction, so a crawl that
    dies halfway keeps what it wrote and the next crawl (whose LastQueryTime has not moved) completes it.

    A full crawl (no LastQueryTime) also marks what the operator stopped listing as removed, once it is known to
    be complete."""

    interface = Interface.QUERY_STATIONS_INFO
    options = ("full",)

    @classmethod
    def due(cls, operator: Operator, state: PullState | None, now: dt.datetime) -> Dispatch | None:
        full_every = dt.timedelta(minutes=operator.pull_full_minutes)
        info_every = dt.timedelta(minutes=operator.pull_info_minutes)
        dispatched = state and state.full_dispatched_at
        lost = (
            dispatched is not None
            and (state.full_succeeded_at is None or state.full_succeeded_at < dispatched)
            and _older(dispatched, now - conf().client.pull_redispatch)
        )
        if lost or _older(dispatched, now - full_every):
            # A full crawl also brings every change, so it stands in for the increment that may be due with it.
            return Dispatch(operator.pk, cls.interface, {"full": True}, expires=full_every.total_seconds())
        if _older(state and state.dispatched_at, now - info_every):
            return Dispatch(operator.pk, cls.interface, expires=info_every.total_seconds())
        return None

    @classmethod
    def marks(cls, options: dict[str, Any]) -> tuple[str, ...]:
        return ("dispatched_at", "full_dispatched_at") if options.get("full") else ("dispatched_at",)

    @classmethod
    def begin(cls, operator: Operator, *, full: bool = False) -> SyncRun:
        last_query_time = "" if full else stations_info_watermark(operator.pk)
        return SyncRun.objects.create(
            operator=operator, interface=cls.interface, full=full, last_query_time=last_query_time
        )

    def run(self, *, full: bool = False) -> None:
        run, client = self.sync_run, self.client
        listed: set[str] = set()
        page, item_size = 1, None
        check = functools.partial(checked_page, operator_id=run.operator_id)
        pending = client.call_later(self.interface, self._request(1), then=check)
        writer = PageWriter(pipelined=can_pipeline())
        try:
            while pending is not None:
                current, pending = pending, None  # taken: the finally below is for a later page only
                data, checked = current.result()
                exchange = self.last_message  # the message this page came in (before the next one is taken)
                item_size = data.get("ItemSize")
                verdict = page_verdict(data, page, max_pages=MAX_PAGES)
                if verdict.refuse:
                    raise _incomplete(verdict.refuse)
                if verdict.next_page is not None:
                    # The next page is on the wire (and decrypted on another thread) while this one is diffed.
                    pending = client.call_later(self.interface, self._request(verdict.next_page), then=check)
                keys = page_keys(checked.good)
                if writer.holds(keys):  # a station (pile, connector) listed again waits for the page that holds it
                    self._stored(writer.wait())
                write = self._prepare(checked, listed, exchange)
                self._stored(writer.wait())  # one page written at a time, in order
                writer.submit(page, keys, write)
                if verdict.stop:
                    self._stored(writer.wait())
                    raise _incomplete(verdict.stop)
                page += 1
            self._stored(writer.wait())
        except BaseException as exc:
            # The page being written is waited for: its error is the run's when it failed (it came first, as when
            # pages were written one after the other); counted when it was written.
            try:
                written = writer.wait()
            except Exception as failed:
                raise failed from exc
            with contextlib.suppress(Exception):
                self._stored(written)
            raise
        finally:
            writer.close()
            if pending is not None:  # a page failed to store: the exchange already sent is journalled all the same
                with contextlib.suppress(ClientError):
                    pending.result()
        if full:
            # The directory is asked only when the crawl listed nothing: the one case where the answer matters.
            had = not listed and Station.objects.filter(operator=self.operator, removed_at__isnull=True).exists()
            refusal = removal_refusal(listed=len(listed), item_size=item_size, had_stations=had)
            if refusal:
                raise _incomplete(refusal)
            self._mark_removed(listed)
        pending_statuses_link(operator_id=self.operator.pk)

    def _request(self, page: int) -> dict[str, Any]:
        request: dict[str, Any] = {"PageNo": page, "PageSize": PAGE_SIZE}
        if self.sync_run.last_query_time:
            request["LastQueryTime"] = self.sync_run.last_query_time
        return request

    def _prepare(
        self, checked: CheckedPage, listed: set[str], exchange: Exchange | None
    ) -> Callable[[], tuple[PageOutcome, int]]:
        """A page read and diffed on the crawl's connection: its write, to run on the writer."""
        plan = station_infos_plan(operator_id=self.sync_run.operator_id, infos=checked.good)
        listed.update(checked.listed)
        rejected = [self.rejected(key, info, why, exchange=exchange) for key, info, why in checked.rejected]
        return functools.partial(self._write_page, plan, rejected, exchange)

    def _write_page(
        self, plan: PagePlan, rejected: list[RejectedRecord], exchange: Exchange | None
    ) -> tuple[PageOutcome, int]:
        """One page's transaction (on the writer's connection when pipelined): the directory, the rejected records
        and the change rows, committed together."""
        run = self.sync_run
        with transaction.atomic():
            outcome = station_infos_write(plan)
            RejectedRecord.objects.bulk_create(rejected)
            now = timezone.now()
            insert_many(
                DirectoryChange,
                [
                    {"operator_id": run.operator_id, "station_id": sid, "kind": kind, "object_id": oid,
                     "action": action, "changes": diff, "run_id": run.pk,
                     "exchange_id": exchange.pk if exchange is not None else None, "created": now}
                    for kind, oid, sid, action, diff in outcome.changes
                ],
            )  # fmt: skip
        return outcome, len(rejected)

    def _stored(self, written: tuple[int, tuple[PageOutcome, int]] | None) -> None:
        """A page's write committed: its counts into the run, saved, and the lease renewed."""
        if written is None:
            return
        page, (outcome, rejected) = written
        run = self.sync_run
        run.created_count += outcome.created
        run.updated_count += outcome.updated
        run.unchanged_count += outcome.unchanged
        run.rejected_count += rejected
        run.pages = page
        run.save(update_fields=["pages", "created_count", "updated_count", "unchanged_count", "rejected_count"])
        self.beat()

    def _mark_removed(self, listed: set[str]) -> None:
        run = self.sync_run
        with transaction.atomic():
            gone = stations_mark_removed(operator_id=run.operator_id, listed=listed)
            DirectoryChange.objects.bulk_create(
                DirectoryChange(operator_id=run.operator_id, station_id=sid, kind="station", object_id=sid,
                                action=ChangeAction.REMOVED, run=run)
                for sid in gone
            )  # fmt: skip
        run.removed_count += len(gone)


@pull_job
class StationStatusPull(PullJob):
    """query_station_status for every listed station, 50 at a time; statuses are applied as observed now."""

    interface = Interface.QUERY_STATION_STATUS
    after = Interface.QUERY_STATIONS_INFO

    @classmethod
    def due(cls, operator: Operator, state: PullState | None, now: dt.datetime) -> Dispatch | None:
        every = dt.timedelta(minutes=operator.pull_status_minutes)
        if _older(state and state.dispatched_at, now - every):
            return Dispatch(operator.pk, cls.interface, expires=every.total_seconds())
        return None

    def run(self) -> None:
        run, client = self.sync_run, self.client
        ids = _listed_station_ids(self.operator)
        for start in range(0, len(ids), STATUS_BATCH):
            # Observed when asked (the answer can only be older), in whole seconds like a push's TimeStamp: a
            # change pushed after the question, even in the same second, wins (equal times go to the later arrival).
            observed = timezone.now().replace(microsecond=0)
            data = client.call(self.interface, {"StationIDs": ids[start : start + STATUS_BATCH]})
            infos, rejected = [], []
            for station in data.get("StationStatusInfos") or []:
                problems = schema.validate(station, schema.STATION_STATUS_INFO)
                if problems:
                    key = station.get("StationID", "") if isinstance(station, dict) else ""
                    rejected.append(self.rejected(key, station, problems))
                else:
                    infos.extend(station["ConnectorStatusInfos"])
            outcome = connector_statuses_apply(
                operator_id=self.operator.pk,
                infos=infos,
                status_time=observed,
                source=StatusSource.PULL,
                refuse_overflow=False,  # the sweep keeps what it knows; the rest is reported, not a failed run
            )
            limit = conf().protocol.max_pending_statuses
            rejected += [
                self.rejected(
                    connector_id,
                    next(info for info in infos if info["ConnectorID"] == connector_id),
                    [schema.Problem("ConnectorID", PENDING_LIMIT_RULE, f"ConnectorID {connector_id} 不在充电站信息中，"
                                    f"且该运营商待关联的接口状态已达上限{limit}条")],
                )
                for connector_id in outcome.overflow
            ]  # fmt: skip
            RejectedRecord.objects.bulk_create(rejected)
            run.pages += 1
            run.updated_count += outcome.applied
            run.unchanged_count += outcome.duplicates
            run.created_count += outcome.pending
            run.rejected_count += len(rejected)
            run.save()
            self.beat()


def _stats_moment(operator: Operator, now: dt.datetime) -> dt.datetime:
    """Today's time (Beijing) at which yesterday's statistics are asked for."""
    local = timezone.localtime(now)
    return local.replace(
        hour=operator.pull_stats_at.hour, minute=operator.pull_stats_at.minute, second=0, microsecond=0
    )


@pull_job
class StationStatsPull(PullJob):
    """query_station_stats per listed station for one day (default: yesterday in Beijing)."""

    interface = Interface.QUERY_STATION_STATS
    options = ("day",)
    after = Interface.QUERY_STATIONS_INFO

    @classmethod
    def due(cls, operator: Operator, state: PullState | None, now: dt.datetime) -> Dispatch | None:
        moment = _stats_moment(operator, now)
        if now >= moment and _older(state and state.dispatched_at, moment - dt.timedelta(microseconds=1)):
            # The day is fixed at dispatch, so that a retry after midnight asks for the same day.
            yesterday = timezone.localtime(now).date() - dt.timedelta(days=1)
            return Dispatch(operator.pk, cls.interface, {"day": yesterday.isoformat()}, expires=86400.0)
        return None

    def run(self, *, day: dt.date | str | None = None) -> None:
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        day = day or (timezone.localdate() - dt.timedelta(days=1))
        todo = deque(_listed_station_ids(self.operator))
        # One call per station (part 2 §1.4), `pull_concurrency` of them on the wire at a time, each on its own
        # client (its own connection), answered and stored in the order asked: the journal rows, the stored
        # statistics and the rejections are written here, on this thread, one station after another.
        window: deque[tuple[PeerClient, str, Pending]] = deque()

        def ask(client: PeerClient) -> None:
            if todo:
                station_id = todo.popleft()
                request = {"StationID": station_id, "StartTime": day.isoformat(), "EndTime": day.isoformat()}
                window.append((client, station_id, client.call_later(self.interface, request, then=checked_stats)))

        with contextlib.ExitStack() as clients:
            ask(self.client)
            for _ in range(self.operator.pull_concurrency - 1):
                if not todo:
                    break
                ask(clients.enter_context(operator_client(self.operator)))
            try:
                while window:
                    client, station_id, pending = window.popleft()
                    data, problems = pending.result()
                    ask(client)
                    self._store(station_id, data.get("StationStats"), problems, last_exchange(client))
            finally:
                for _, _, pending in window:  # a station failed: what is already on the wire is journalled
                    with contextlib.suppress(ClientError):
                        pending.result()

    def _store(self, station_id: str, info: Any, problems: list[schema.Problem], exchange: Exchange | None) -> None:
        run = self.sync_run
        run.pages += 1
        if not problems:
            try:
                created = station_stats_store(operator_id=self.operator.pk, info=info)
            except ValidationFailed as exc:
                problems = [schema.Problem(exc.field or "", DIRECTORY_RULE, exc.message)]
            else:
                run.created_count += created
                run.updated_count += not created
        if problems:
            RejectedRecord.objects.bulk_create([self.rejected(station_id, info, problems, exchange=exchange)])
            run.rejected_count += 1
        if run.pages % STATS_SAVE_EVERY == 0:
            run.save()
            self.beat()


def checked_stats(data: dict[str, Any]) -> list[schema.Problem]:
    """The schema's problems with one answer of query_station_stats (pure: it runs on the fetching thread)."""
    return schema.validate(data.get("StationStats"), schema.STATION_STATS_INFO)


def stations_info_pull(*, operator: Operator, full: bool = False, heartbeat: Heartbeat | None = None) -> SyncRun:
    return StationsInfoPull.handle(operator=operator, heartbeat=heartbeat, full=full)


def station_status_pull(*, operator: Operator, heartbeat: Heartbeat | None = None) -> SyncRun:
    return StationStatusPull.handle(operator=operator, heartbeat=heartbeat)


def station_stats_pull(
    *, operator: Operator, day: dt.date | None = None, heartbeat: Heartbeat | None = None
) -> SyncRun:
    return StationStatsPull.handle(operator=operator, heartbeat=heartbeat, day=day)
