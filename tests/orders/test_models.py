"""Orders, details and tariffs: the business constraints of T/CEC 102.3."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from apps.orders.choices import StartChargeSeqStat, StopReason, custom_label
from apps.pricing.models import PolicyPeriod
from tests import factories


def _rejected_by_db(fn):
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        fn()


@pytest.fixture
def conn(db):
    op = factories.operator()
    return factories.connector(factories.equipment(factories.station(op)))


def test_order_seq_is_27_to_32_chars_and_unique(conn):
    o = factories.order(conn)
    assert len(o.start_charge_seq) == 27
    _rejected_by_db(lambda: factories.order(conn, start_charge_seq=o.start_charge_seq))
    # Beijing's bonus orders may carry up to 32 (the schema's BONUS_SEQ_MAX_LEN); 26 and 33 the database refuses.
    assert len(factories.order(conn, start_charge_seq="1234567892024010112000012345").start_charge_seq) == 28
    _rejected_by_db(lambda: factories.order(conn, start_charge_seq="123456789202401011200001234"[:26]))
    _rejected_by_db(lambda: factories.order(conn, start_charge_seq="1" * 33))
    bad = factories.order(conn)
    bad.start_charge_seq = "12345678920240101120000123"  # 26
    with pytest.raises(ValidationError) as exc:
        bad.full_clean()
    assert "start_charge_seq" in exc.value.message_dict


def test_order_constraints(conn):
    start = timezone.now()
    _rejected_by_db(lambda: factories.order(conn, start_time=start, end_time=start - timedelta(seconds=1)))
    _rejected_by_db(lambda: factories.order(conn, stop_reason=100))
    _rejected_by_db(lambda: factories.order(conn, sum_period=33))
    _rejected_by_db(lambda: factories.order(conn, start_charge_seq_stat=6))
    _rejected_by_db(lambda: factories.order(conn, charge_model=4))
    _rejected_by_db(lambda: factories.order(conn, total_money=Decimal("-0.01")))
    custom = factories.order(conn, stop_reason=57)  # 5–99 are operator-defined
    assert custom.stop_reason_label == "自定义（57）"
    assert custom_label(StopReason, 2) == "BMS停止充电"


def test_state_transitions_never_go_backwards(conn):
    o = factories.order(conn, start_charge_seq_stat=StartChargeSeqStat.CHARGING)
    assert o.can_transition_to(StartChargeSeqStat.STOPPING)
    assert o.can_transition_to(StartChargeSeqStat.FINISHED)
    assert not o.can_transition_to(StartChargeSeqStat.STARTING)
    o.start_charge_seq_stat = StartChargeSeqStat.FINISHED
    assert not o.can_transition_to(StartChargeSeqStat.CHARGING)
    assert o.can_transition_to(StartChargeSeqStat.FINISHED)  # idempotent repeat


def test_charge_detail_period(conn):
    o = factories.order(conn)
    _rejected_by_db(
        lambda: factories.ChargeDetailFactory(
            order=o, detail_start_time=o.end_time, detail_end_time=o.start_time, detail_power=Decimal("1.00")
        )
    )
    d = factories.ChargeDetailFactory(order=o, detail_power=Decimal("30.00"))
    assert list(o.details.all()) == [d]


def test_policy_versions_and_periods(conn):
    now = timezone.now()
    policy = factories.BusinessPolicyFactory(connector=conn, effective_from=now)
    _rejected_by_db(lambda: factories.BusinessPolicyFactory(connector=conn, effective_from=now))
    factories.PolicyPeriodFactory(policy=policy, start_time="000000", elec_price=Decimal("0.32"))
    _rejected_by_db(lambda: factories.PolicyPeriodFactory(policy=policy, start_time="000000"))
    _rejected_by_db(lambda: factories.PolicyPeriodFactory(policy=policy, start_time="0830"))
    _rejected_by_db(lambda: factories.PolicyPeriodFactory(policy=policy, start_time="083000", elec_price=-1))
    period = PolicyPeriod(policy=policy, start_time="250000", elec_price=1, sevice_price=1)
    with pytest.raises(ValidationError) as exc:
        period.full_clean()
    assert "start_time" in exc.value.message_dict
    newer = factories.BusinessPolicyFactory(connector=conn, effective_from=now + timedelta(days=1))
    assert conn.policies.latest() == newer
