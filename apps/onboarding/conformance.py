"""The conformance check: the portal calls an operator's platform the way it will in service, plus deliberately bad
requests, and stores a report (pass/fail per check, timings, the journal rows) that gates going live.

Each check is a method of `_Run` recorded in order; a check that cannot run because an earlier one failed is
skipped with the reason, so the first failure is the one to read. Where a failure matches a deviation seen in the
field, the check names the operator's dialect flag that would accept it.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import requests
from django.utils import timezone

from apps.core.conf import conf
from apps.interconnect.choices import Direction, KeyDirection
from apps.interconnect.client import operator_client
from apps.interconnect.journal import journal_record
from apps.interconnect.keys import current_keyset, keyset_open
from apps.interconnect.models import Exchange
from apps.operators.choices import OperatorKind
from apps.operators.models import Operator
from apps.protocol import (
    KeySet,
    PeerClient,
    build_request,
    format_datetime,
    open_response,
    parse_response,
    schema,
    sign_request,
)
from apps.protocol.dialect import SERVICE_ALIASES, Dialect
from apps.protocol.errors import ClientError, EnvelopeError, ProtocolError, Ret, SignatureError, TokenRefused
from apps.protocol.names import TEST_STATUS_CHANGE, Interface

from .addresses import endpoint_problem
from .choices import CheckOutcome
from .models import ConformanceReport

# Response-time limits of the rules (part 2: 3 s, part 3: 1 s), in milliseconds.
PART2_LIMIT_MS, PART3_LIMIT_MS = 3000.0, 1000.0
PART3 = (Interface.QUERY_EQUIP_BUSINESS_POLICY, Interface.QUERY_EQUIP_AUTH)
TOKEN_SEEN_DAYS = 7  # an inbound query_token from the operator this recent counts for "token, operator → portal"
MAX_PROBLEMS = 5  # schema problems quoted per check
PUSH_WAIT_SECONDS = 15  # how long the status-push check waits for the push it asked for


@dataclass
class Check:
    name: str
    title: str
    outcome: str = CheckOutcome.PASSED
    detail: str = ""
    ms: float | None = None
    flag: str = ""  # the dialect flag that would accept what failed, when the failure is a known deviation

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "outcome": str(self.outcome),
            "detail": self.detail,
            "ms": self.ms,
            "flag": self.flag,
        }


@dataclass
class _Run:
    operator: Operator
    checks: list[Check] = field(default_factory=list)
    client: PeerClient | None = None
    keys: KeySet | None = None
    token: str | None = None
    station_ids: list[str] = field(default_factory=list)
    connector_ids: list[str] = field(default_factory=list)

    # -- bookkeeping ---------------------------------------------------------------------------------------------

    def add(
        self, name: str, title: str, outcome: str, detail: str = "", ms: float | None = None, flag: str = ""
    ) -> Check:
        check = Check(name, title, outcome, detail, ms, flag)
        self.checks.append(check)
        return check

    def skip(self, name: str, title: str, why: str) -> None:
        self.add(name, title, CheckOutcome.SKIPPED, why)

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.checks)

    def timed(self, call: Callable[[], Any]) -> tuple[Any, float, Exception | None]:
        began = time.perf_counter()
        try:
            value, error = call(), None
        except (ClientError, requests.RequestException) as exc:
            value, error = None, exc
        return value, (time.perf_counter() - began) * 1000, error

    # -- raw exchanges (deliberately wrong requests the client would never send) --------------------------------

    def raw(
        self,
        interface: str,
        payload: dict[str, Any],
        *,
        token: str | None,
        keys: KeySet | None = None,
        mangle: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> tuple[int | None, str, float]:
        """POST one hand-built envelope; answer (Ret or None, what came back, ms). Journalled like any exchange."""
        keys = keys or self.keys
        envelope = build_request(conf().protocol.operator_id, payload, keys)
        body = json.loads(envelope.to_json())
        if mangle is not None:
            body = mangle(body)
        headers = {"Content-Type": "application/json;charset=utf-8"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        began = time.perf_counter()
        ret, shown, status = None, "", None
        try:
            # The client's session: its connections are checked (apps/protocol/addresses.py); no redirect is followed.
            response = self.client.session.post(
                self.client.url(interface),
                data=json.dumps(body),
                headers=headers,
                timeout=(conf().client.connect_timeout_seconds, conf().client.read_timeout_seconds),
                allow_redirects=False,
            )
            status = response.status_code
            try:
                answer = parse_response(response.content, dialect=self.client.dialect)
                ret, shown = answer.ret, f"Ret {answer.ret} {answer.msg}".strip()
            except EnvelopeError:
                shown = f"HTTP {status}，应答不是协议报文"  # the body itself is not quoted: it may be anything
        except requests.RequestException as exc:
            shown = f"网络错误或超时（{type(exc).__name__}）"
        ms = (time.perf_counter() - began) * 1000
        journal_record(
            operator=self.operator,
            claimed_operator_id=conf().protocol.operator_id,
            interface=interface[:64],
            direction=Direction.OUT,
            timestamp=envelope.timestamp,
            seq=envelope.seq,
            ret=ret,
            msg=shown[:255],
            http_status=status,
            latency_ms=ms,
            request={"conformance": "deliberately bad request"},
            response=None,
            error="" if ret is not None else shown[:500],
        )
        return ret, shown, ms


def _explained(error: Exception) -> str:
    """A client error as the report shows it: what it means in Chinese, then the client's own words."""
    text = str(error)
    if "without a protocol envelope" in text:
        meaning = "应答不是协议报文"
    elif "bad response Sig" in text:
        meaning = "应答签名错误"
    elif "undecryptable" in text:
        meaning = "应答 Data 无法解密"
    elif isinstance(error, requests.RequestException) or "Timeout" in text or "Connection" in text:
        meaning = "网络错误或超时"
    elif "Ret 4002" in text:
        meaning = "token 被拒绝"
    elif "Ret " in text:
        meaning = "运营商以错误码应答"
    else:
        meaning = "调用失败"
    return f"{meaning}：{text}"


