"""Settlement statements: per operator and agreed period, the portal-started orders, the commission and the net;
draft → confirmed → paid with who and when; frozen once confirmed; exported with Chinese headers."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from apps.core.exceptions import Conflict, ValidationFailed
from apps.drivers.models import Driver
from apps.drivers.services import driver_register
from apps.operators.models import Operator
from apps.protocol import CST
from apps.settlement.choices import StatementState
from apps.settlement.models import Statement
from apps.settlement.statements import (
    period_of,
    statement_confirm,
    statement_generate,
    statement_pay,
    statements_generate,
)
from tests import factories

pytestmark = pytest.mark.django_db
PORTAL = "MA01HLHT0"
A = "123456789"


def _order(conn, n: int, end: dt.datetime, money: str, portal: bool = True, session: bool = True):
    """An order; a portal-started one has the driver's session behind it unless `session=False`."""
    seq = f"{PORTAL if portal else conn.operator_id}{n:018d}"
    order = factories.order(conn, start_charge_seq=seq, start_time=end - dt.timedelta(hours=1), end_time=end,
                            total_money=Decimal(money), total_elec_money=Decimal(money) / 2,
                            total_sevice_money=Decimal(money) / 2, total_power=Decimal("10.00"))  # fmt: skip
    if portal and session:
        driver = Driver.objects.first() or driver_register(phone="13812345678")
        factories.ChargingSessionFactory(driver=driver, connector=conn, start_charge_seq=seq,
                                         requested_at=order.start_time, state=4, order=order)  # fmt: skip
    return order


@pytest.fixture
def books(directory):
    conn = directory["connectors"][A]
    factories.SettlementAgreementFactory(operator=directory["a"], commission_rate=Decimal("0.0300"),
                                         effective_from=dt.date(2026, 1, 1))  # fmt: skip
    _order(conn, 1, dt.datetime(2026, 11, 3, 10, tzinfo=CST), "45.00")
    _order(conn, 2, dt.datetime(2026, 11, 30, 23, 59, tzinfo=CST), "33.33")
    _order(conn, 3, dt.datetime(2026, 11, 10, 10, tzinfo=CST), "99.00", portal=False)  # a walk-in: not ours to pay
    _order(conn, 4, dt.datetime(2026, 12, 1, 0, 0, tzinfo=CST), "10.00")  # the next period
    # The portal's prefix written by the operator on an order no session of the portal's stands behind: not paid.
    _order(conn, 7, dt.datetime(2026, 11, 12, 10, tzinfo=CST), "500.00", session=False)
    return conn


