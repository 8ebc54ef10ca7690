"""Orders as operators report them: the order, its tariff periods, each push as it arrived, and the findings."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

import factory

from apps.orders.choices import FindingCategory, OrderInterface
from apps.orders.models import ChargeDetail, ChargeOrder, OrderFinding, OrderReport

from .base import SHANGHAI
from .stations import ConnectorFactory


class ChargeOrderFactory(factory.django.DjangoModelFactory):
    """A finished 45-minute, 30 kWh order of 45 元 on a known connector (StartChargeSeq: OperatorID + 18)."""

    class Meta:
        model = ChargeOrder

    connector = factory.SubFactory(ConnectorFactory)
    operator = factory.SelfAttribute("connector.operator")
    connector_code = factory.SelfAttribute("connector.connector_id")
    start_charge_seq = factory.LazyAttributeSequence(lambda o, n: f"{o.operator.operator_id}20240101120000{n:04d}")
    start_time = datetime(2024, 1, 1, 12, 0, tzinfo=SHANGHAI)
    end_time = datetime(2024, 1, 1, 12, 45, tzinfo=SHANGHAI)
    total_power = Decimal("30.00")
    total_elec_money = Decimal("21.00")
    total_sevice_money = Decimal("24.00")
    total_money = Decimal("45.00")
    stop_reason = 0


class ChargeDetailFactory(factory.django.DjangoModelFactory):
    """The order's whole session as one tariff period."""

    class Meta:
        model = ChargeDetail

    order = factory.SubFactory(ChargeOrderFactory)
    detail_start_time = factory.SelfAttribute("order.start_time")
    detail_end_time = factory.SelfAttribute("order.end_time")
    elec_price = Decimal("0.7000")
    sevice_price = Decimal("0.8000")
    detail_power = factory.SelfAttribute("order.total_power")
    detail_elec_money = factory.SelfAttribute("order.total_elec_money")
    detail_sevice_money = factory.SelfAttribute("order.total_sevice_money")


class OrderReportFactory(factory.django.DjangoModelFactory):
    """The first revision of the order push, confirmed."""

    class Meta:
        model = OrderReport

    order = factory.SubFactory(ChargeOrderFactory)
    interface = OrderInterface.ORDER
    revision = 1
    digest = factory.Sequence(lambda n: hashlib.sha256(f"report-{n}".encode()).hexdigest())
    payload = factory.LazyAttribute(
        lambda o: {
            "StartChargeSeq": o.order.start_charge_seq,
            "ConnectorID": o.order.connector_code,
            "TotalPower": "30.00",
        }
    )
    confirm_result = 0
    received_at = factory.LazyAttribute(lambda o: o.order.end_time)


class OrderFindingFactory(factory.django.DjangoModelFactory):
    """A money-sum inconsistency found in the order's own report (it makes the order disputed)."""

    class Meta:
        model = OrderFinding

    order = factory.SubFactory(ChargeOrderFactory)
    report = factory.SubFactory(OrderReportFactory, order=factory.SelfAttribute("..order"), confirm_result=1)
    category = FindingCategory.CONSISTENCY
    rule = "money_sum"
    message = "不符"
    disputes = True
