"""Writes of orders: an order push received, checked, stored once per content, and answered with its ConfirmResult."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.core.conf import conf
from apps.core.rows import insert_rows
from apps.pricing.models import BusinessPolicy
from apps.pricing.selectors import versions_of
from apps.protocol import dumps, parse_datetime, schema
from apps.protocol.schema import Problem
from apps.protocol.text import storable
from apps.stations.models import Connector

from . import hooks
from .choices import ChargeModel, ConfirmResult, OrderInterface, StartChargeSeqStat
from .hooks import PortalSession
from .models import ChargeDetail, ChargeOrder, OrderFinding, OrderReport
from .rules import (
    FOREIGN_CONNECTOR,
    REVISED,
    SESSION_CONNECTOR,
    UNKNOWN_CONNECTOR,
    UNKNOWN_SESSION,
    Finding,
    FindingCategory,
    Tolerances,
    charge_bound,
    charge_bound_findings,
    charge_model_findings,
    consistency_findings,
    directory_findings,
    price_findings,
    seq_length_findings,
    time_findings,
)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the portal answered an order push, and what it did with it."""

    confirm_result: int
    order: ChargeOrder
    report: OrderReport
    repeated: bool  # the same content was received before: nothing changed
    findings: tuple[Finding, ...] = ()


def tolerances() -> Tolerances:
    return Tolerances(
        money=conf().orders.money_tolerance,
        meter=conf().orders.meter_tolerance,
        duration=conf().orders.duration_tolerance_seconds,
        power_margin=conf().orders.power_margin,
        price=conf().orders.price_tolerance,
        bound_margin=conf().orders.charge_bound_margin,
    )


def clock_skew() -> dt.timedelta:
    """How far an operator's clock may run ahead of the portal's (HLHT_CLOCK_SKEW, the TimeStamp window)."""
    return conf().protocol.clock_skew


def portal_started(start_charge_seq: str) -> bool:
    """Sessions the city platform started carry its OperatorID; walk-ins carry the operator's own."""
    return start_charge_seq.startswith(conf().protocol.operator_id)


def _digest(payload: dict[str, Any]) -> str:
    # The codec's compact form with sorted keys: the same order re-sent is the same text, whatever the key order.
    # surrogatepass: a key the schema ignores may hold a lone surrogate, and it is part of the content like any text.
    return hashlib.sha256(dumps(_sorted(payload)).encode("utf-8", "surrogatepass")).hexdigest()


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _connector(operator_id: str, connector_id: str) -> tuple[Connector | None, bool]:
    """The caller's connector, or None and whether another operator has one by that ID."""
    own = (
        Connector.objects.filter(operator_id=operator_id, connector_id=connector_id)
        .select_related("station", "equipment")
        .only(*_CONNECTOR_FIELDS)
        .first()
    )
    if own is not None:
        return own, False
    return None, Connector.objects.filter(connector_id=connector_id).exists()


# What the checks read of a connector, its station and pile: a row, not three whole models.
_CONNECTOR_FIELDS = (
    "connector_id", "operator_id", "power", "removed_at", "station__station_id", "station__removed_at",
    "equipment__equipment_id",
)  # fmt: skip


def _session_or_refuse(
    operator_id: str, seq_no: str, connector_id: str, connector: Connector | None, foreign: bool
) -> PortalSession | None:
    """An order is about a session someone known started, on a connector of the caller: the portal's own session
    with this caller (its session, on its connector), or a walk-in on a connector the caller's directory lists.
    Anything else is 4004 naming the field, as the session pushes answer: the portal never confirms an order for a
    session it never had, nor one that another operator's order number or connector would make it believe in."""
    if portal_started(seq_no):
        session = hooks.portal_session(operator_id, seq_no)
        if session is None:
            message = f"StartChargeSeq（充电订单号）{seq_no} 不是市级平台在该运营商启动的充电"
            schema.raise_problems([Problem("StartChargeSeq", UNKNOWN_SESSION, message)])
        elif session.connector_id != connector_id:
            message = f"ConnectorID（充电设备接口编码）与该充电订单的接口 {session.connector_id} 不符"
            schema.raise_problems([Problem("ConnectorID", SESSION_CONNECTOR, message)])
        return session
    if connector is None:
        unknown = (UNKNOWN_CONNECTOR, "不在平台已获取的充电站信息中")
        rule, why = (FOREIGN_CONNECTOR, "属于其他运营商") if foreign else unknown
        message = f"ConnectorID（充电设备接口编码）{connector_id} {why}：运营商自行启动的充电须在其自己的充电接口上"
        schema.raise_problems([Problem("ConnectorID", rule, message)])
    return None


