"""The operator-side interfaces of parts 2 and 3: business-field checks (Ret 4004) and the answers' Data."""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from apps.protocol import (
    BusinessError,
    RequestEnvelope,
    is_serial_number,
    parse_date,
    parse_datetime,
)
from apps.protocol.names import TEST_STATUS_CHANGE, Interface

from .directory import FAULT, IDLE, OFFLINE, PLUGGED, station_status
from .platform import Platform
from .tariff import TARIFFS

Payload = dict[str, Any] | str
Handler = Callable[[Platform, RequestEnvelope, dict[str, Any]], Payload]

MAX_STATION_IDS = 50  # query_station_status: at most 50 stations per call (part 2 §1.3)
MAX_STATS_DAYS = 366


# -- business-field checks: each failure is a 4004 whose Msg names the field and the rule ----------------------------


def _fail(rule: str) -> BusinessError:
    return BusinessError(f"业务参数不合法，{rule}")


def text(payload: dict[str, Any], name: str, *, max_len: int, required: bool = True) -> str:
    value = payload.get(name)
    if value is None:
        if required:
            raise _fail(f"缺少参数{name}")
        return ""
    if not isinstance(value, str):
        raise _fail(f"参数{name}必须是字符串")
    if required and not value.strip():
        raise _fail(f"参数{name}不能为空")
    if len(value) > max_len:
        raise _fail(f"参数{name}长度不能超过{max_len}")
    return value


def serial(payload: dict[str, Any], name: str) -> str:
    value = text(payload, name, max_len=27)
    if not is_serial_number(value):
        raise _fail(f"参数{name}必须是27位字母或数字（运营商ID+唯一编号）")
    return value


