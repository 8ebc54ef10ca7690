"""Settlement statements (part 1 §5.3): per operator and agreed period, what the city platform owes for the sessions
it started and its drivers paid for, less the agreed commission; draft → confirmed → paid, each step audited."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from apps.core.exceptions import Conflict, ValidationFailed
from apps.operators.models import Operator
from apps.orders.models import ChargeOrder
from apps.protocol import CST

from .choices import STATEMENT_TRANSITIONS, DisputeState, SettlementPeriod, StatementState
from .models import Dispute, SettlementAgreement, Statement

CENT = Decimal("0.01")


def period_of(day: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """The settlement period holding `day`: [start, end) — a calendar month, or a week from Monday."""
    if period == SettlementPeriod.WEEK:
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=7)
    start = day.replace(day=1)
    return start, (start + dt.timedelta(days=32)).replace(day=1)


def agreement_on(operator_id: str, day: dt.date) -> SettlementAgreement | None:
    return (
        SettlementAgreement.objects.filter(operator_id=operator_id, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=day))
        .order_by("-effective_from")
        .first()
    )


def _figures(operator_id: str, start: dt.date, end: dt.date) -> dict[str, Decimal | int]:
    """The orders of sessions the portal started on the operator's chargers (the ones its drivers paid for) that
    ended in [start, end) (Beijing days), summed in the database. The session, not the portal's prefix on
    StartChargeSeq, decides: the operator writes that field, and an order no session stands behind was never the
    city's to pay."""
    since = dt.datetime.combine(start, dt.time(), CST)
    until = dt.datetime.combine(end, dt.time(), CST)
    orders = ChargeOrder.objects.filter(
        operator_id=operator_id,
        session__isnull=False,
        end_time__gte=since,
        end_time__lt=until,
    )
    sums = orders.aggregate(
        n=Count("id"),
        power=Sum("total_power"),
        elec=Sum("total_elec_money"),
        service=Sum("total_sevice_money"),
        money=Sum("total_money"),
    )
    disputes = Dispute.objects.filter(
        operator_id=operator_id, state=DisputeState.OPEN, run__start_time__lt=until, run__end_time__gte=since
    ).count()
    return {
        "order_count": sums["n"],
        "total_power": sums["power"] or Decimal(0),
        "elec_money": sums["elec"] or Decimal(0),
        "sevice_money": sums["service"] or Decimal(0),
        "total_money": sums["money"] or Decimal(0),
        "disputes_open": disputes,
    }


@transaction.atomic
def statement_generate(*, operator_id: str, day: dt.date) -> Statement:
    """The statement of the period holding `day`, made or refreshed while it is a draft (a confirmed or paid one is
    returned as it stands: its figures are what was agreed)."""
    agreement = agreement_on(operator_id, day)
    if agreement is None:
        raise ValidationFailed(f"运营商 {operator_id} 在 {day} 没有生效的结算协议", field="agreement")
    start, end = period_of(day, agreement.period)
    existing = (
        Statement.objects.select_for_update()
        .filter(operator_id=operator_id, period_start=start, period_end=end)
        .first()
    )
    if existing is not None and existing.state != StatementState.DRAFT:
        return existing
    figures = _figures(operator_id, start, end)
    commission = (figures["total_money"] * agreement.commission_rate).quantize(CENT, rounding=ROUND_HALF_UP)
    values = {
        **figures,
        "agreement": agreement,
        "commission_rate": agreement.commission_rate,
        "commission": commission,
        "net_payable": figures["total_money"] - commission,
    }
    if existing is None:
        return Statement.objects.create(operator_id=operator_id, period_start=start, period_end=end, **values)
    changed = [name for name, value in values.items() if getattr(existing, name) != value]
    for name in changed:
        setattr(existing, name, values[name])
    if changed:
        existing.save(update_fields=[*changed, "updated"])
    return existing


def statements_generate(*, today: dt.date | None = None) -> list[Statement]:
    """What the scheduled task does each night: for every operator with an agreement, the statement of the period
    that ended yesterday (or before) is made if missing, and the current period's draft is refreshed."""
    today = today or timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    made = []
    for operator_id in Operator.objects.filter(agreements__isnull=False).distinct().values_list("pk", flat=True):
        for day in {yesterday, today}:
            if agreement_on(operator_id, day) is not None:
                made.append(statement_generate(operator_id=operator_id, day=day))
    return made


def _advance(statement: Statement, to: str, **fields) -> Statement:
    statement = Statement.objects.select_for_update().get(pk=statement.pk)
    if to not in STATEMENT_TRANSITIONS[statement.state]:
        raise Conflict(f"结算单{statement.get_state_display()}，不能改为{StatementState(to).label}")
    statement.state = to
    for name, value in fields.items():
        setattr(statement, name, value)
    statement.save(update_fields=["state", *fields, "updated"])
    return statement


@transaction.atomic
def statement_confirm(*, statement: Statement, user) -> Statement:
    """Both sides agree the figures; the period's figures are frozen from now on."""
    if statement.period_end > timezone.localdate():
        raise Conflict("结算期尚未结束，不能确认")
    return _advance(statement, StatementState.CONFIRMED, confirmed_by=user, confirmed_at=timezone.now())


@transaction.atomic
def statement_pay(*, statement: Statement, user, reference: str) -> Statement:
    """The city platform paid the operator the net amount; the bank's reference is kept."""
    if not reference.strip():
        raise ValidationFailed("请填写付款凭证号", field="payment_reference")
    return _advance(
        statement, StatementState.PAID, paid_by=user, paid_at=timezone.now(), payment_reference=reference.strip()[:64]
    )