def _order_fields(payload: dict[str, Any], bonus: bool) -> dict[str, Any]:
    def money(name: str) -> Decimal | None:
        value = payload.get(name)
        return Decimal(value) if value is not None else None

    fields: dict[str, Any] = {
        "start_time": parse_datetime(payload["StartTime"]),
        "end_time": parse_datetime(payload["EndTime"]),
        "total_power": Decimal(payload["TotalPower"]),
        "total_money": Decimal(payload["TotalMoney"]),
        "total_elec_money": money("TotalElecMoney"),
        "total_sevice_money": money("TotalSeviceMoney"),
        "stop_reason": payload["StopReason"],
        "sum_period": payload.get("SumPeriod"),
        "start_charge_seq_stat": StartChargeSeqStat.FINISHED,
    }
    if bonus:
        fields.update(
            charge_model=payload["ChargeModel"],
            user_name=payload.get("UserName") or "",
            station_code=payload["StationID"],
            equipment_code=payload["EquipmentID"],
            connector_power=Decimal(payload["ConnectorPower"]),
            charge_last=payload["ChargeLast"],
            meter_value_start=Decimal(payload["MeterValueStart"]),
            meter_value_end=Decimal(payload["MeterValueEnd"]),
        )
    return fields


def _details(order: ChargeOrder, payload: dict[str, Any]) -> list[ChargeDetail]:
    def optional(detail: dict[str, Any], name: str) -> Decimal | None:
        value = detail.get(name)
        return Decimal(value) if value is not None else None

    return [
        ChargeDetail(
            order=order,
            detail_start_time=parse_datetime(d["DetailStartTime"]),
            detail_end_time=parse_datetime(d["DetailEndTime"]),
            elec_price=optional(d, "ElecPrice"),
            sevice_price=optional(d, "SevicePrice"),
            detail_power=Decimal(d["DetailPower"]),
            detail_elec_money=optional(d, "DetailElecMoney"),
            detail_sevice_money=optional(d, "DetailSeviceMoney"),
        )
        for d in payload.get("ChargeDetails") or []
    ]


def _check(
    payload: dict[str, Any],
    *,
    connector: Connector | None,
    foreign: bool,
    bonus: bool,
    session: PortalSession | None,
    received_at: dt.datetime,
    versions: list[BusinessPolicy],
) -> list[Finding]:
    tol = tolerances()
    findings = directory_findings(payload, connector=connector, foreign=foreign, bonus=bonus)
    findings += time_findings(payload, received_at=received_at, skew=clock_skew())
    findings += consistency_findings(payload, rated_power=connector.power if connector else None, tol=tol)
    if bonus:
        findings += charge_model_findings(payload, portal_started=portal_started(payload["StartChargeSeq"]))
        findings += seq_length_findings(payload)
    if connector is not None:
        findings += price_findings(payload, versions=versions, tol=tol)
        if session is not None:
            bound = charge_bound(start=parse_datetime(payload["StartTime"]), end=parse_datetime(payload["EndTime"]),
                                 energy=Decimal(payload["TotalPower"]), ceiling=session.ceiling, versions=versions,
                                 tol=tol)  # fmt: skip
            findings += charge_bound_findings(payload, bound=bound)
    return findings


@transaction.atomic(savepoint=False)  # inside a message's transaction a savepoint would cost two more round trips
def order_receive(
    *,
    operator_id: str,
    interface: str,
    payload: dict[str, Any],
    received_at: dt.datetime,
    timestamp: str = "",
    seq: str = "",
) -> Receipt:
    """Take one order push (its structure already valid): once per (operator, StartChargeSeq, interface, content).

    A repeat of content already received answers what it was answered and changes nothing. New content is a new
    revision: checked, its findings kept, the order's figures and details replaced by it. ConfirmResult is 1
    (争议交易) exactly when the operator's own figures disagree with each other; prices and facilities are flagged.
    """
    bonus = interface == OrderInterface.BONUS
    seq_no, connector_id = payload["StartChargeSeq"], payload["ConnectorID"]
    digest = _digest(payload)
    connector, foreign = _connector(operator_id, connector_id)
    session = _session_or_refuse(operator_id, seq_no, connector_id, connector, foreign)
    # Read once: the price checks and the portal session's charge bound (handed to order_pay) both need them.
    versions = versions_of([connector.pk]).get(connector.pk, []) if connector is not None else []

    def check() -> list[Finding]:
        return _check(payload, connector=connector, foreign=foreign, bonus=bonus, session=session,
                      received_at=received_at, versions=versions)  # fmt: skip

    # The order row is the lock: every push of one order waits for the one before it, created or not.
    order = ChargeOrder.objects.select_for_update().filter(operator_id=operator_id, start_charge_seq=seq_no).first()
    created = False
    if order is None:
        # A new order is checked before it is written, so that it is written once, with its answer.
        findings = check()
        confirm = _confirm(findings)
        order = _create_order(operator_id, seq_no, connector, connector_id, payload, bonus,
                              answer=_answer_fields(bonus, confirm, received_at))  # fmt: skip
        created = order is not None
        if order is None:  # the same order pushed twice at once: the other message's row, once it committed
            order = ChargeOrder.objects.select_for_update().get(operator_id=operator_id, start_charge_seq=seq_no)
    previous = None
    if not created:
        seen = OrderReport.objects.filter(order=order, interface=interface, digest=digest).first()
        if seen is not None:
            OrderReport.objects.filter(pk=seen.pk).update(repeats=seen.repeats + 1)
            return Receipt(seen.confirm_result, order, seen, repeated=True)
        findings = check()
        previous = OrderReport.objects.filter(order=order, interface=interface).order_by("-revision").first()
        if previous is not None and previous.confirm_result == ConfirmResult.OK:
            message = f"该订单第{previous.revision}版已确认，运营商又推送了不同的内容"
            findings.append(Finding(FindingCategory.SESSION, REVISED, "", message))
        confirm = _confirm(findings)
    report = OrderReport.objects.create(
        order=order,
        interface=interface,
        revision=(previous.revision + 1) if previous else 1,
        digest=digest,
        payload=storable(payload),
        confirm_result=confirm,
        timestamp=timestamp,
        seq=seq,
        received_at=received_at,
    )
    OrderFinding.objects.bulk_create(
        OrderFinding(
            order=order,
            report=report,
            category=f.category,
            rule=f.rule,
            path=f.path[:120],
            message=f.message,
            disputes=f.disputes,
        )
        for f in findings
    )
    _apply(order, payload, connector, connector_id, bonus, confirm, received_at, created=created)
    if session is not None:  # the portal's own session: its driver pays, in this transaction (charging's hook)
        hooks.order_pay(order=order, interface=interface, revision=report.revision, ceiling=session.ceiling,
                        versions=versions)  # fmt: skip
    return Receipt(confirm, order, report, repeated=False, findings=tuple(findings))


