"""Part 2 interfaces the portal serves: the status push from operators, and to third-party platforms the aggregated
directory, statuses and statistics."""

from __future__ import annotations

from typing import Any

from apps.core.conf import conf
from apps.interconnect.registry import CallContext, interface
from apps.operators.choices import OperatorKind
from apps.protocol import BusinessError, parse_date, parse_datetime, schema
from apps.protocol.names import Interface

from .choices import StatusSource
from .selectors import published_stations_by_id, station_infos_page, station_stats_info, station_status_infos
from .services import connector_status_push, connector_statuses_apply

# The standard's default; its maximum is left to the implementer. 100 is what the portal itself asks operators for,
# keeps a page's encrypted answer well under a megabyte, and costs the same few queries as a page of 10.
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
# query_station_stats sums stored daily periods; a year (a leap one included) is the longest useful span.
MAX_STATS_DAYS = 366

_CONSUMERS = {OperatorKind.CONSUMER}


def _validate_status(payload: dict[str, Any]) -> None:
    # The standard sends one object; some platforms send an array, which the portal accepts too, up to a bound.
    schema.raise_problems(schema.validate_status_notification(payload, max_items=conf().protocol.max_push_items))


@interface(Interface.NOTIFICATION_STATION_STATUS, callers={OperatorKind.OPERATOR}, validate=_validate_status)
def notification_station_status(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Part 2 §1.2: Status 0 accepted; 1 ignored (a repeat: nothing new, and no need to retry)."""
    infos = schema.status_infos(payload)
    if len(infos) == 1:  # the standard's body: one connector, one statement
        outcome = connector_status_push(
            operator_id=ctx.operator.pk, info=infos[0], status_time=ctx.envelope.time, source=StatusSource.PUSH
        )
    else:
        outcome = connector_statuses_apply(
            operator_id=ctx.operator.pk, infos=infos, status_time=ctx.envelope.time, source=StatusSource.PUSH
        )
    return {"Status": 0 if outcome.learnt_anything else 1}


def _validate_stations_info(payload: dict[str, Any]) -> None:
    problems = schema.validate(payload, schema.QUERY_STATIONS_INFO_REQUEST)
    size = payload.get("PageSize") if isinstance(payload, dict) else None
    # A larger page is refused rather than cut down: a consumer that stops at the first short page would
    # otherwise miss stations without noticing.
    if type(size) is int and size > MAX_PAGE_SIZE:
        problems.append(
            schema.Problem("PageSize", schema.RANGE, f"PageSize（每页数量）不能大于{MAX_PAGE_SIZE}，实际为{size}")
        )
    schema.raise_problems(problems)


@interface(Interface.QUERY_STATIONS_INFO, callers=_CONSUMERS, validate=_validate_stations_info)
def query_stations_info(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Part 2 §1.1 over every published operator; LastQueryTime limits it to stations changed after that time."""
    last = payload.get("LastQueryTime")
    page = station_infos_page(
        since=parse_datetime(last) if last else None,  # Beijing time, as every time inside Data
        number=payload.get("PageNo") or 1,
        size=payload.get("PageSize") or DEFAULT_PAGE_SIZE,
    )
    return {"PageNo": page.number, "PageCount": page.count, "ItemSize": page.item_count, "StationInfos": page.items}


@interface(Interface.QUERY_STATION_STATUS, callers=_CONSUMERS)
def query_station_status(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Part 2 §1.3: current connector statuses of up to 50 stations; unknown or unpublished IDs are left out."""
    infos = station_status_infos(payload["StationIDs"])
    return {"Total": len(infos), "StationStatusInfos": infos}


def _validate_stats(payload: dict[str, Any]) -> None:
    problems = schema.validate(payload, schema.QUERY_STATION_STATS_REQUEST)
    if not problems:
        days = (parse_date(payload["EndTime"]) - parse_date(payload["StartTime"])).days + 1
        if days > MAX_STATS_DAYS:
            problems.append(
                schema.Problem(
                    "EndTime",
                    schema.RANGE,
                    f"EndTime（统计结束时间）与StartTime（统计开始时间）最多相隔{MAX_STATS_DAYS}天，实际为{days}天",
                )
            )
    # OperatorID is not in the standard request; the portal accepts it to pick one of several operators'
    # stations that share a StationID (StationIDs are unique per operator only).
    operator_id = payload.get("OperatorID") if isinstance(payload, dict) else None
    if operator_id is not None:
        schema.OperatorID("OperatorID", "运营商ID").check(operator_id, "OperatorID", problems)
    schema.raise_problems(problems)


@interface(Interface.QUERY_STATION_STATS, callers=_CONSUMERS, validate=_validate_stats)
def query_station_stats(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Part 2 §1.4: energy of one published station over [StartTime, EndTime], both days inclusive."""
    station_id = payload["StationID"]
    stations = published_stations_by_id(station_id, payload.get("OperatorID"))
    if not stations:
        raise BusinessError(f"StationID（充电站ID）“{station_id}”不存在或未公开")
    if len(stations) > 1:
        owners = "、".join(s.operator_id for s in stations)
        raise BusinessError(
            f"StationID（充电站ID）“{station_id}”属于多个运营商（{owners}），请在请求中加 OperatorID 指明运营商"
        )
    stats = station_stats_info(stations[0], start=parse_date(payload["StartTime"]), end=parse_date(payload["EndTime"]))
    return {"StationStats": stats}
