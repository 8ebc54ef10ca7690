"""Writes of settlement: reconcile an operator's order list with the portal's orders, in set-based SQL, and resolve
the disputes it finds."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import zlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from apps.core.conf import conf
from apps.core.exceptions import Conflict, ValidationFailed
from apps.core.history import history_note
from apps.orders.models import ChargeOrder
from apps.protocol import parse_datetime
from apps.protocol.text import storable

from .choices import NOT_LISTED, DisputeReasonChoices, DisputeState, Resolution
from .models import Dispute, ReconciliationRun

CENT = Decimal("0.01")
TEMP = "settlement_listed"  # per connection: concurrent reconciliations never see each other's lists
ANSWER_KEPT = 1000  # disputes kept in the run's copy of its answer


def _cents(value: Any) -> int:
    return int((Decimal(value) * 100).to_integral_value())


def _load_listed(orders: Iterable[dict[str, Any]]) -> None:
    """The operator's list into a temporary table: COPY on PostgreSQL, one executemany elsewhere."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TEMP}")
        if vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMP TABLE {TEMP} (seq varchar(27) PRIMARY KEY, power numeric(12,2), money numeric(12,2), "
                "power_c bigint, money_c bigint)"
            )
            buffer = io.StringIO()
            buffer.writelines(
                f"{o['StartChargeSeq']}\t{o['TotalPower']}\t{o['TotalMoney']}\t"
                f"{_cents(o['TotalPower'])}\t{_cents(o['TotalMoney'])}\n"
                for o in orders
            )
            buffer.seek(0)
            cursor.cursor.copy_expert(f"COPY {TEMP} (seq, power, money, power_c, money_c) FROM STDIN", buffer)
            cursor.execute(f"ANALYZE {TEMP}")
        else:
            cursor.execute(
                f"CREATE TEMP TABLE {TEMP} (seq text PRIMARY KEY, power decimal, money decimal, "
                "power_c integer, money_c integer)"
            )
            cursor.executemany(
                f"INSERT INTO {TEMP} (seq, power, money, power_c, money_c) VALUES (%s, %s, %s, %s, %s)",  # noqa: S608
                [
                    (
                        o["StartChargeSeq"],
                        str(o["TotalPower"]),
                        str(o["TotalMoney"]),
                        _cents(o["TotalPower"]),
                        _cents(o["TotalMoney"]),
                    )
                    for o in orders
                ],
            )


def _insert_disputes(run: ReconciliationRun, start: dt.datetime, end: dt.datetime) -> None:
    """Both kinds of dispute, each one INSERT … SELECT: what the operator listed and the portal holds differently or
    not at all, and what the portal holds (started through it, ended in the period) that the list left out."""
    now = timezone.now()
    orders, disputes = ChargeOrder._meta.db_table, Dispute._meta.db_table
    cents = "CAST(ROUND({} * 100) AS BIGINT)"
    columns = (
        "created, updated, run_id, operator_id, start_charge_seq, order_id, reason, operator_power, operator_money, "
        "portal_power, portal_money, state, resolution, comment"
    )
    with connection.cursor() as cursor:
        # Only table and column names are formatted in (the module's own); every value is a parameter.
        cursor.execute(
            f"""
            INSERT INTO {disputes} ({columns})
            SELECT %s, %s, %s, %s, l.seq, o.id,
                   CASE WHEN o.id IS NULL THEN %s
                        WHEN o.total_money IS NULL OR {cents.format("o.total_money")} <> l.money_c THEN %s
                        ELSE %s END,
                   l.power, l.money, o.total_power, o.total_money, %s, '', ''
            FROM {TEMP} l
            LEFT JOIN {orders} o ON o.operator_id = %s AND o.start_charge_seq = l.seq
            WHERE o.id IS NULL
               OR o.total_money IS NULL OR o.total_power IS NULL
               OR {cents.format("o.total_money")} <> l.money_c
               OR {cents.format("o.total_power")} <> l.power_c
            """,  # noqa: S608
            [
                now,
                now,
                run.pk,
                run.operator_id,
                DisputeReasonChoices.NOT_FOUND,
                DisputeReasonChoices.WRONG_MONEY,
                DisputeReasonChoices.WRONG_ENERGY,
                DisputeState.OPEN,
                run.operator_id,
            ],
        )
        # The portal's side is portal_orders() itself, compiled by the ORM (one definition, datetimes adapted).
        held_sql, held_params = portal_orders(run.operator_id, start, end).values("id").query.sql_with_params()
        cursor.execute(
            f"""
            INSERT INTO {disputes} ({columns})
            SELECT %s, %s, %s, %s, o.start_charge_seq, o.id, %s, NULL, NULL, o.total_power, o.total_money, %s, '', ''
            FROM {orders} o
            WHERE o.id IN ({held_sql})
              AND NOT EXISTS (SELECT 1 FROM {TEMP} l WHERE l.seq = o.start_charge_seq)
            """,  # noqa: S608
            [now, now, run.pk, run.operator_id, NOT_LISTED, DisputeState.OPEN, *held_params],
        )
        cursor.execute(f"DROP TABLE IF EXISTS {TEMP}")


def portal_orders(operator_id: str, start: dt.datetime, end: dt.datetime) -> QuerySet[ChargeOrder]:
    """The orders the portal must find in a reconciliation of the period: started through it, ended in the period."""
    return ChargeOrder.objects.filter(
        operator_id=operator_id,
        end_time__gte=start,
        end_time__lte=end,
        start_charge_seq__startswith=conf().protocol.operator_id,
    )


