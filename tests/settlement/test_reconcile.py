"""check_charge_orders through the pipeline: every kind of dispute found, the answer the spec asks for, repeats, the
period's edges; disputes settled with a comment and their history kept."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.orders.models import ChargeOrder
from apps.protocol import CST, Ret, format_datetime, schema
from apps.protocol.names import Interface
from apps.settlement.models import Dispute, ReconciliationRun
from apps.settlement.services import dispute_resolve
from tests import factories
from tests.caller import OPERATOR_ID
from tests.orders.support import PORTAL, directory, order, seq, started

pytestmark = pytest.mark.django_db
CHECK, ORDER = Interface.CHECK_CHARGE_ORDERS, Interface.NOTIFICATION_CHARGE_ORDER_INFO
DAY = datetime(2026, 12, 1, tzinfo=CST)


@pytest.fixture
def operator(caller):
    caller.login()
    directory()
    return caller


def check(orders: list[dict], *, number: str | None = None, day: datetime = DAY) -> dict:
    listed = [{"StartChargeSeq": o["StartChargeSeq"], "TotalPower": o["TotalPower"], "TotalMoney": o["TotalMoney"]}
              for o in orders]  # fmt: skip
    return {
        "CheckOrderSeq": number or f"{OPERATOR_ID}{day:%Y%m%d}0100000001",
        "StartTime": format_datetime(day),
        "EndTime": format_datetime(day + timedelta(hours=23, minutes=59, seconds=59)),
        "OrderCount": len(listed),
        "TotalOrderPower": sum((o["TotalPower"] for o in listed), Decimal(0)).quantize(Decimal("0.0001")),
        "TotalOrderMoney": sum((o["TotalMoney"] for o in listed), Decimal(0)),
        "ChargeOrders": listed,
    }


def portal_day(operator, n: int) -> list[dict]:
    """n portal-started orders that ended on DAY, each pushed and confirmed."""
    orders = [order(start=DAY + timedelta(hours=8 + n_), number=started()) for n_ in range(n)]
    for payload in orders:
        assert operator.call(ORDER, payload).data["ConfirmResult"] == 0
    return orders


def test_every_kind_of_dispute_is_found_and_answered_as_the_spec_says(operator):
    held = portal_day(operator, 5)
    listed = [dict(o) for o in held[1:]]  # held[0]: the portal has it, the operator's list leaves it out
    listed[0]["TotalMoney"] += Decimal("1.00")  # money differs
    listed[1]["TotalPower"] += Decimal("0.50")  # energy differs
    never = order(start=DAY + timedelta(hours=20), number=seq(PORTAL))  # listed, never pushed
    payload = check([*listed, never])

    answer = operator.call(CHECK, payload)
    assert answer.ret == Ret.OK
    data = answer.data
    assert schema.validate(data, schema.CHECK_CHARGE_ORDERS_RESPONSE) == []
    assert (data["CheckOrderSeq"], data["StartTime"], data["EndTime"]) == (
        payload["CheckOrderSeq"], payload["StartTime"], payload["EndTime"]
    )  # fmt: skip
    reasons = {d["StartChargeSeq"]: d["DisputeReason"] for d in data["DisputeOrders"]}
    assert reasons == {
        listed[0]["StartChargeSeq"]: 2,
        listed[1]["StartChargeSeq"]: 3,
        never["StartChargeSeq"]: 1,
        held[0]["StartChargeSeq"]: 4,
    }
    assert data["TotalDisputeOrder"] == 4
    by_seq = {d["StartChargeSeq"]: d for d in data["DisputeOrders"]}
    # The receiver's view: the portal's figures where it has the order, the operator's where it has not.
    assert by_seq[listed[0]["StartChargeSeq"]]["TotalMoney"] == held[1]["TotalMoney"]
    assert by_seq[never["StartChargeSeq"]]["TotalMoney"] == never["TotalMoney"]
    assert data["TotalDisputeMoney"] == sum(d["TotalMoney"] for d in data["DisputeOrders"])
    assert data["TotalDisputePower"] == sum(d["TotalPower"] for d in data["DisputeOrders"])

    run = ReconciliationRun.objects.get()
    assert (run.order_count, run.portal_order_count, run.matched_count, run.dispute_count) == (5, 5, 2, 4)
    assert (run.missing_at_portal_count, run.missing_at_operator_count) == (1, 1)
    dispute = Dispute.objects.get(start_charge_seq=listed[0]["StartChargeSeq"])
    assert dispute.order == ChargeOrder.objects.get(start_charge_seq=listed[0]["StartChargeSeq"])
    assert (dispute.operator_money, dispute.portal_money) == (listed[0]["TotalMoney"], held[1]["TotalMoney"])
    assert Dispute.objects.get(start_charge_seq=held[0]["StartChargeSeq"]).operator_money is None


def test_a_list_that_agrees_has_no_dispute(operator):
    held = portal_day(operator, 3)
    data = operator.call(CHECK, check(held)).data
    assert (data["TotalDisputeOrder"], data["DisputeOrders"], data["TotalDisputeMoney"]) == (0, [], Decimal("0.00"))
    assert ReconciliationRun.objects.get().matched_count == 3


def test_a_repeated_reconciliation_gets_the_same_answer_and_adds_nothing(operator):
    held = portal_day(operator, 2)
    payload = check(held[1:])
    first = operator.call(CHECK, payload)
    second = operator.call(CHECK, payload)
    assert second.data == first.data
    assert ReconciliationRun.objects.count() == 1 and Dispute.objects.count() == 1


def test_walk_ins_and_orders_outside_the_period_are_not_the_portals_to_claim(operator):
    portal_day(operator, 1)
    operator.call(ORDER, order(start=DAY + timedelta(hours=9)))  # started at the pile: not in the reconciliation
    late = order(start=DAY + timedelta(hours=23, minutes=30), minutes=60, number=started())  # ends next day
    early = order(start=DAY - timedelta(hours=2), minutes=60, number=started())  # ended the day before
    operator.call(ORDER, late)
    operator.call(ORDER, early)
    data = operator.call(CHECK, check([])).data
    assert data["TotalDisputeOrder"] == 1 and data["DisputeOrders"][0]["DisputeReason"] == 4


def test_an_order_the_operator_lists_that_another_operator_holds_is_missing_here(operator):
    other = factories.operator("MA59CU773")
    theirs = factories.order(
        factories.connector(factories.equipment(factories.station(other, "X"), "XE"), "XC"),
        start_charge_seq=seq(PORTAL),
        end_time=DAY + timedelta(hours=10),
        start_time=DAY + timedelta(hours=9),
    )
    listed = [{"StartChargeSeq": theirs.start_charge_seq, "TotalPower": theirs.total_power,
               "TotalMoney": theirs.total_money}]  # fmt: skip
    data = operator.call(CHECK, check(listed)).data
    assert [d["DisputeReason"] for d in data["DisputeOrders"]] == [1]


def test_order_count_must_match_the_list(operator):
    payload = check(portal_day(operator, 2))
    payload["OrderCount"] = 3
    answer = operator.call(CHECK, payload)
    assert answer.ret == Ret.BUSINESS and "OrderCount" in answer.envelope.msg
    assert not ReconciliationRun.objects.exists()


# -- settling disputes ----------------------------------------------------------------------------------------------


@pytest.fixture
def dispute(operator) -> Dispute:
    held = portal_day(operator, 1)
    listed = [{**held[0], "TotalMoney": held[0]["TotalMoney"] + Decimal("2.00")}]
    operator.call(CHECK, check(listed))
    return Dispute.objects.get()


def test_resolving_takes_a_side_keeps_the_figure_and_the_history(dispute, regulator):
    resolved = dispute_resolve(dispute=dispute, resolution="operator", comment="运营商提供了计费凭证", user=regulator)
    assert (resolved.state, resolved.resolution, resolved.settled_money) == (
        "resolved", "operator", dispute.operator_money
    )  # fmt: skip
    assert resolved.resolved_by == regulator and resolved.resolved_at is not None
    history = list(resolved.history.order_by("history_date"))
    assert history[-1].history_user == regulator and history[-1].state == "resolved"
    assert history[-1].history_change_reason == "运营商提供了计费凭证"
    before = history[-1].prev_record
    assert before is not None and before.state == "open" and before.settled_money is None


@pytest.mark.parametrize(
    ("resolution", "comment", "field"),
    [("operator", "  ", "comment"), ("nonsense", "原因", "resolution")],
)
def test_resolving_needs_a_choice_and_a_comment(dispute, regulator, resolution, comment, field):
    from apps.core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        dispute_resolve(dispute=dispute, resolution=resolution, comment=comment, user=regulator)
    assert caught.value.field == field
    dispute.refresh_from_db()
    assert dispute.state == "open"


def test_a_dispute_is_resolved_once(dispute, regulator):
    from apps.core.exceptions import Conflict

    dispute_resolve(dispute=dispute, resolution="write_off", comment="双方同意核销", user=regulator)
    with pytest.raises(Conflict):
        dispute_resolve(dispute=dispute, resolution="portal", comment="再来一次", user=regulator)


def test_a_regulator_resolves_in_the_admin_and_the_page_names_a_missing_comment(dispute, client, regulator):
    client.force_login(regulator)
    url = reverse("admin:settlement_dispute_resolve", args=[dispute.pk])
    page = client.get(url)
    assert page.status_code == 200 and dispute.start_charge_seq in page.content.decode()
    refused = client.post(url, {"resolution": "portal", "comment": ""})
    assert refused.status_code == 200 and "请填写处理说明" in refused.content.decode()
    done = client.post(url, {"resolution": "portal", "comment": "以平台记录为准"})
    assert done.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.resolution, dispute.resolved_by, dispute.settled_money) == (
        "portal", regulator, dispute.portal_money
    )  # fmt: skip
    history = client.get(reverse("admin:settlement_dispute_history", args=[dispute.pk]))
    assert history.status_code == 200 and "以平台记录为准" in history.content.decode()


def _manager(django_user_model, username: str, operator):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username, password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name="operator_manager"))
    factories.OperatorAccountFactory(user=user, operator=operator)
    return user


def test_an_account_manager_resolves_only_their_own_disputes(dispute, client, django_user_model, roles):
    url = reverse("admin:settlement_dispute_resolve", args=[dispute.pk])
    client.force_login(_manager(django_user_model, "mgr_b", factories.operator("MA59CU773")))
    assert client.get(url).status_code == 404  # another operator's dispute does not exist for them
    client.force_login(_manager(django_user_model, "mgr_a", dispute.operator))
    assert client.post(url, {"resolution": "operator", "comment": "凭证已上传"}).status_code == 302
    dispute.refresh_from_db()
    assert dispute.resolution == "operator" and dispute.resolved_by.username == "mgr_a"


def test_by_default_the_journal_keeps_a_reconciliation_list_as_its_count_and_digest(operator):
    import hashlib
    import json

    from apps.interconnect.models import Exchange

    listed = [order(start=DAY + timedelta(hours=8, minutes=n), number=seq(PORTAL)) for n in range(3)]
    assert operator.call(CHECK, check(listed)).data["TotalDisputeOrder"] == 3
    row = Exchange.objects.get(interface=CHECK)
    kept = row.request["ChargeOrders"]
    assert kept["_items"] == 3 and len(kept["_sha256"]) == 64 and row.request["_compact"] is True
    assert row.request["OrderCount"] == 3 and row.request["_bytes"] > 0  # the scalars stay as they were
    assert row.response["DisputeOrders"]["_items"] == 3  # the answer's list too
    other = json.dumps([], sort_keys=True)
    assert kept["_sha256"] != hashlib.sha256(other.encode()).hexdigest()


def test_nobody_without_the_permission_resolves(dispute, client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw-for-tests-only", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:settlement_dispute_resolve", args=[dispute.pk])).status_code == 403


def test_the_operators_list_is_kept_whole_for_the_run_and_cut_in_the_journal(
    operator, client, regulator, django_user_model, roles, monkeypatch, settings
):
    import json

    from apps.interconnect import journal
    from apps.interconnect.models import Exchange

    settings.HLHT_JOURNAL_FULL_PAYLOAD = [CHECK]  # kept whole on request: then cut at JOURNAL_LIST_ITEMS
    monkeypatch.setattr(journal, "JOURNAL_LIST_ITEMS", 5)
    listed = [order(start=DAY + timedelta(hours=8, minutes=n), number=seq(PORTAL)) for n in range(8)]
    payload = check(listed)
    assert operator.call(CHECK, payload).data["TotalDisputeOrder"] == 8  # none of them was pushed
    run = ReconciliationRun.objects.get()

    kept = Exchange.objects.get(interface=CHECK).request["ChargeOrders"]
    assert len(kept) == 6 and kept[-1] == "…（另有3项未记录）"

    url = reverse("admin:settlement_reconciliationrun_request", args=[run.pk])
    client.force_login(regulator)
    response = client.get(url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    whole = json.loads(response.content)
    assert [o["StartChargeSeq"] for o in whole["ChargeOrders"]] == [o["StartChargeSeq"] for o in listed]
    assert Decimal(whole["TotalOrderMoney"]) == payload["TotalOrderMoney"]
    assert url in client.get(reverse("admin:settlement_reconciliationrun_change", args=[run.pk])).content.decode()

    client.force_login(_manager(django_user_model, "mgr_b", factories.operator("MA59CU773")))
    assert client.get(url).status_code == 404  # another operator's list does not exist for them


def test_an_order_refused_for_a_session_the_portal_never_had_is_disputed_as_not_found(operator):
    """An order push of the portal's prefix with no session behind it is refused (4004), so the operator's list that
    names it meets 交易不存在 (DisputeReason 1) with the operator's own figures; nothing of it is the portal's."""
    invented = order(start=DAY + timedelta(hours=9), number=seq(PORTAL))
    assert operator.call(ORDER, invented).ret == Ret.BUSINESS
    data = operator.call(CHECK, check([invented])).data
    assert [(d["StartChargeSeq"], d["DisputeReason"], d["TotalMoney"]) for d in data["DisputeOrders"]] == [
        (invented["StartChargeSeq"], 1, invented["TotalMoney"])
    ]
    assert ReconciliationRun.objects.get().portal_order_count == 0
