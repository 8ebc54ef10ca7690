"""Order pushes through the real pipeline: the spec's answer, stored once, disputes with reasons, price findings,
unknown facilities flagged, revisions after a dispute, Beijing's bonus push."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from apps.interconnect.models import Exchange, RejectedRecord
from apps.operators.models import Operator
from apps.orders.models import ChargeDetail, ChargeOrder, OrderFinding, OrderReport
from apps.protocol import CST, Ret, schema
from apps.protocol.names import Interface
from tests import factories
from tests.caller import OPERATOR_ID

from .support import PORTAL, bonus, directory, order, seq, started

pytestmark = pytest.mark.django_db
ORDER, BONUS = Interface.NOTIFICATION_CHARGE_ORDER_INFO, Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS


@pytest.fixture
def operator(caller):
    caller.login()
    directory()
    return caller


def rules(order_row: ChargeOrder) -> set[str]:
    return set(OrderFinding.objects.filter(order=order_row).values_list("rule", flat=True))


def test_a_consistent_order_is_confirmed_with_exactly_the_spec_answer(operator):
    payload = order()
    answer = operator.call(ORDER, payload)
    assert answer.ret == Ret.OK
    assert answer.data == {"StartChargeSeq": payload["StartChargeSeq"], "ConnectorID": "C1", "ConfirmResult": 0}
    assert schema.validate(answer.data, schema.NOTIFICATION_CHARGE_ORDER_INFO_RESPONSE) == []
    row = ChargeOrder.objects.get()
    assert (row.connector.connector_id, row.total_power, row.total_money) == (
        "C1",
        Decimal("30.00"),
        payload["TotalMoney"],
    )
    assert row.confirm_result == 0 and row.order_received_at is not None and row.end_time < row.order_received_at
    assert ChargeDetail.objects.filter(order=row).count() == 2  # 09:30–10:00 flat, 10:00–10:30 peak
    assert rules(row) == set()  # the prices are the declared policy's


def test_a_repeat_answers_the_same_and_changes_nothing(operator):
    payload = order()
    first = operator.call(ORDER, payload)
    row = ChargeOrder.objects.get()
    before = (row.updated, list(ChargeDetail.objects.values_list("pk", flat=True)))
    second = operator.call(ORDER, {**payload})  # the same content, a new envelope
    assert second.data == first.data
    row.refresh_from_db()
    assert (row.updated, list(ChargeDetail.objects.values_list("pk", flat=True))) == before
    report = OrderReport.objects.get()
    assert (report.revision, report.repeats) == (1, 1)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"TotalMoney": Decimal("99.99")}, "money_sum"),
        ({"SumPeriod": 5}, "sum_period"),
        ({"TotalPower": Decimal("31.00")}, "detail_power_sum"),
        ({"TotalElecMoney": Decimal("1.00"), "TotalMoney": Decimal("1.00") + Decimal("24.00")}, "detail_elec_sum"),
        ({"TotalPower": Decimal("300.00")}, "energy_plausible"),
    ],
)
def test_figures_that_disagree_with_each_other_dispute_the_order_with_the_reason(operator, change, rule):
    payload = order()
    payload.update(change)
    answer = operator.call(ORDER, payload)
    assert answer.ret == Ret.OK and answer.data["ConfirmResult"] == 1
    row = ChargeOrder.objects.get()
    finding = OrderFinding.objects.get(order=row, rule=rule)
    assert finding.disputes and finding.category == "consistency" and finding.message
    assert row.confirm_result == 1 and row.disputed


def test_a_detail_whose_money_is_not_its_energy_times_its_own_price_is_a_dispute(operator):
    payload = order()
    payload["ChargeDetails"][0]["DetailElecMoney"] += Decimal("0.50")
    payload["TotalElecMoney"] += Decimal("0.50")
    payload["TotalMoney"] += Decimal("0.50")
    assert operator.call(ORDER, payload).data["ConfirmResult"] == 1
    assert "detail_money" in rules(ChargeOrder.objects.get())


def test_a_price_that_is_not_the_declared_policy_is_flagged_but_confirmed(operator):
    payload = order()
    for detail in payload["ChargeDetails"]:  # the operator billed 1.5000 throughout, consistently with itself
        detail["ElecPrice"] = Decimal("1.5000")
        detail["DetailElecMoney"] = (detail["DetailPower"] * Decimal("1.5")).quantize(Decimal("0.01"))
    payload["TotalElecMoney"] = sum(d["DetailElecMoney"] for d in payload["ChargeDetails"])
    payload["TotalMoney"] = payload["TotalElecMoney"] + payload["TotalSeviceMoney"]
    assert operator.call(ORDER, payload).data["ConfirmResult"] == 0
    row = ChargeOrder.objects.get()
    findings = OrderFinding.objects.filter(order=row)
    assert {f.rule for f in findings} == {"price_declared", "price_money"}
    assert all(f.category == "price" and not f.disputes for f in findings)
    assert any("1.1802" in f.message for f in findings)  # names the declared peak price


def test_the_price_tolerance_is_a_setting(operator, settings):
    payload = order()
    detail = payload["ChargeDetails"][0]
    detail["DetailElecMoney"] += Decimal("0.03")
    detail["ElecPrice"] = None  # no stated price: only the money is compared with the policy
    del detail["ElecPrice"]
    payload["TotalElecMoney"] += Decimal("0.03")
    payload["TotalMoney"] += Decimal("0.03")
    settings.HLHT_PRICE_TOLERANCE = "0.05"
    operator.call(ORDER, payload)
    assert "price_money" not in rules(ChargeOrder.objects.get())
    settings.HLHT_PRICE_TOLERANCE = "0.01"
    operator.call(ORDER, {**payload, "StartChargeSeq": seq()})
    assert "price_money" in rules(ChargeOrder.objects.latest("created"))


def test_a_walk_in_on_a_connector_the_callers_directory_does_not_list_is_4004_naming_it(operator):
    number = seq()
    answer = operator.call(ORDER, order(connector="NOT-LISTED", number=number))
    assert answer.ret == Ret.BUSINESS and "ConnectorID" in answer.envelope.msg and "NOT-LISTED" in answer.envelope.msg
    assert not ChargeOrder.objects.exists()
    record = RejectedRecord.objects.get()
    assert (record.rules, record.record_key) == (["unknown_connector"], number)


def test_a_walk_in_on_another_operators_connector_is_4004_naming_it(operator):
    other = factories.operator("MA59CU773")
    factories.connector(factories.equipment(factories.station(other, "X1"), "XE1"), "THEIRS")
    for interface, payload in ((ORDER, order(connector="THEIRS")), (BONUS, bonus(order(connector="THEIRS")))):
        answer = operator.call(interface, payload)
        assert answer.ret == Ret.BUSINESS and "ConnectorID" in answer.envelope.msg
        assert "其他运营商" in answer.envelope.msg
    assert not ChargeOrder.objects.exists()
    assert list(RejectedRecord.objects.values_list("rules", flat=True)) == [["foreign_connector"]] * 2


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("123456789" + "2026120100001", "27"),  # too short
        ("MA59CU773" + "202612010000000001", "开头"),  # another operator's prefix
        ("12345678920261201000000000", "27"),
    ],
)
def test_an_order_number_that_is_not_its_creators_27_characters_is_4004(operator, number, why):
    answer = operator.call(ORDER, order(number=number))
    assert answer.ret == Ret.BUSINESS and "StartChargeSeq" in answer.envelope.msg and why in answer.envelope.msg
    assert not ChargeOrder.objects.exists()
    record = RejectedRecord.objects.get()
    assert record.interface == ORDER and record.rules in (["fixed_len"], ["format"]) and record.record_key == number


def test_walk_in_and_platform_started_orders_are_both_kept(operator):
    walk_in, portal = order(number=seq()), order(number=started())
    assert operator.call(ORDER, walk_in).data["ConfirmResult"] == 0
    assert operator.call(ORDER, portal).data["ConfirmResult"] == 0
    by_seq = {o.start_charge_seq: o for o in ChargeOrder.objects.all()}
    assert by_seq[portal["StartChargeSeq"]].charge_model == 1  # 市级平台启动
    assert by_seq[walk_in["StartChargeSeq"]].charge_model == 0  # unknown until the bonus push says


@pytest.mark.parametrize("interface", [ORDER, BONUS])
def test_an_order_number_of_the_portals_that_it_never_started_is_4004_and_never_confirmed(operator, interface):
    number = seq(PORTAL)  # the portal's prefix, but no session of the portal's stands behind it
    payload = order(number=number) if interface == ORDER else bonus(order(number=number))
    answer = operator.call(interface, payload)
    assert answer.ret == Ret.BUSINESS and "StartChargeSeq" in answer.envelope.msg and number in answer.envelope.msg
    assert not ChargeOrder.objects.exists()
    record = RejectedRecord.objects.get()
    assert (record.interface, record.rules, record.record_key) == (interface, ["unknown_session"], number)


def test_another_operators_portal_session_cannot_be_claimed(operator):
    """The seq the portal issued for a session at operator B, pushed by A (on A's own connector): refused, and B's
    session still has no order; B's own push of it is confirmed and pays."""
    other = factories.operator("MA59CU773")
    factories.connector(factories.equipment(factories.station(other, "X1"), "XE1"), "XC1")
    theirs = started("XC1", operator_id=other.pk)
    answer = operator.call(ORDER, order(number=theirs))
    assert answer.ret == Ret.BUSINESS and "StartChargeSeq" in answer.envelope.msg
    answer = operator.call(ORDER, order(number=theirs, connector="XC1"))  # naming B's connector does not help
    assert answer.ret == Ret.BUSINESS and "StartChargeSeq" in answer.envelope.msg
    assert not ChargeOrder.objects.exists()


def test_a_portal_session_pushed_on_another_connector_is_4004_naming_the_connector(operator):
    factories.connector(factories.equipment(factories.station(Operator.objects.get(pk=OPERATOR_ID), "S2"), "E2"), "C2")
    number = started("C1")
    answer = operator.call(ORDER, order(number=number, connector="C2"))
    assert answer.ret == Ret.BUSINESS and "ConnectorID" in answer.envelope.msg and "C1" in answer.envelope.msg
    assert not ChargeOrder.objects.exists()
    assert RejectedRecord.objects.get().rules == ["session_connector"]


def test_a_corrected_repush_after_a_dispute_is_a_new_revision_with_the_old_one_kept(operator):
    good = order()
    bad = {**good, "TotalMoney": good["TotalMoney"] + Decimal("5.00")}
    assert operator.call(ORDER, bad).data["ConfirmResult"] == 1
    assert operator.call(ORDER, good).data["ConfirmResult"] == 0
    row = ChargeOrder.objects.get()
    assert row.total_money == good["TotalMoney"] and row.confirm_result == 0
    reports = list(OrderReport.objects.filter(order=row).order_by("revision"))
    assert [(r.revision, r.confirm_result) for r in reports] == [(1, 1), (2, 0)]
    assert Decimal(reports[0].payload["TotalMoney"]) == bad["TotalMoney"]  # the disputed version is still there
    assert OrderFinding.objects.filter(report=reports[0], rule="money_sum").exists()
    assert not OrderFinding.objects.filter(report=reports[1]).exists()


def test_changing_a_confirmed_order_is_noted(operator):
    payload = order()
    operator.call(ORDER, payload)
    changed = {**payload, "StopReason": 0}
    assert operator.call(ORDER, changed).data["ConfirmResult"] == 0
    assert "revised_after_confirmation" in rules(ChargeOrder.objects.get())


def test_the_bonus_push_checks_the_meter_the_duration_and_the_pile(operator):
    payload = bonus(order(number=started()))
    answer = operator.call(BONUS, payload)
    assert answer.data == {"StartChargeSeq": payload["StartChargeSeq"], "ConnectorID": "C1", "ConfirmResult": 0}
    row = ChargeOrder.objects.get()
    assert (row.station_code, row.equipment_code, row.meter_value_end) == ("S1", "E1", Decimal("1030.00"))
    assert row.bonus_confirm_result == 0 and row.bonus_received_at and row.order_received_at is None
    assert row.charge_model == 1 and row.user_name == "张三丰"
    journal = Exchange.objects.filter(interface=BONUS).latest("created")
    assert journal.request["UserName"] == "张**"  # the customer's name is masked in the journal


@pytest.mark.parametrize(
    ("change", "rule", "disputes"),
    [
        ({"MeterValueEnd": Decimal("1040.00")}, "meter_delta", True),
        ({"ChargeLast": 1200}, "charge_last", True),
        ({"ConnectorPower": Decimal("7.0")}, "energy_plausible", True),
        ({"StationID": "S9"}, "station_mismatch", False),
        ({"EquipmentID": "E9"}, "equipment_mismatch", False),
        ({"ChargeModel": 2}, "charge_model", False),
    ],
)
def test_bonus_figures(operator, change, rule, disputes):
    answer = operator.call(BONUS, bonus(order(number=started()), **change))
    assert answer.data["ConfirmResult"] == (1 if disputes else 0)
    finding = OrderFinding.objects.get(rule=rule)
    assert finding.disputes is disputes


def test_the_bonus_push_after_the_order_adds_its_fields_and_keeps_the_orders_figures(operator):
    payload = order()
    operator.call(ORDER, payload)
    assert operator.call(BONUS, bonus(payload, TotalPower=payload["TotalPower"])).data["ConfirmResult"] == 0
    row = ChargeOrder.objects.get()
    assert row.confirm_result == 0 and row.bonus_confirm_result == 0
    assert row.charge_model == 3 and row.meter_value_start == Decimal("1000.00")
    assert OrderReport.objects.filter(order=row).count() == 2  # one per interface


def test_each_push_keeps_its_arrival_beside_the_orders_end(operator):
    payload = order(start=datetime(2026, 12, 1, 9, 30, tzinfo=CST))
    operator.call(ORDER, payload)
    row = ChargeOrder.objects.get()
    report = OrderReport.objects.get()
    assert report.received_at == row.order_received_at
    assert row.end_time == datetime(2026, 12, 1, 10, 30, tzinfo=CST)


def test_a_consumer_platform_may_not_push_orders(client, provisioned):
    from apps.operators.models import Operator
    from tests.caller import Caller, keyset

    Operator.objects.filter(pk=OPERATOR_ID).update(kind="consumer")
    caller = Caller(client=client, operator_id=OPERATOR_ID, keys=keyset(provisioned["inbound"]))
    caller.login()
    assert caller.call(ORDER, order()).ret == Ret.PARAMETERS


@pytest.mark.django_db(transaction=True)
def test_the_same_order_pushed_twice_at_once_is_stored_once(provisioned):
    from django.utils import timezone

    from apps.orders.choices import OrderInterface
    from apps.orders.services import order_receive

    directory()
    payload = order()
    barrier, results, errors = threading.Barrier(3), [], []

    def push():
        try:
            barrier.wait()
            receipt = order_receive(operator_id=OPERATOR_ID, interface=OrderInterface.ORDER, payload=payload,
                                    received_at=timezone.now())  # fmt: skip
            results.append(receipt.confirm_result)
        except Exception as exc:  # an assertion in a thread would be lost
            errors.append(exc)
        finally:
            from django.db import connection as thread_connection

            thread_connection.close()

    threads = [threading.Thread(target=push) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if connection.vendor == "sqlite":  # one writer at a time: a loser may see "database is locked" and retry later
        errors = [e for e in errors if "locked" not in str(e)]
    assert errors == []
    assert ChargeOrder.objects.count() == 1 and OrderReport.objects.count() == 1
    assert set(results) == {0}


# -- numbers bounded where they are parsed (issue 21 item 6) ----------------------------------------------------------


def _with_number(payload: dict, field: str, literal: str) -> str:
    from apps.protocol import dumps

    payload[field] = "@NUMBER@"
    return dumps(payload).replace('"@NUMBER@"', literal)


def test_an_exponent_no_field_could_hold_is_4004_naming_it_and_no_slower_than_an_order(operator):
    import time

    started = time.perf_counter()
    assert operator.call(ORDER, order()).data["ConfirmResult"] == 0
    ordinary = time.perf_counter() - started
    started = time.perf_counter()
    answer = operator.call(ORDER, _with_number(order(), "TotalMoney", "1E+999999999"))
    hostile = time.perf_counter() - started
    assert answer.ret == Ret.BUSINESS and "TotalMoney" in answer.envelope.msg, answer.raw
    assert hostile < 3 * ordinary, (hostile, ordinary)  # before: seconds of CPU printing a gigabyte-long digest
    rejected = RejectedRecord.objects.get(interface=ORDER)
    assert rejected.rules == [schema.RANGE] and Exchange.objects.filter(interface=ORDER, ret=Ret.BUSINESS).exists()


@pytest.mark.parametrize(
    ("field", "literal"),
    [("TotalMoney", "10000000000.00"), ("TotalPower", "1E+12"), ("TotalElecMoney", "99999999999")],
)
def test_a_figure_beyond_its_column_is_4004_naming_it(operator, field, literal):
    answer = operator.call(ORDER, _with_number(order(), field, literal))
    assert answer.ret == Ret.BUSINESS and field in answer.envelope.msg and "9999999999.99" in answer.envelope.msg
    assert not ChargeOrder.objects.exists()


def test_a_bonus_orders_charge_last_beyond_its_column_is_4004(operator):
    answer = operator.call(
        Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS, _with_number(bonus(order()), "ChargeLast", "3" * 12)
    )
    assert answer.ret == Ret.BUSINESS and "ChargeLast" in answer.envelope.msg


def test_a_year_past_9998_is_4004(operator):
    payload = order()
    payload["EndTime"] = "9999-12-31 23:59:59"
    answer = operator.call(ORDER, payload)
    assert answer.ret == Ret.BUSINESS and "EndTime" in answer.envelope.msg


def test_a_key_with_a_lone_surrogate_is_journalled_and_digested(operator):
    from apps.protocol import dumps

    text = dumps(order() | {"@KEY@": "extra"}).replace('"@KEY@"', '"\\ud800x"')  # as JSON escapes it
    answer = operator.call(ORDER, text)
    assert answer.ret == Ret.OK and answer.data["ConfirmResult"] == 0, answer.raw
    assert OrderReport.objects.get().payload["\\ud800x"] == "extra"
    assert "\\ud800x" in Exchange.objects.filter(interface=ORDER).latest("id").request


# -- the bonus order's StartChargeSeq: 27 recommended, up to the column's bound accepted (issue 21 item 4) -------------


@pytest.mark.parametrize("length", [28, 29, 32])
def test_a_bonus_walk_in_numbered_longer_than_27_is_kept_with_a_finding(operator, length):
    number = OPERATOR_ID + "2026120100" + "7" * (length - 19)
    payload = bonus(order(number=number))
    answer = operator.call(BONUS, payload)
    assert answer.ret == Ret.OK and answer.data["StartChargeSeq"] == number and answer.data["ConfirmResult"] == 0
    row = ChargeOrder.objects.get()
    assert row.start_charge_seq == number and len(number) == length
    finding = OrderFinding.objects.get(order=row, rule="seq_length")
    assert not finding.disputes and str(length) in finding.message


def test_a_bonus_order_number_beyond_the_columns_bound_or_not_alphanumeric_is_4004(operator):
    for number in (OPERATOR_ID + "2026120100" + "7" * 14, OPERATOR_ID + "2026120100" + "7" * 7 + "-1"):
        answer = operator.call(BONUS, bonus(order(number=number)))
        assert answer.ret == Ret.BUSINESS and "StartChargeSeq" in answer.envelope.msg
    assert not ChargeOrder.objects.exists()


def test_the_standard_order_push_still_takes_27_characters_only(operator):
    answer = operator.call(ORDER, order(number=OPERATOR_ID + "2026120100" + "7" * 10))
    assert answer.ret == Ret.BUSINESS and "27" in answer.envelope.msg


# -- operator clocks are not trusted (issue 21 item 3) ---------------------------------------------------------------


def test_an_order_that_ends_hours_after_it_was_pushed_is_a_finding_and_disputed(operator, settings):
    from django.utils import timezone

    settings.HLHT_CLOCK_SKEW = 300
    ahead = order(start=timezone.localtime() + timedelta(minutes=10), minutes=180)  # ends 3 h 10 min from now
    answer = operator.call(ORDER, ahead)
    assert answer.ret == Ret.OK and answer.data["ConfirmResult"] == 1
    finding = OrderFinding.objects.get(rule="time_in_future", path="EndTime")
    assert finding.disputes and ahead["EndTime"] in finding.message
    assert OrderFinding.objects.filter(rule="time_in_future", path="StartTime").exists()  # 10 min > the 5 min window
    # Within the clock window an operator's clock a little ahead is no finding.
    near = order(start=timezone.localtime() - timedelta(minutes=58), minutes=60, number=seq())
    operator.call(ORDER, near)
    assert not OrderFinding.objects.filter(order__start_charge_seq=near["StartChargeSeq"]).exists()