def _confirm(findings: list[Finding]) -> int:
    return ConfirmResult.DISPUTED if any(f.disputes for f in findings) else ConfirmResult.OK


def _answer_fields(bonus: bool, confirm: int, received_at: dt.datetime) -> dict[str, Any]:
    """What the order keeps of the answer it was given, per push."""
    if bonus:
        return {"bonus_confirm_result": confirm, "bonus_received_at": received_at}
    return {"confirm_result": confirm, "order_received_at": received_at}


def _create_order(
    operator_id: str,
    seq_no: str,
    connector: Connector | None,
    connector_id: str,
    payload: dict[str, Any],
    bonus: bool,
    *,
    answer: dict[str, Any],
) -> ChargeOrder | None:
    """The new order, written and so locked, in one statement; None when a push of the same order created it a
    moment before (INSERT … ON CONFLICT DO NOTHING: no savepoint to recover from a unique violation)."""
    fields = {
        "charge_model": ChargeModel.CITY_PLATFORM if portal_started(seq_no) else ChargeModel.UNKNOWN,
        **_order_fields(payload, bonus),  # the bonus push says how the session was started
        **answer,
    }
    order = ChargeOrder(
        operator_id=operator_id, start_charge_seq=seq_no, connector=connector, connector_code=connector_id, **fields
    )
    row = {f.attname: f.pre_save(order, add=True) for f in _ORDER_COLUMNS}
    inserted = insert_rows(ChargeOrder, [row], conflict=_ORDER_KEY, returning=True)
    if not inserted:
        return None
    order.pk, order._state.adding = inserted[0], False
    return order


_ORDER_COLUMNS = tuple(f for f in ChargeOrder._meta.concrete_fields if not f.primary_key)
_ORDER_KEY = ("operator", "start_charge_seq")


def _apply(
    order: ChargeOrder,
    payload: dict[str, Any],
    connector: Connector | None,
    connector_id: str,
    bonus: bool,
    confirm: int,
    received_at: dt.datetime,
    *,
    created: bool,
) -> None:
    """The order's figures follow its latest revision; the standard push's details are the order's details. A new
    order was written with its figures and its answer: only its details are."""
    if not created:
        fields = _answer_fields(bonus, confirm, received_at)
        fields |= {**_order_fields(payload, bonus), "connector": connector, "connector_code": connector_id}
        if bonus and order.order_received_at is not None:
            # The standard push's figures stay the order's own; the bonus push adds only its own fields.
            fields = {k: v for k, v in fields.items() if k not in _STANDARD_FIELDS}
        for name, value in fields.items():
            setattr(order, name, value)
        order.save(update_fields=[*fields, "updated"])
    if not bonus or order.order_received_at is None:
        if not created:
            ChargeDetail.objects.filter(order=order).delete()
        ChargeDetail.objects.bulk_create(_details(order, payload))


_STANDARD_FIELDS = frozenset(
    {
        "start_time",
        "end_time",
        "total_power",
        "total_money",
        "total_elec_money",
        "total_sevice_money",
        "stop_reason",
        "sum_period",
        "connector",
        "connector_code",
    }
)