def integer(payload: dict[str, Any], name: str, *, default: int, low: int, high: int | None = None) -> int:
    value = payload.get(name, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(f"参数{name}必须是整数")
    if value < low or (high is not None and value > high):
        limit = f"{low}到{high}之间" if high is not None else f"不小于{low}"
        raise _fail(f"参数{name}必须{limit}")
    return value


def day(payload: dict[str, Any], name: str) -> date:
    value = text(payload, name, max_len=10)
    try:
        return parse_date(value)
    except ValueError:
        raise _fail(f"参数{name}必须是yyyy-MM-dd格式的日期") from None


def moment(payload: dict[str, Any], name: str) -> datetime | None:
    value = text(payload, name, max_len=19, required=False)
    if not value.strip():
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        raise _fail(f"参数{name}必须是yyyy-MM-dd HH:mm:ss格式的时间") from None


def connector_id(payload: dict[str, Any]) -> str:
    return text(payload, "ConnectorID", max_len=26)


# -- interfaces -------------------------------------------------------------------------------------------------------


def query_token(sim: Platform, envelope: RequestEnvelope, payload: dict[str, Any]) -> Payload:
    """Appendix A: SuccStat 0 with a token for the portal and the right OperatorSecret; 1 + FailReason otherwise."""
    requester = text(payload, "OperatorID", max_len=9)
    secret = text(payload, "OperatorSecret", max_len=64)

    def refuse(reason: int) -> dict[str, Any]:
        return {
            "OperatorID": requester,
            "SuccStat": 1,
            "AccessToken": "",
            "TokenAvailableTime": 0,
            "FailReason": reason,
        }

    if requester != sim.config.portal_operator_id or requester != envelope.operator_id:
        return refuse(1)  # 无此运营商
    expected = sim.config.outbound.operator_secret.encode("utf-8")
    if not hmac.compare_digest(secret.encode("utf-8", "surrogatepass"), expected):
        if sim.faults.roll("refuse_secret_4004"):
            raise _fail("参数OperatorSecret错误")  # a deviation met in the field: Ret 4004, not SuccStat 1
        return refuse(2)  # 密钥错误
    token, ttl = sim.issue_token()
    return {"OperatorID": requester, "SuccStat": 0, "AccessToken": token, "TokenAvailableTime": ttl, "FailReason": 0}


def query_stations_info(sim: Platform, envelope: RequestEnvelope, payload: dict[str, Any]) -> Payload:
    """Paged StationInfos changed after LastQueryTime (station or any equipment/connector), all when it is empty."""
    cfg = sim.config
    since = moment(payload, "LastQueryTime")
    page_no = integer(payload, "PageNo", default=1, low=1)
    page_size = integer(payload, "PageSize", default=cfg.page_size_default, low=1, high=cfg.page_size_max)
    rate = sim.faults.params.get("invalid_records", 0.0)
    directory = sim.directory
    with sim.lock:
        matching = directory.changed_since(None if since is None else int(since.timestamp()))
        chunk = matching[(page_no - 1) * page_size : page_no * page_size]
        infos = [directory.station_info(st, directory.invalid_kind(st, rate) if rate else None) for st in chunk]
    page = {
        "PageNo": page_no,  # echoed even beyond the last page (the standard's rule)
        "PageCount": math.ceil(len(matching) / page_size),
        "ItemSize": len(matching),
        "StationInfos": infos,
    }
    # StationInfo carries no Decimal (see Directory.station_info), so the stdlib C encoder does the whole page.
    return json.dumps(page, ensure_ascii=False, separators=(",", ":"))


def query_station_status(sim: Platform, envelope: RequestEnvelope, payload: dict[str, Any]) -> Payload:
    """Connector statuses of up to 50 stations; unknown or vanished StationIDs are left out."""
    ids = payload.get("StationIDs")
    if ids is None:
        raise _fail("缺少参数StationIDs")
    if not isinstance(ids, list) or not all(isinstance(i, str) and 0 < len(i) <= 20 for i in ids):
        raise _fail("参数StationIDs必须是充电站ID（不超过20个字符）的数组")
    if not ids:
        raise _fail("参数StationIDs不能为空")
    if len(ids) > MAX_STATION_IDS:
        raise _fail(f"参数StationIDs最多{MAX_STATION_IDS}个")
    with sim.lock:
        infos = [station_status(st) for st in map(sim.directory.station, dict.fromkeys(ids)) if st is not None]
    return {"Total": len(infos), "StationStatusInfos": infos}


def query_station_stats(sim: Platform, envelope: RequestEnvelope, payload: dict[str, Any]) -> Payload:
    """Energy per connector/equipment/station between two dates (inclusive), from orders by their end date."""
    station_id = text(payload, "StationID", max_len=20)
    first, last = day(payload, "StartTime"), day(payload, "EndTime")
    if last < first:
        raise _fail("参数EndTime不能早于StartTime")
    if (last - first).days >= MAX_STATS_DAYS:
        raise _fail(f"统计区间不能超过{MAX_STATS_DAYS}天")
    with sim.lock:
        station = sim.directory.station(station_id)
        if station is None:
            raise _fail(f"参数StationID不存在：{station_id}")
        return sim.ledger.stats(station, first, last)


def query_equip_auth(sim: Platform, envelope: RequestEnvelope, payload: dict[str, Any]) -> Payload:
    """SuccStat 0 for an idle or plugged connector; FailReason 2 offline/faulty, 3 (ours) unknown, 4 (ours) busy."""
    seq, cid = serial(payload, "EquipAuthSeq"), connector_id(payload)
    answer: dict[str, Any] = {"EquipAuthSeq": seq, "ConnectorID": cid}
    with sim.lock:
        connector = sim.directory.connector(cid)
        if connector is None:
            return answer | {"SuccStat": 1, "FailReason": 3}
        if not connector.station.in_service or connector.status in (OFFLINE, FAULT):
            return answer | {"SuccStat": 1, "FailReason": 2}
        if connector.status not in (IDLE, PLUGGED) or connector.session is not None:
            return answer | {"SuccStat": 1, "FailReason": 4}
    return answer | {"SuccStat": 0, "FailReason": 0}


def query_equip_business_policy(sim: Platform, envelope: RequestEnvelope, payload: dict[str, Any]) -> Payload:
    """The station's time-of-use tariff as PolicyInfos (7 periods from 00:00:00)."""
    seq, cid = serial(payload, "EquipBizSeq"), connector_id(payload)
    answer: dict[str, Any] = {"EquipBizSeq": seq, "ConnectorID": cid}
    with sim.lock:
        connector = sim.directory.connector(cid)
        tariff = None if connector is None else TARIFFS[connector.station.tariff_index]
    if tariff is None:
        return answer | {"SuccStat": 1, "FailReason": 1, "SumPeriod": 0, "PolicyInfos": []}
    policies = tariff.policy_infos()
    return answer | {"SuccStat": 0, "FailReason": 0, "SumPeriod": len(policies), "PolicyInfos": policies}


def query_start_charge(sim: Platform, envelope: RequestEnvelope, payload: dict[str, Any]) -> Payload:
    seq, cid = serial(payload, "StartChargeSeq"), connector_id(payload)
    if "QRCode" not in payload:
        raise _fail("缺少参数QRCode")
    if not isinstance(payload["QRCode"], str):
        raise _fail("参数QRCode必须是字符串")
    return sim.start_charge(seq, cid)


def query_equip_charge_status(sim: Platform, envelope: RequestEnvelope, payload: dict[str, Any]) -> Payload:
    seq = serial(payload, "StartChargeSeq")
    snapshot = sim.charge_status(seq)
    if snapshot is None:
        raise _fail(f"参数StartChargeSeq不存在：{seq}")
    return snapshot


def query_stop_charge(sim: Platform, envelope: RequestEnvelope, payload: dict[str, Any]) -> Payload:
    return sim.stop_charge(serial(payload, "StartChargeSeq"), connector_id(payload))


def test_status_change(sim: Platform, envelope: RequestEnvelope, payload: dict[str, Any]) -> Payload:
    """The conformance hook (apps/protocol/names.py): an idle connector of a station in service becomes occupied
    (or the one named, to the Status given) and the change is pushed like any other."""
    wanted = text(payload, "ConnectorID", max_len=26, required=False)
    status = integer(payload, "Status", default=PLUGGED, low=0, high=255)
    if not wanted:
        idle = [
            c.id
            for st in sim.directory.stations
            if st.in_service
            for e in st.equipments
            for c in e.connectors
            if c.status == IDLE
        ]
        if not idle:
            raise _fail("没有空闲的充电接口")
        wanted = idle[0]
    try:
        sim.set_connector_status(wanted, status)
    except KeyError:
        raise _fail(f"参数ConnectorID不存在：{wanted}") from None
    return {"ConnectorID": wanted, "Status": status, "SuccStat": 0}


INTERFACES: dict[str, Handler] = {
    Interface.QUERY_TOKEN: query_token,
    Interface.QUERY_STATIONS_INFO: query_stations_info,
    Interface.QUERY_STATION_STATUS: query_station_status,
    Interface.QUERY_STATION_STATS: query_station_stats,
    Interface.QUERY_EQUIP_AUTH: query_equip_auth,
    Interface.QUERY_EQUIP_BUSINESS_POLICY: query_equip_business_policy,
    Interface.QUERY_START_CHARGE: query_start_charge,
    Interface.QUERY_EQUIP_CHARGE_STATUS: query_equip_charge_status,
    Interface.QUERY_STOP_CHARGE: query_stop_charge,
    TEST_STATUS_CHANGE: test_status_change,
}