def _answer(run: ReconciliationRun, payload: dict[str, Any]) -> dict[str, Any]:
    rows = []
    power = money = Decimal(0)
    for dispute in Dispute.objects.filter(run=run).order_by("start_charge_seq").iterator(chunk_size=5000):
        # The receiver's view (§4.4); for an order it never received, the figures in dispute are the operator's.
        theirs = dispute.reason == DisputeReasonChoices.NOT_FOUND
        d_power = (dispute.operator_power if theirs else dispute.portal_power) or Decimal("0.00")
        d_money = (dispute.operator_money if theirs else dispute.portal_money) or Decimal("0.00")
        power += d_power
        money += d_money
        rows.append(
            {
                "StartChargeSeq": dispute.start_charge_seq,
                "TotalPower": d_power.quantize(CENT),
                "TotalMoney": d_money.quantize(CENT),
                "DisputeReason": dispute.reason,
            }
        )
    return {
        "CheckOrderSeq": payload["CheckOrderSeq"],
        "StartTime": payload["StartTime"],
        "EndTime": payload["EndTime"],
        "TotalDisputeOrder": len(rows),
        "TotalDisputePower": power.quantize(Decimal("0.0001")),
        "TotalDisputeMoney": money.quantize(CENT),
        "DisputeOrders": rows,
    }


@transaction.atomic
def orders_reconcile(*, operator_id: str, payload: dict[str, Any], received_at: dt.datetime) -> ReconciliationRun:
    """check_charge_orders: compare the operator's list for the period with the portal's orders; one run per
    CheckOrderSeq (a repeat gets the stored answer), one dispute row per order in disagreement."""
    started = time.perf_counter()
    existing = ReconciliationRun.objects.filter(operator_id=operator_id, check_order_seq=payload["CheckOrderSeq"])
    if run := existing.first():
        return run
    start, end = parse_datetime(payload["StartTime"]), parse_datetime(payload["EndTime"])
    listed = payload["ChargeOrders"]
    run = ReconciliationRun.objects.create(
        operator_id=operator_id,
        # Decimals as their text: every digit the operator sent is kept (level 1: most of the saving, little time).
        request_data=zlib.compress(json.dumps(payload, default=str, separators=(",", ":")).encode(), 1),
        check_order_seq=payload["CheckOrderSeq"],
        start_time=start,
        end_time=end,
        order_count=payload["OrderCount"],
        total_order_power=Decimal(payload["TotalOrderPower"]),
        total_order_money=Decimal(payload["TotalOrderMoney"]),
        received_at=received_at,
    )
    _load_listed(listed)
    _insert_disputes(run, start, end)
    counts = dict.fromkeys(DisputeReasonChoices.values, 0)
    for reason, n in _count_by_reason(run):
        counts[reason] = n
    listed_disputes = sum(n for reason, n in counts.items() if reason != NOT_LISTED)
    answer = _answer(run, payload)
    run.portal_order_count = portal_orders(operator_id, start, end).count()
    run.matched_count = len(listed) - listed_disputes
    run.dispute_count = sum(counts.values())
    run.missing_at_portal_count = counts[DisputeReasonChoices.NOT_FOUND]
    run.missing_at_operator_count = counts[NOT_LISTED]
    run.total_dispute_power = answer["TotalDisputePower"]
    run.total_dispute_money = answer["TotalDisputeMoney"]
    # Kept for the admin (the dispute rows are the full record): the answer's totals and its first disputes.
    run.answer = storable({**answer, "DisputeOrders": answer["DisputeOrders"][:ANSWER_KEPT]})
    run.duration_ms = (time.perf_counter() - started) * 1000
    run.save()
    return run


def _count_by_reason(run: ReconciliationRun) -> QuerySet[Dispute, tuple[Any, ...]]:
    return Dispute.objects.filter(run=run).order_by().values_list("reason").annotate(n=Count("pk"))


def run_answer(run: ReconciliationRun, payload: dict[str, Any]) -> dict[str, Any]:
    """The check_charge_orders answer of a run, from its dispute rows (the same for a repeat)."""
    return _answer(run, payload)


@transaction.atomic
def dispute_resolve(*, dispute: Dispute, resolution: str, comment: str, user: User) -> Dispute:
    """Settle a dispute on one side's figures (or write it off), with a comment; the change is in its history."""
    dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if dispute.state != DisputeState.OPEN:
        raise Conflict("该争议交易已处理，不能再次处理")
    if not dispute.history.exists():
        # Disputes are written in bulk by the reconciliation (no history then): the first change records the state
        # it started from, so the history always shows before and after.
        Dispute.history.bulk_history_create(
            [dispute], default_date=dispute.created, default_change_reason="对账发现的争议"
        )
    if resolution not in Resolution.values:
        raise ValidationFailed("处理结果无效", field="resolution")
    if not comment or not comment.strip():
        raise ValidationFailed("请填写处理说明", field="comment")
    if resolution == Resolution.OPERATOR and dispute.operator_money is None:
        raise ValidationFailed("运营商对账单未列出该订单，没有运营商数据可采用", field="resolution")
    if resolution == Resolution.PORTAL and dispute.portal_money is None:
        raise ValidationFailed("平台没有该订单，没有平台数据可采用", field="resolution")
    figures = {
        Resolution.OPERATOR: (dispute.operator_power, dispute.operator_money),
        Resolution.PORTAL: (dispute.portal_power, dispute.portal_money),
        Resolution.WRITE_OFF: (Decimal("0.00"), Decimal("0.00")),
    }[Resolution(resolution)]
    dispute.settled_power, dispute.settled_money = figures
    dispute.state, dispute.resolution, dispute.comment = DisputeState.RESOLVED, resolution, comment.strip()
    dispute.resolved_by, dispute.resolved_at = user, timezone.now()
    history_note(dispute, dispute.comment[:100], user=user)  # names who, even outside a request
    dispute.save()
    return dispute
