"""Settlement: reconciliation runs and their disputes, agreements and statements."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import factory

from apps.settlement.choices import DisputeReasonChoices
from apps.settlement.models import Dispute, ReconciliationRun, SettlementAgreement, Statement

from .base import MOMENT, SHANGHAI
from .operators import OperatorFactory


class ReconciliationRunFactory(factory.django.DjangoModelFactory):
    """An empty check_charge_orders for one day of January 2024 (CheckOrderSeq: OperatorID + 18)."""

    class Meta:
        model = ReconciliationRun

    operator = factory.SubFactory(OperatorFactory)
    check_order_seq = factory.LazyAttributeSequence(lambda o, n: f"{o.operator.operator_id}{n:018d}")
    start_time = datetime(2024, 1, 1, 0, tzinfo=SHANGHAI)
    end_time = datetime(2024, 1, 1, 23, tzinfo=SHANGHAI)
    order_count = 0
    total_order_power = Decimal("0.0000")
    total_order_money = Decimal("0.00")
    received_at = MOMENT


class DisputeFactory(factory.django.DjangoModelFactory):
    """An open dispute over an order the portal does not hold (link `order=` for one it does)."""

    class Meta:
        model = Dispute

    run = factory.SubFactory(ReconciliationRunFactory)
    operator = factory.SelfAttribute("run.operator")
    start_charge_seq = factory.LazyAttributeSequence(lambda o, n: f"{o.run.operator.operator_id}{n:018d}")
    reason = DisputeReasonChoices.NOT_FOUND
    operator_power = Decimal("30.00")
    operator_money = Decimal("45.00")


class SettlementAgreementFactory(factory.django.DjangoModelFactory):
    """Monthly settlement at a 3 % commission from 2024."""

    class Meta:
        model = SettlementAgreement

    operator = factory.SubFactory(OperatorFactory)
    commission_rate = Decimal("0.0300")
    effective_from = date(2024, 1, 1)


class StatementFactory(factory.django.DjangoModelFactory):
    """A draft statement of January 2024 under the operator's agreement, with nothing in it yet."""

    class Meta:
        model = Statement

    agreement = factory.SubFactory(SettlementAgreementFactory)
    operator = factory.SelfAttribute("agreement.operator")
    period_start = date(2024, 1, 1)
    period_end = date(2024, 2, 1)
    commission_rate = factory.SelfAttribute("agreement.commission_rate")
