"""The driver API end to end, over real HTTP to a simulated operator: find, scan, price, start, watch, stop, pay."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.charging.choices import CommandState
from apps.charging.models import OutboundCommand
from apps.charging.services import command_send
from apps.core.conf import conf
from apps.core.jobs import Recorder, eager_enqueue, enqueue_by
from apps.drivers.models import Driver
from apps.drivers.selectors import hold_of
from apps.drivers.services import driver_register, wallet_top_up
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.pricing.models import BusinessPolicy
from apps.pricing.tasks import connector_policy_ask_task
from apps.protocol import CST
from apps.protocol.qr import qr_text
from apps.stations.models import Connector
from apps.stations.pulls import stations_info_pull
from tests.simulator.support import SIM_ID, keys_file, make_sim, usable

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sim(live_server, settings):
    settings.HLHT_ENQUEUE = "apps.core.jobs.discard_enqueue"
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
    simulator = make_sim(start=datetime.now(CST), push=True, portal_url=f"{live_server.url}/evcs/v1/", stations=6,
                         seed=3, walkin_rate=0.0)  # fmt: skip
    Operator.objects.filter(pk=SIM_ID).update(endpoint_url=simulator.base_url)
    assert stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True).status == "succeeded"
    yield simulator
    simulator.stop()


def _as_driver(phone: str, money: str | None = "100") -> APIClient:
    driver = driver_register(phone=phone)
    if money:
        wallet_top_up(driver_id=driver.pk, amount=Decimal(money), key=f"PAY-{phone}")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=driver.user).key}")
    return api


def _send_pending() -> None:
    """Send each pending command once, and those their answers queue (a start, once its authentication passed)."""
    sent: set[int] = set()
    while fresh := list(
        OutboundCommand.objects.filter(state=CommandState.PENDING).exclude(pk__in=sent).values_list("pk", flat=True)
    ):
        for command_id in fresh:
            command_send(command_id)
            sent.add(command_id)


def _run(sim, seconds: int, step: int = 10) -> None:
    for _ in range(seconds // step):
        sim.advance(step)
        assert sim.flush(20)


def test_a_driver_finds_scans_prices_starts_watches_stops_and_pays(sim):
    api = _as_driver("13812345678")
    connector_id = usable(sim, 1)[0]
    connector = Connector.objects.select_related("station").get(operator_id=SIM_ID, connector_id=connector_id)
    station = connector.station

    near = api.get("/api/driver/stations/", {"lng": station.station_lng, "lat": station.station_lat, "radius_km": 1})
    assert near.status_code == 200
    found = near.json()["results"][0]
    assert found["station_id"] == station.station_id and found["distance_km"] == 0
    assert connector_id in [c["connector_id"] for c in found["connectors"]]
    by_district = api.get("/api/driver/stations/", {"district": station.area_code}).json()["results"]
    assert station.station_id in [s["station_id"] for s in by_district]

    scanned = api.post("/api/driver/qr/", {"qr": qr_text(connector_id, SIM_ID, "ABC")}, format="json")
    assert scanned.status_code == 200
    assert (scanned.json()["connector_id"], scanned.json()["qr_code"]) == (connector_id, "ABC")
    assert api.post("/api/driver/qr/", {"qr": "https://example.com"}, format="json").status_code == 400

    with enqueue_by(eager_enqueue):  # the policy is asked by a task: here a worker that answers at once
        policy = api.get(f"/api/driver/connectors/{SIM_ID}/{connector_id}/policy/").json()
    assert policy["asked_now"] and policy["periods"] and policy["price_now"] is not None
    # REST spells "service" correctly (the wire's SevicePrice stays on the wire), and times are Beijing time.
    assert {"elec_price", "service_price"} <= set(policy["price_now"]) and "sevice_price" not in policy["price_now"]
    assert all("service_price" in period for period in policy["periods"])
    assert policy["effective_from"].endswith("+08:00")
    assert "service_price" in found["connectors"][0] and "sevice_price" not in found["connectors"][0]
    assert BusinessPolicy.objects.filter(connector=connector).count() == 1
    assert api.get(f"/api/driver/connectors/{SIM_ID}/{connector_id}/policy/").json()["asked_now"] is False  # cached

    started = api.post("/api/driver/sessions/", {"qr": qr_text(connector_id, SIM_ID)}, format="json")
    assert started.status_code == 201, started.content
    seq = started.json()["start_charge_seq"]
    assert started.json()["state"] == 1
    _send_pending()
    _run(sim, 200)
    watched = api.get(f"/api/driver/sessions/{seq}/").json()
    assert watched["state"] == 2 and Decimal(watched["total_power"]) > 0

    stopping = api.post(f"/api/driver/sessions/{seq}/stop/")
    assert stopping.status_code == 202 and stopping.json()["state"] == 3
    _send_pending()
    _run(sim, 60)
    done = api.get(f"/api/driver/sessions/{seq}/").json()
    assert done["state"] == 4 and done["order_total_money"] is not None
    assert "service_money" in done and "sevice_money" not in done
    orders = api.get("/api/driver/orders/").json()["results"]
    assert [o["start_charge_seq"] for o in orders] == [seq]
    assert "total_service_money" in orders[0] and orders[0]["end_time"].endswith("+08:00")
    wallet = api.get("/api/driver/wallet/").json()
    assert Decimal(wallet["balance"]) == Decimal("100") - Decimal(done["order_total_money"])
    assert [e["kind"] for e in wallet["results"]][:1] == ["charge"]
    assert api.get("/api/driver/notifications/").json()["results"][0]["title"] == "充电扣款"


def test_refusals_have_a_status_and_a_code(sim):
    connector_id = usable(sim, 1)[0]
    poor = _as_driver("13900000001", money=None)
    low = poor.post("/api/driver/sessions/", {"operator_id": SIM_ID, "connector_id": connector_id}, format="json")
    assert low.status_code == 402 and low.json()["code"] == "balance_low"
    rich = _as_driver("13900000002")
    unknown = rich.post("/api/driver/sessions/", {"operator_id": SIM_ID, "connector_id": "NOPE"}, format="json")
    assert unknown.status_code == 404 and unknown.json()["code"] == "connector_unknown"
    missing = rich.post("/api/driver/sessions/", {}, format="json")
    assert missing.status_code == 400 and "qr" in missing.json()
    first = rich.post("/api/driver/sessions/", {"operator_id": SIM_ID, "connector_id": connector_id}, format="json")
    assert first.status_code == 201
    other = _as_driver("13900000003")
    busy = other.post("/api/driver/sessions/", {"operator_id": SIM_ID, "connector_id": connector_id}, format="json")
    assert busy.status_code == 409 and busy.json()["code"] == "connector_busy"
    seq = first.json()["start_charge_seq"]
    assert other.get(f"/api/driver/sessions/{seq}/").status_code == 404  # another driver's session is not theirs
    assert other.post(f"/api/driver/sessions/{seq}/stop/").status_code == 404


def test_only_drivers_use_the_driver_api(sim, regulator, client):
    client.force_login(regulator)
    assert client.get("/api/driver/wallet/").status_code == 403
    assert APIClient().get("/api/driver/wallet/").status_code in (401, 403)


def test_an_unreachable_operator_is_not_asked_again_for_a_while(sim, settings):
    import socket

    from django.core.cache import cache

    from apps.interconnect.models import Exchange

    cache.clear()
    api = _as_driver("13900000009")
    connector_id = usable(sim, 1)[0]
    with socket.socket() as probe:  # a port nobody listens on: the platform is down
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/evcs/v1/"
    Operator.objects.filter(pk=SIM_ID).update(endpoint_url=dead)
    with enqueue_by(eager_enqueue):  # the policy is asked by a task: here a worker that answers at once
        first = api.get(f"/api/driver/connectors/{SIM_ID}/{connector_id}/policy/").json()
        assert first["asked_now"] is False and first["error"]
        journalled = Exchange.objects.count()
        again = api.get(f"/api/driver/connectors/{SIM_ID}/{connector_id}/policy/").json()
    assert "不再询问" in again["error"] and Exchange.objects.count() == journalled  # nothing sent
    cache.clear()


def test_the_policy_page_never_calls_the_operator_inside_the_request(sim):
    """The question to the operator is a task: the request answers with what is known and sends nothing itself."""
    from django.core.cache import cache

    from apps.interconnect.models import Exchange

    cache.clear()
    api = _as_driver("13900000010")
    connector_id = usable(sim, 1)[0]
    sent_before = Exchange.objects.filter(direction="out").count()
    with enqueue_by(Recorder()) as queued:
        policy = api.get(f"/api/driver/connectors/{SIM_ID}/{connector_id}/policy/").json()
    assert Exchange.objects.filter(direction="out").count() == sent_before  # nothing on the wire in the request
    connector = Connector.objects.get(operator_id=SIM_ID, connector_id=connector_id)
    assert queued == [(connector_policy_ask_task.name, (connector.pk,), {}, {})]
    assert policy["asked_now"] is False and policy["error"] == "" and policy["price_now"] is None  # nothing known yet
    # The worker runs it; the next look shows the answer, without asking again (it is fresh).
    assert connector_policy_ask_task.apply(args=[connector.pk]).get() == ""
    with enqueue_by(Recorder()) as queued:
        again = api.get(f"/api/driver/connectors/{SIM_ID}/{connector_id}/policy/").json()
    assert queued == [] and again["periods"] and again["price_now"] is not None


@pytest.fixture
def broker_refused(settings):
    """The real Celery app publishing to a port nothing listens on (connection refused, as while Redis restarts)."""
    from hlht_portal.celery import app

    settings.HLHT_ENQUEUE = "apps.core.jobs.celery_enqueue"
    previous = app.conf.broker_write_url
    app.conf.broker_write_url = "redis://127.0.0.1:9/0"  # what publishing connects to (set from broker_url at setup)
    app._pool = None  # the connection pool and producer pool are made from it on first use
    app.amqp._producer_pool = None
    yield
    app.conf.broker_write_url = previous
    app._pool = None
    app.amqp._producer_pool = None


def test_a_start_while_the_broker_is_down_is_taken_and_answered_as_taken(sim, broker_refused):
    # Before: the session and its 100 元 hold committed, then publishing the start command's wake-up raised after the
    # commit and the driver was answered an HTML 500 — while the command went out later and the car charged.
    api = _as_driver("13812345600")
    connector_id = usable(sim, 1)[0]
    started = api.post("/api/driver/sessions/", {"qr": qr_text(connector_id, SIM_ID)}, format="json")
    assert started.status_code == 201, started.content
    assert started["Content-Type"] == "application/json"
    seq = started.json()["start_charge_seq"]
    assert hold_of(Driver.objects.get(phone="13812345600").pk, seq) == conf().charging.driver_hold
    command = OutboundCommand.objects.get(session__start_charge_seq=seq)
    assert command.state == CommandState.PENDING  # the row is the truth: the sweep sends it once a worker runs
    assert api.get(f"/api/driver/sessions/{seq}/").json()["state"] == 1