def _serial(prefix: str = "") -> str:
    """A 27-character serial: the portal's OperatorID and 18 random digits."""
    return conf().protocol.operator_id + prefix + "".join(secrets.choice("0123456789") for _ in range(18 - len(prefix)))


def _problems(payload: Any, interface: str) -> list[str]:
    return [str(p) for p in schema.validate(payload, schema.INTERFACES[interface][1])][:MAX_PROBLEMS]


def _lower_envelope(content: bytes) -> bool:
    """An answer that is the envelope with lower-case keys (ret/msg/data/sig): the FastAPI dialect."""
    try:
        obj = json.loads(content)
    except ValueError:
        return False
    return isinstance(obj, dict) and {"ret", "msg", "data", "sig"} <= set(obj) and "Ret" not in obj


def _lower_camel(payload: Any) -> bool:
    """Data whose field names start lower-case (succStat, accessToken): the lowerCamel dialect."""
    return isinstance(payload, dict) and bool(payload) and all(k[:1].islower() for k in payload if isinstance(k, str))


# The deviations a token answer can show, as the report explains them.
_TOKEN_DIALECTS = {
    "dialect_lowercase_keys": "报文参数名为小写（ret、msg、data、sig），规范为 Ret、Msg、Data、Sig",
    "dialect_lower_camel_fields": "Data 字段名为小驼峰（succStat、accessToken），规范为 SuccStat、AccessToken",
}


def _token_dialects(content: bytes, keys: KeySet) -> list[str]:
    """Read a query_token answer leniently: the known deviations (dialect flags) it shows."""
    flags = ["dialect_lowercase_keys"] if _lower_envelope(content) else []
    try:
        answer = parse_response(content, dialect=Dialect(lowercase_keys=True))
        data = open_response(answer, keys)
    except (EnvelopeError, SignatureError, ProtocolError):
        return flags
    if _lower_camel(data):
        flags.append("dialect_lower_camel_fields")
    return flags


