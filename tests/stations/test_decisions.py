"""The crawl's and the status apply's decisions on their own: no database (pytest-django refuses any query here,
there is no django_db mark) and no network."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.stations.decisions import (
    CurrentStatus,
    PageVerdict,
    StatusVerdict,
    incomplete_message,
    may_be_in_history,
    page_verdict,
    pending_split,
    removal_refusal,
    status_verdict,
)

T0 = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)
LATER, EARLIER = T0 + dt.timedelta(seconds=1), T0 - dt.timedelta(seconds=1)
STATION = {"StationID": "S1"}

# -- the crawl -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "page", "expected"),
    [
        ({"StationInfos": [STATION], "PageCount": 3}, 1, PageVerdict(next_page=2)),
        ({"StationInfos": [STATION], "PageCount": 3}, 3, PageVerdict()),  # the last page: complete
        ({"StationInfos": [], "PageCount": 1}, 1, PageVerdict()),  # an operator with no stations
        ({"StationInfos": [], "PageCount": 0}, 1, PageVerdict()),
        ({"StationInfos": [STATION], "PageCount": 2}, 5, PageVerdict()),  # past PageCount: nothing more to ask
    ],
)
def test_a_good_page_says_which_page_comes_next(data, page, expected):
    assert page_verdict(data, page) == expected


@pytest.mark.parametrize(
    ("data", "page", "reason"),
    [
        ({"PageCount": 1}, 1, "应答缺少 StationInfos 列表或整数 PageCount"),
        ({"StationInfos": {"S1": {}}, "PageCount": 1}, 1, "应答缺少 StationInfos 列表或整数 PageCount"),
        ({"StationInfos": [STATION], "PageCount": "2"}, 1, "应答缺少 StationInfos 列表或整数 PageCount"),
        ({"StationInfos": [STATION], "PageCount": True}, 1, "应答缺少 StationInfos 列表或整数 PageCount"),
        ({"StationInfos": [], "PageCount": 4}, 2, "第 2 页为空，但 PageCount 为 4"),
    ],
)
def test_a_page_that_cannot_be_trusted_is_refused_before_it_is_stored(data, page, reason):
    verdict = page_verdict(data, page)
    assert verdict == PageVerdict(refuse=reason) and verdict.next_page is None


def test_the_page_limit_stores_the_page_then_stops_the_crawl():
    data = {"StationInfos": [STATION], "PageCount": 50}
    assert page_verdict(data, 9, max_pages=10) == PageVerdict(next_page=10)
    assert page_verdict(data, 10, max_pages=10) == PageVerdict(stop="PageCount 50 超过上限 10 页")
    assert page_verdict({"StationInfos": [STATION], "PageCount": 10}, 10, max_pages=10) == PageVerdict()


def test_only_a_complete_full_crawl_may_mark_stations_removed():
    assert removal_refusal(listed=3, item_size=3, had_stations=True) == ""
    assert removal_refusal(listed=3, item_size=None, had_stations=True) == ""  # ItemSize is optional
    assert removal_refusal(listed=3, item_size=True, had_stations=True) == ""  # not a count
    assert removal_refusal(listed=2, item_size=3, had_stations=True) == "ItemSize 为 3，只收到 2 个充电站"
    assert removal_refusal(listed=0, item_size=0, had_stations=False) == ""  # nothing listed, nothing known
    assert "不据此将全部充电站标记为下线" in removal_refusal(listed=0, item_size=0, had_stations=True)
    assert incomplete_message("x") == "query_stations_info 未完整获取：x"


# -- the status apply ------------------------------------------------------------------------------------------------

FREE, CHARGING = (2, None, None), (3, None, None)


def current(values=FREE, at=T0) -> CurrentStatus:
    return CurrentStatus(*values, status_time=at)


@pytest.mark.parametrize(
    ("now", "values", "at", "verdict"),
    [
        (None, FREE, T0, StatusVerdict.APPLY),  # the first status of a connector
        (current(), FREE, LATER, StatusVerdict.CONFIRM),  # seen again later: the time moves, no history
        (current(), FREE, T0, StatusVerdict.DUPLICATE),  # a repeat
        (current(), FREE, EARLIER, StatusVerdict.HISTORY_ONLY),  # the same status, older: history may lack it
        (current(), CHARGING, LATER, StatusVerdict.APPLY),  # a change
        (current(), CHARGING, T0, StatusVerdict.APPLY),  # same second, later arrival: it wins
        (current(), CHARGING, EARLIER, StatusVerdict.HISTORY_ONLY),  # an older change never replaces the current
        (current(), (2, 1, None), LATER, StatusVerdict.APPLY),  # the park status is part of the status
    ],
)
def test_status_verdicts(now, values, at, verdict):
    assert status_verdict(now, values, at) is verdict


def test_only_an_observation_no_newer_than_the_current_can_be_in_history_already():
    assert not may_be_in_history(None, T0)
    assert not may_be_in_history(current(), LATER)
    assert may_be_in_history(current(), T0) and may_be_in_history(current(), EARLIER)


def test_unknown_connectors_beyond_the_pending_bound_are_not_kept():
    assert pending_split(["a", "b", "c"], limit=10, held=0) == (["a", "b", "c"], [])
    assert pending_split(["a", "b", "c"], limit=10, held=8) == (["a", "b"], ["c"])
    assert pending_split(["a", "b"], limit=10, held=12) == ([], ["a", "b"])  # the bound lowered since