def test_periods_are_calendar_months_or_weeks_from_monday():
    assert period_of(dt.date(2026, 11, 17), "month") == (dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    assert period_of(dt.date(2026, 12, 31), "month") == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert period_of(dt.date(2026, 11, 19), "week") == (dt.date(2026, 11, 16), dt.date(2026, 11, 23))


def test_a_statement_sums_the_portal_started_orders_of_its_period(books):
    s = statement_generate(operator_id=A, day=dt.date(2026, 11, 15))
    assert (s.order_count, s.total_money, s.total_power) == (2, Decimal("78.33"), Decimal("20.00"))
    assert s.commission == Decimal("2.35")  # 78.33 × 3 % = 2.3499, rounded half up
    assert s.net_payable == Decimal("75.98") and s.state == StatementState.DRAFT
    assert statement_generate(operator_id=A, day=dt.date(2026, 11, 2)).pk == s.pk  # once per period


def test_a_draft_follows_new_orders_and_a_confirmed_one_is_frozen(books, regulator, settings):
    s = statement_generate(operator_id=A, day=dt.date(2026, 11, 15))
    _order(books, 5, dt.datetime(2026, 11, 20, 10, tzinfo=CST), "10.00")
    assert statement_generate(operator_id=A, day=dt.date(2026, 11, 15)).total_money == Decimal("88.33")
    statement_confirm(statement=s, user=regulator)
    _order(books, 6, dt.datetime(2026, 11, 21, 10, tzinfo=CST), "10.00")
    frozen = statement_generate(operator_id=A, day=dt.date(2026, 11, 15))
    assert frozen.total_money == Decimal("88.33") and frozen.state == StatementState.CONFIRMED


def test_draft_confirmed_paid_with_who_and_when_and_never_back(books, regulator):
    s = statement_generate(operator_id=A, day=dt.date(2026, 11, 15))
    with pytest.raises(Conflict):
        statement_pay(statement=s, user=regulator, reference="BANK-1")  # not confirmed yet
    s = statement_confirm(statement=s, user=regulator)
    assert s.confirmed_by == regulator and s.confirmed_at is not None
    with pytest.raises(ValidationFailed, match="payment_reference"):
        statement_pay(statement=s, user=regulator, reference=" ")
    s = statement_pay(statement=s, user=regulator, reference="BANK-1")
    assert (s.state, s.paid_by, s.payment_reference) == (StatementState.PAID, regulator, "BANK-1")
    with pytest.raises(Conflict):
        statement_confirm(statement=s, user=regulator)
    assert [h.state for h in s.history.order_by("history_date")] == ["draft", "confirmed", "paid"]


def test_a_period_not_yet_over_cannot_be_confirmed(books, regulator):
    current = statement_generate(operator_id=A, day=dt.date.today())
    with pytest.raises(Conflict, match="尚未结束"):
        statement_confirm(statement=current, user=regulator)


def test_without_an_agreement_there_is_no_statement(directory):
    with pytest.raises(ValidationFailed, match="结算协议"):
        statement_generate(operator_id="MA59CU773", day=dt.date(2026, 11, 15))
    assert statements_generate(today=dt.date(2026, 12, 1)) == []


def test_the_nightly_task_makes_the_period_that_ended(books):
    made = statements_generate(today=dt.date(2026, 12, 1))
    assert {(s.period_start, s.period_end) for s in made} == {
        (dt.date(2026, 11, 1), dt.date(2026, 12, 1)), (dt.date(2026, 12, 1), dt.date(2027, 1, 1)),
    }  # fmt: skip


def test_the_admin_confirms_records_payment_and_exports(books, client, regulator, manager_a):
    s = statement_generate(operator_id=A, day=dt.date(2026, 11, 15))
    client.force_login(manager_a)  # the operator's account manager agrees the figures …
    changelist = reverse("admin:settlement_statement_changelist")
    client.post(changelist, {"action": "confirm", "_selected_action": [s.pk]})
    s.refresh_from_db()
    assert s.state == StatementState.CONFIRMED and s.confirmed_by == manager_a
    assert client.get(reverse("admin:settlement_statement_pay", args=[s.pk])).status_code == 403  # … not the payment
    client.force_login(regulator)
    page = client.post(reverse("admin:settlement_statement_pay", args=[s.pk]), {"payment_reference": ""})
    assert "请填写付款凭证号" in page.content.decode()
    client.post(reverse("admin:settlement_statement_pay", args=[s.pk]), {"payment_reference": "BANK-7"})
    s.refresh_from_db()
    assert s.state == StatementState.PAID and s.paid_by == regulator
    fields = {f"statementresource_{f}": "on" for f in ("operator", "net_payable", "state")}
    csv = client.post(reverse("admin:settlement_statement_export"), {"format": "0", "resource": "0", **fields})
    text = csv.content.decode("utf-8-sig")
    assert "应付运营商（元）" in text and "75.98" in text
    xlsx = client.post(reverse("admin:settlement_statement_export"), {"format": "1", "resource": "0", **fields})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "应付运营商（元）" in rows[0] and any(Decimal(str(r[rows[0].index("应付运营商（元）")])) == Decimal("75.98")
                                            for r in rows[1:])  # fmt: skip


def test_an_account_manager_sees_only_their_operators_statements(books, client, manager_a):
    factories.SettlementAgreementFactory(
        operator=Operator.objects.get(pk="MA59CU773"),
        commission_rate=Decimal("0.01"),
        effective_from=dt.date(2026, 1, 1),
    )
    statement_generate(operator_id=A, day=dt.date(2026, 11, 15))
    statement_generate(operator_id="MA59CU773", day=dt.date(2026, 11, 15))
    assert {s.operator_id for s in Statement.objects.for_user(manager_a)} == {A}
    client.force_login(manager_a)
    page = client.get(reverse("admin:settlement_statement_changelist")).content.decode()
    assert "MA59CU773" not in page