def _dialect_advice(flags: list[str]) -> str:
    """What the report says of deviations it recognised: each one, and the flags that would accept them."""
    return "；".join(_TOKEN_DIALECTS[f] for f in flags) + f"。开启运营商的协议差异“{'、'.join(flags)}”后可接受"


def _variant_spelling(payload: Any) -> bool:
    """Data using ServicePrice/ServiceMoney/ElectMoney where the standard (typo and all) says Sevice*/ElecMoney."""
    text = json.dumps(payload, default=str)
    return any(f'"{alias}"' in text for alias in SERVICE_ALIASES)


class _Checks:
    """The checks, in the order they run; each appends to the run."""

    def __init__(self, run: _Run) -> None:
        self.run = run

    def configured(self) -> bool:
        run, op = self.run, self.run.operator
        row = current_keyset(op.pk, KeyDirection.OUTBOUND)
        missing = [what for what, ok in (("接口地址", op.endpoint_url), ("对方签发的密钥", row)) if not ok]
        if missing:
            run.add("configured", "接入配置", CheckOutcome.FAILED, f"缺少{'、'.join(missing)}：请运营商先填写")
            return False
        problem = endpoint_problem(op.endpoint_url)
        if problem:
            run.add("configured", "接入配置", CheckOutcome.FAILED, f"接口地址{problem}")
            return False
        run.client, run.keys = operator_client(op), keyset_open(row)
        run.add("configured", "接入配置", CheckOutcome.PASSED, op.endpoint_url)
        return True

    def token_out(self) -> None:
        run = self.run
        title = "token（平台 → 运营商）"
        value, ms, error = run.timed(run.client.authenticate)
        if error is None:
            run.token = value[0]
            run.client.token_store.set(run.client.token_key, *value)
            run.add(
                "token_out",
                title,
                CheckOutcome.PASSED,
                f"TokenAvailableTime 有效至 {timezone.localtime(value[1]):%Y-%m-%d %H:%M}",
                ms,
            )
            return
        detail, flags = _explained(error), self._asked_dialects()
        if flags:
            detail = _dialect_advice(flags)
        elif isinstance(error, TokenRefused):
            detail = f"运营商拒绝本平台签发给它的 OperatorSecret：{detail}"
        run.add("token_out", title, CheckOutcome.FAILED, detail[:500], ms, ",".join(flags))

    def _ask_token(self, secret: str) -> requests.Response:
        """A query_token with `secret`, sent by hand: the client would refuse to read what a deviant answer holds."""
        payload = {"OperatorID": conf().protocol.operator_id, "OperatorSecret": secret}
        envelope = build_request(conf().protocol.operator_id, payload, self.run.keys)
        return self.run.client.session.post(self.run.client.url(Interface.QUERY_TOKEN), data=envelope.to_json(),
                                            headers={"Content-Type": "application/json;charset=utf-8"}, timeout=10,
                                            allow_redirects=False)  # fmt: skip

    def _asked_dialects(self) -> list[str]:
        """Ask for a token once more and read the answer leniently: which known deviation explains the failure."""
        try:
            content = self._ask_token(self.run.keys.operator_secret).content
        except requests.RequestException:
            return []
        return _token_dialects(content, self.run.keys)

    def token_wrong_secret(self) -> None:
        """A wrong OperatorSecret must be answered Ret 0 with SuccStat 1 and FailReason 2 (part 4 §2)."""
        run, title = self.run, "错误密钥的 token 请求"
        began = time.perf_counter()
        content = b""
        try:
            content = self._ask_token(secrets.token_hex(8)).content
            answer = parse_response(content, dialect=run.client.dialect)
            data = open_response(answer, run.keys, dialect=run.client.dialect) if answer.ret == Ret.OK else None
        except (requests.RequestException, ProtocolError, ClientError) as exc:
            # A deviation seen in the field is named with its flag, as token_out names it.
            flags = _token_dialects(content, run.keys) if content else []
            detail = _dialect_advice(flags) if flags else f"{type(exc).__name__}: {exc}"
            ms = (time.perf_counter() - began) * 1000
            run.add("token_wrong_secret", title, CheckOutcome.FAILED, detail[:500], ms, ",".join(flags))
            return
        ms = (time.perf_counter() - began) * 1000
        if answer.ret == Ret.OK and isinstance(data, dict) and data.get("SuccStat") == 1:
            run.add(
                "token_wrong_secret", title, CheckOutcome.PASSED, f"SuccStat 1，FailReason {data.get('FailReason')}", ms
            )
        elif answer.ret == Ret.BUSINESS:
            run.add(
                "token_wrong_secret",
                title,
                CheckOutcome.FAILED,
                f"以 Ret 4004 拒绝（{answer.msg}）；规范要求 Ret 0、SuccStat 1、FailReason 2（密钥错误）",
                ms,
            )
        elif answer.ret == Ret.OK and _lower_camel(data):
            flag = "dialect_lower_camel_fields"
            run.add("token_wrong_secret", title, CheckOutcome.FAILED, _dialect_advice([flag]), ms, flag)
        else:
            run.add("token_wrong_secret", title, CheckOutcome.FAILED, f"Ret {answer.ret}，Data {data!r}"[:300], ms)

    def token_in(self) -> None:
        """The operator's platform has fetched a token from the portal (its journal shows it)."""
        since = timezone.now() - timedelta(days=TOKEN_SEEN_DAYS)
        seen = (
            Exchange.objects.filter(
                operator=self.run.operator,
                interface=Interface.QUERY_TOKEN,
                direction=Direction.IN,
                ret=0,
                created__gte=since,
            )
            .order_by("-created")
            .first()
        )
        title = "token（运营商 → 平台）"
        if seen is None:
            self.run.add(
                "token_in",
                title,
                CheckOutcome.FAILED,
                f"近{TOKEN_SEEN_DAYS}天没有收到该运营商用本平台签发的密钥成功获取 token："
                "请运营商调用本平台的 query_token",
            )
        else:
            self.run.add(
                "token_in", title, CheckOutcome.PASSED, f"最近一次 {timezone.localtime(seen.created):%Y-%m-%d %H:%M}"
            )

    def query(self, interface: str, payload: dict[str, Any], limit_ms: float) -> dict[str, Any] | None:
        """One business query: Sig and decryption (by the client), the answer's structure, the response time."""
        run = self.run
        value, ms, error = run.timed(lambda: run.client.call(interface, payload))
        if error is not None:
            detail = _explained(error)
            flag = "dialect_lowercase_keys" if "without a protocol envelope" in detail else ""
            run.add(interface, interface, CheckOutcome.FAILED, detail[:300], ms, flag)
            if ("Sig" in detail or "undecryptable" in detail) and not run.has("sig_encryption"):
                run.add("sig_encryption", "签名与加密", CheckOutcome.FAILED, detail[:300])
            return None
        if not run.has("sig_encryption"):  # decided by the first business answer
            run.add("sig_encryption", "签名与加密", CheckOutcome.PASSED, f"{interface} 的应答签名正确、可解密")
        problems = _problems(value, interface)
        if problems:
            flag = "dialect_lower_camel_fields" if _lower_camel(value) else ""
            if not flag and _variant_spelling(value):
                flag = "dialect_service_spelling"
            run.add(interface, interface, CheckOutcome.FAILED, "；".join(problems), ms, flag)
        else:
            run.add(interface, interface, CheckOutcome.PASSED, "结构、枚举、长度符合规范", ms)
        over = ms > limit_ms
        run.add(
            f"time:{interface}",
            f"{interface} 响应时间",
            CheckOutcome.FAILED if over else CheckOutcome.PASSED,
            f"{ms:.0f} ms，限值 {limit_ms / 1000:g} s",
            ms,
        )
        return value if not problems else None

    def stations(self) -> None:
        run = self.run
        first = self.query(Interface.QUERY_STATIONS_INFO, {"PageNo": 1, "PageSize": 10}, PART2_LIMIT_MS)
        if first is None:
            return
        infos = first.get("StationInfos") or []
        run.station_ids = [s["StationID"] for s in infos]
        run.connector_ids = [
            c["ConnectorID"]
            for s in infos
            for e in s.get("EquipmentInfos") or []
            for c in e.get("ConnectorInfos") or []
        ]
        # Paging: page 2 continues page 1 without repeating it; the counts agree.
        title = "分页（PageNo/PageCount/ItemSize）"
        count, items = first.get("PageCount", 0), first.get("ItemSize", 0)
        if count * 10 < items or (items and not infos):
            run.add("paging", title, CheckOutcome.FAILED, f"PageCount {count} 与 ItemSize {items}、每页10条不符")
        elif count >= 2:
            second = run.client.call(Interface.QUERY_STATIONS_INFO, {"PageNo": 2, "PageSize": 10})
            again = {s.get("StationID") for s in second.get("StationInfos") or []} & set(run.station_ids)
            if second.get("PageNo") != 2 or again:
                run.add(
                    "paging",
                    title,
                    CheckOutcome.FAILED,
                    f"第2页 PageNo {second.get('PageNo')}，重复 {sorted(again)[:3]}",
                )
            else:
                run.add("paging", title, CheckOutcome.PASSED, f"{items} 条，{count} 页")
        else:
            run.add("paging", title, CheckOutcome.PASSED, f"{items} 条，{count} 页")
        # LastQueryTime: asking for changes since now must not return more than the full directory.
        since = format_datetime(timezone.localtime() + timedelta(minutes=1))
        later = run.client.call(Interface.QUERY_STATIONS_INFO, {"LastQueryTime": since, "PageNo": 1, "PageSize": 10})
        title = "增量查询（LastQueryTime）"
        if later.get("ItemSize", 0) < items or items == 0:
            run.add("last_query_time", title, CheckOutcome.PASSED, f"{since} 之后变化 {later.get('ItemSize', 0)} 条")
        else:
            run.add(
                "last_query_time",
                title,
                CheckOutcome.FAILED,
                f"LastQueryTime 为将来时间时仍返回全部 {later.get('ItemSize')} 条：增量查询未生效",
            )

    def status_and_stats(self) -> None:
        run = self.run
        if not run.station_ids:
            for name in (Interface.QUERY_STATION_STATUS, Interface.QUERY_STATION_STATS):
                run.skip(name, name, "没有可用于查询的充电站（query_stations_info 未通过或为空）")
            return
        self.query(Interface.QUERY_STATION_STATUS, {"StationIDs": run.station_ids[:5]}, PART2_LIMIT_MS)
        yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
        self.query(
            Interface.QUERY_STATION_STATS,
            {"StationID": run.station_ids[0], "StartTime": yesterday, "EndTime": yesterday},
            PART2_LIMIT_MS,
        )

    def part3(self) -> None:
        run = self.run
        if not run.connector_ids:
            for name in PART3:
                run.skip(name, name, "没有可用于查询的充电接口")
            return
        connector = run.connector_ids[0]
        self.query(
            Interface.QUERY_EQUIP_BUSINESS_POLICY, {"EquipBizSeq": _serial(), "ConnectorID": connector}, PART3_LIMIT_MS
        )
        self.query(Interface.QUERY_EQUIP_AUTH, {"EquipAuthSeq": _serial(), "ConnectorID": connector}, PART3_LIMIT_MS)

    def bad_requests(self) -> None:
        """Deliberately wrong requests get the Ret the standard gives them."""
        run = self.run
        interface = Interface.QUERY_STATIONS_INFO
        page = {"PageNo": 1, "PageSize": 1}

        def wrong_sig(body: dict[str, Any]) -> dict[str, Any]:
            body["Sig"] = ("0" if body["Sig"][0] != "0" else "1") + body["Sig"][1:]
            return body

        def bad_timestamp(body: dict[str, Any]) -> dict[str, Any]:
            # Signed again: with the Sig of the original TimeStamp, a platform that checks the Sig first rightly
            # answers 4001, and this probe is about the TimeStamp's format.
            body["TimeStamp"] = "2024-13-45"
            body["Sig"] = sign_request(run.keys.sig_secret, body["OperatorID"], body["Data"], body["TimeStamp"],
                                       body["Seq"])  # fmt: skip
            return body

        cases = [
            ("bad_sig", "错误签名 → 4001", Ret.SIGNATURE, {"token": run.token, "mangle": wrong_sig}),
            ("bad_token", "无效 token → 4002", Ret.TOKEN, {"token": "conformance-" + secrets.token_hex(8)}),
            ("bad_envelope", "参数格式错误 → 4003", Ret.PARAMETERS, {"token": run.token, "mangle": bad_timestamp}),
        ]
        for name, title, expected, options in cases:
            ret, shown, ms = run.raw(interface, page, **options)
            run.add(name, title, CheckOutcome.PASSED if ret == expected else CheckOutcome.FAILED, shown[:300], ms)
        ret, shown, ms = run.raw(interface, {"PageNo": "第一页", "PageSize": 1}, token=run.token)
        run.add(
            "bad_business",
            "业务参数错误 → 4004",
            CheckOutcome.PASSED if ret == Ret.BUSINESS else CheckOutcome.FAILED,
            shown[:300],
            ms,
        )

    def status_push(self) -> None:
        """Where the platform offers the test hook, ask it to change a status and wait for the push to arrive."""
        run, title = self.run, "状态变化推送"
        began = timezone.now()
        value, ms, error = run.timed(lambda: run.client.call(TEST_STATUS_CHANGE, {}))
        if error is not None:
            run.skip(
                "status_push",
                title,
                "平台未提供测试接口 test_status_change（规范没有让对方按请求改变状态的接口）；"
                "以运行中收到的 notification_stationStatus 为准（见运行状况）",
            )
            return
        deadline = time.monotonic() + PUSH_WAIT_SECONDS
        while time.monotonic() < deadline:
            arrived = Exchange.objects.filter(
                operator=run.operator,
                interface=Interface.NOTIFICATION_STATION_STATUS,
                direction=Direction.IN,
                ret=0,
                created__gte=began,
            ).exists()
            if arrived:
                waited = (timezone.now() - began).total_seconds()
                run.add(
                    "status_push",
                    title,
                    CheckOutcome.PASSED,
                    f"{value.get('ConnectorID')} 状态改变后 {waited:.1f} 秒内收到推送",
                    ms,
                )
                return
            time.sleep(0.2)
        run.add(
            "status_push",
            title,
            CheckOutcome.FAILED,
            f"请平台改变 {value.get('ConnectorID')} 的状态后 {PUSH_WAIT_SECONDS} 秒内"
            "没有收到 notification_stationStatus",
            ms,
        )


