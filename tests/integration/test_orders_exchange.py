"""A day of orders from a simulated Beijing operator to the live portal over HTTP, with the operator's mistakes:
duplicate pushes, money sums that do not add up, prices above the declared policy, orders never pushed or left out
of the reconciliation. The portal keeps each once, disputes and flags with reasons, and reconciles at 01:00."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.orders.models import ChargeOrder, OrderFinding, OrderReport
from apps.pricing.models import BusinessPolicy
from apps.pricing.pulls import BusinessPolicyPull
from apps.protocol import CST
from apps.protocol.names import Interface
from apps.settlement.models import Dispute, ReconciliationRun
from apps.stations.pulls import stations_info_pull
from tests.orders.support import started as session
from tests.simulator.support import SIM_ID, keys_file, make_sim, serial, usable

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
FAULTS = "duplicate_push:0.3,bad_money_sum:0.25,price_mismatch:0.25,unpushed_order:0.2,unlisted_order:0.2"


@pytest.fixture
def sim(live_server, settings):
    # the sessions' timers are not what this test is about
    settings.HLHT_ENQUEUE = "apps.core.jobs.discard_enqueue"
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    # Yesterday 17:00 in Beijing: an evening of orders, then the reconciliation of the day at 01:00 today.
    start = datetime.now(CST).replace(hour=17, minute=0, second=0, microsecond=0) - timedelta(days=1)
    simulator = make_sim(
        start=start, push=True, portal_url=f"{live_server.url}/evcs/v1/", stations=10, seed=7, faults=FAULTS,
        walkin_rate=1.5,
    )  # fmt: skip
    Operator.objects.filter(pk=SIM_ID).update(endpoint_url=simulator.base_url)
    yield simulator
    simulator.stop()


def _run(sim, hours: float, step: int = 1800) -> None:
    for _ in range(int(hours * 3600 // step)):
        sim.advance(step)
        assert sim.flush(20), "pushes did not drain"


def test_a_day_of_orders_with_the_operators_mistakes(sim):
    operator = Operator.objects.get(pk=SIM_ID)
    assert stations_info_pull(operator=operator, full=True).status == "succeeded"
    assert BusinessPolicyPull.handle(operator=operator, full=True).status == "succeeded"
    # The simulated day began yesterday; the tariffs it bills were declared before it (the pull saw them today).
    BusinessPolicy.objects.update(effective_from=datetime.fromtimestamp(sim.clock.time(), CST) - timedelta(days=1))

    # The city platform starts sessions through the day; drivers start others at the pile (walk-ins).
    started = []
    for n in range(10):
        for connector_id in usable(sim, 1):
            # The portal's session first (its order push is refused without one), as the driver API makes it.
            session(connector_id, SIM_ID, live=True, number=serial(n + 1))
            if sim.start_charge(serial(n + 1), connector_id)["SuccStat"] == 0:
                started.append(serial(n + 1))
        _run(sim, 0.5)
    _run(sim, 3.5)  # past midnight and 01:00: the reconciliation of yesterday
    assert len(started) >= 8

    pushed = {r.payload["StartChargeSeq"]: r for r in sim.pusher.history()
              if r.interface == Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS}  # fmt: skip
    finished = {o["StartChargeSeq"]: o for o in sim.orders}
    unpushed = set(finished) - set(pushed)
    # A day of orders arrived: every order the operator pushed is in the portal, once.
    assert (
        len(finished) > 20
        and unpushed
        and set(ChargeOrder.objects.values_list("start_charge_seq", flat=True)) == (set(pushed))
    )
    assert ChargeOrder.objects.count() == len(pushed)

    # Duplicate pushes changed nothing: a repeat of the same content is counted, not stored again.
    assert OrderReport.objects.filter(repeats__gt=0).exists()
    assert OrderReport.objects.filter(interface=Interface.NOTIFICATION_CHARGE_ORDER_INFO_FOR_BONUS).count() == len(
        pushed
    )

    # The money sums that did not add up are disputed, with the reason; the others are confirmed.
    bad_sum = {
        s
        for s, o in pushed.items()
        if o.payload["TotalMoney"] != o.payload["TotalElecMoney"] + o.payload["TotalSeviceMoney"]
    }
    assert bad_sum
    disputed = set(ChargeOrder.objects.filter(bonus_confirm_result=1).values_list("start_charge_seq", flat=True))
    assert bad_sum <= disputed
    assert (
        set(OrderFinding.objects.filter(rule="money_sum").values_list("order__start_charge_seq", flat=True)) == bad_sum
    )

    # Prices above the declared policy are flagged as price findings, not disputes.
    overpriced = {
        s for s, o in pushed.items()
        if any(Decimal(d["ElecPrice"]) not in _declared(sim, o.payload) for d in o.payload["ChargeDetails"])
    }  # fmt: skip
    assert overpriced
    flagged = set(OrderFinding.objects.filter(category="price", rule="price_declared").values_list(
        "order__start_charge_seq", flat=True))  # fmt: skip
    assert flagged == overpriced
    assert not OrderFinding.objects.filter(category="price", disputes=True).exists()

    # The reconciliation at 01:00 found the order the portal never received and the ones the operator left out.
    run = ReconciliationRun.objects.get()
    listed = {o["StartChargeSeq"] for r in sim.pusher.history() if r.interface == Interface.CHECK_CHARGE_ORDERS
              for o in r.payload["ChargeOrders"]}  # fmt: skip
    day = run.start_time
    portal_pushed = {s for s in pushed if s.startswith("MA01HLHT0") and _ended_on(pushed[s].payload, day)}
    reasons = {d.start_charge_seq: d.reason for d in Dispute.objects.filter(run=run)}
    assert {s for s, r in reasons.items() if r == 1} == listed - set(pushed)
    assert {s for s, r in reasons.items() if r == 4} == portal_pushed - listed
    assert listed - set(pushed) and portal_pushed - listed  # both kinds happened
    assert run.order_count == len(listed)


def _declared(sim, payload) -> set[Decimal]:
    station = next(st for st in sim.directory.stations if st.sid == payload["StationID"])
    return set(station.tariff.elec.values())


def _ended_on(payload, day_start) -> bool:
    end = datetime.strptime(payload["EndTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)
    return day_start <= end < day_start + timedelta(days=1)
