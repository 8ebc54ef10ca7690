"""The pure decisions of the crawl and of the status apply: plain values in, a verdict out, no database and no
network, so each rule is unit-tested on its own (tests/stations/test_decisions.py). pulls.py and services.py hold
the SQL and the calls around them."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from apps.protocol.names import Interface

MAX_PAGES = 10_000  # a platform that keeps answering PageCount ever higher must not keep a worker forever


# -- the crawl (query_stations_info) ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageVerdict:
    """What one answer of the crawl means: the page to ask next (None: this was the last), and why the crawl cannot
    be trusted to be complete — before storing this page (`refuse`) or after it (`stop`, at the page limit)."""

    next_page: int | None = None
    refuse: str = ""
    stop: str = ""


def page_verdict(data: dict[str, Any], page: int, *, max_pages: int = MAX_PAGES) -> PageVerdict:
    """The crawl's decision on answer number `page`: go on, stop complete, or fail as incomplete (a crawl that
    fails keeps its watermark and removes nothing)."""
    infos, page_count = data.get("StationInfos"), data.get("PageCount")
    if not isinstance(infos, list) or not isinstance(page_count, int) or isinstance(page_count, bool):
        return PageVerdict(refuse="应答缺少 StationInfos 列表或整数 PageCount")
    if not infos and page < page_count:
        return PageVerdict(refuse=f"第 {page} 页为空，但 PageCount 为 {page_count}")
    if page < page_count and page >= max_pages:
        return PageVerdict(stop=f"PageCount {page_count} 超过上限 {max_pages} 页")
    return PageVerdict(next_page=page + 1 if page < page_count else None)


def removal_refusal(*, listed: int, item_size: Any, had_stations: bool) -> str:
    """Why a full crawl that listed `listed` stations may not mark the others removed ("" when it may): only a crawl
    known to be complete may say what is gone, since a short one would mark live stations removed."""
    if isinstance(item_size, int) and not isinstance(item_size, bool) and listed < item_size:
        return f"ItemSize 为 {item_size}，只收到 {listed} 个充电站"
    if not listed and had_stations:
        return "全量查询没有列出任何充电站；不据此将全部充电站标记为下线"
    return ""


def incomplete_message(reason: str) -> str:
    return f"{Interface.QUERY_STATIONS_INFO} 未完整获取：{reason}"


# -- the status apply ------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class CurrentStatus:
    """A connector's current status as stored: what a new observation is compared with."""

    status: int
    park_status: int | None
    lock_status: int | None
    status_time: dt.datetime

    @property
    def values(self) -> tuple[int, int | None, int | None]:
        return (self.status, self.park_status, self.lock_status)


class StatusVerdict(enum.Enum):
    CONFIRM = "confirm"  # the same status seen later: the current row learns the time, history gets nothing
    DUPLICATE = "duplicate"  # the same status at the same time: nothing changes
    APPLY = "apply"  # a change at least as new as the current one (same time: the later arrival wins)
    HISTORY_ONLY = "history_only"  # older than the current status: kept in history, never replaces it


def status_verdict(current: CurrentStatus | None, values: tuple, status_time: dt.datetime) -> StatusVerdict:
    """What an observation (`values` = status, park, lock at `status_time`) does to a connector whose current status
    is `current`. History records changes, not every observation: a sweep every five minutes would otherwise
    write a row per connector each time."""
    if current is not None and current.values == tuple(values):
        if status_time > current.status_time:
            return StatusVerdict.CONFIRM
        if status_time == current.status_time:
            return StatusVerdict.DUPLICATE
    if current is None or status_time >= current.status_time:
        return StatusVerdict.APPLY
    return StatusVerdict.HISTORY_ONLY


def may_be_in_history(current: CurrentStatus | None, status_time: dt.datetime) -> bool:
    """Whether history may already hold this observation (so the database must be asked): history never holds a
    time later than the current status's, since every row written is applied (moving the current time up to it) or
    older than it; so only an observation no newer than the current one can be a repeat."""
    return current is not None and status_time <= current.status_time


def pending_split(unknown: list[str], *, limit: int, held: int) -> tuple[list[str], list[str]]:
    """Unknown connectors whose statuses may be kept pending, and those beyond HLHT_MAX_PENDING_STATUSES (`limit`,
    with `held` already kept): IDs nobody lists cannot fill the database."""
    room = max(0, limit - held)
    return unknown[:room], unknown[room:]