def conformance_run(*, operator_id: str, by=None) -> ConformanceReport:
    """Run every check against the operator's platform now and store the report."""
    operator = Operator.objects.get(pk=operator_id)
    started = timezone.now()
    run = _Run(operator)
    checks = _Checks(run)
    try:
        if checks.configured():
            checks.token_out()
            checks.token_wrong_secret()
            checks.token_in()
            if run.token is not None:
                if operator.kind == OperatorKind.OPERATOR:
                    checks.stations()
                    checks.status_and_stats()
                    checks.part3()
                checks.bad_requests()
                checks.status_push()
            else:
                run.skip("business", "业务接口", "未取得 token，业务接口无法检测")
    finally:
        if run.client is not None:
            run.client.close()
    exchanges = Exchange.objects.filter(operator=operator, direction=Direction.OUT, created__gte=started)
    failed = [c for c in run.checks if c.outcome == CheckOutcome.FAILED]
    return ConformanceReport.objects.create(
        operator=operator,
        started=started,
        finished=timezone.now(),
        passed=not failed,
        checks=[c.as_dict() for c in run.checks],
        dialects_detected=sorted({flag for c in failed for flag in c.flag.split(",") if flag}),
        exchanges=[
            {"id": e.pk, "interface": e.interface, "direction": e.direction, "ret": e.ret}
            for e in exchanges.order_by("created")[:200]
        ],
        run_by=by,
    )
