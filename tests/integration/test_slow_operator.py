"""One slow operator platform never holds a web worker: a driver's start on it is answered at once, another operator's
push through the same gunicorn worker meanwhile in well under a second, and the start completes when the platform
answers (its authentication and start sent by the outbox, not by the request)."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from decimal import Decimal

import pytest
import requests
from django.db import connections
from rest_framework.authtoken.models import Token

from apps.charging.choices import CommandKind, CommandState
from apps.charging.models import ChargingSession, OutboundCommand
from apps.charging.services import command_send
from apps.demo.benchkit import gunicorn_portal
from apps.drivers.services import driver_register, wallet_top_up
from apps.interconnect.models import Exchange
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.orders.choices import StartChargeSeqStat as S
from apps.protocol import CST, MemoryTokenStore, PeerClient
from apps.protocol.names import Interface
from apps.stations.pulls import stations_info_pull
from tests.simulator.support import INBOUND2, OUTBOUND2, SIM2_ID, SIM_ID, keys_file, make_sim, usable

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LATE = 5.0  # seconds the slow platform takes to answer each call (it carries the call out, then answers)


def _send_outbox(stop_after: float) -> None:
    """The worker's part, in a thread of this process: send what the outbox holds until nothing is pending."""
    deadline = time.monotonic() + stop_after
    try:
        while time.monotonic() < deadline:
            pending = list(OutboundCommand.objects.filter(state=CommandState.PENDING).values_list("pk", flat=True))
            if not pending:
                return
            for command_id in pending:
                command_send(command_id)
    finally:
        connections.close_all()


def test_a_slow_operator_never_holds_a_web_worker_and_its_start_completes_when_it_answers():
    operator_provision(operator_id=SIM_ID, name="慢运营商", keys=keys_file())
    operator_provision(operator_id=SIM2_ID, name="快运营商", keys=keys_file(SIM2_ID, INBOUND2, OUTBOUND2))
    driver = driver_register(phone="13800000077")
    wallet_top_up(driver_id=driver.pk, amount=Decimal("100"), key="PAY-slow")
    token = Token.objects.create(user=driver.user).key
    # One worker with one thread: a request waiting on an operator would hold the only place every other is served.
    with gunicorn_portal(workers=1, threads=1) as portal:
        base = portal.split("/evcs/")[0]
        slow = make_sim(start=datetime.now(CST), push=True, portal_url=f"{portal.rstrip('/')}/", stations=4, seed=3,
                        faults=f"late_answer:{LATE:g}")  # fmt: skip
        try:
            Operator.objects.filter(pk=SIM_ID).update(endpoint_url=slow.base_url)
            assert stations_info_pull(operator=Operator.objects.get(pk=SIM_ID), full=True).status == "succeeded"
            connector_id = usable(slow)[0]

            began = time.perf_counter()
            answer = requests.post(f"{base}/api/driver/sessions/", json={"operator_id": SIM_ID,
                                   "connector_id": connector_id}, headers={"Authorization": f"Token {token}"},
                                   timeout=30)  # fmt: skip
            start_s = time.perf_counter() - began
            assert answer.status_code == 201, answer.text
            assert start_s < 1.0, f"the start waited {start_s:.1f} s"  # the slow platform answers after 5 s
            seq = answer.json()["start_charge_seq"]
            assert answer.json()["state"] == S.STARTING

            sender = threading.Thread(target=_send_outbox, args=(60.0,))
            sender.start()
            time.sleep(0.5)  # the authentication is on the wire to the slow platform now
            fast = PeerClient(portal, SIM2_ID, INBOUND2, MemoryTokenStore())
            try:
                push_s = []
                for status in (1, 3, 1):
                    began = time.perf_counter()
                    fast.call(Interface.NOTIFICATION_STATION_STATUS, {"ConnectorStatusInfo": {
                        "ConnectorID": "FAST01", "Status": status, "ParkStatus": 0, "LockStatus": 0}})  # fmt: skip
                    push_s.append(time.perf_counter() - began)
            finally:
                fast.close()
            assert sender.is_alive()  # the pushes were answered while the slow platform was still being waited for
            assert max(push_s) < 1.0, push_s
            sender.join(timeout=60)
            assert not sender.is_alive()

            session = ChargingSession.objects.get(start_charge_seq=seq)
            commands = dict(OutboundCommand.objects.filter(session=session).values_list("kind", "state"))
            assert commands == {CommandKind.AUTH: CommandState.DONE, CommandKind.START: CommandState.DONE}
            assert Exchange.objects.filter(operator_id=SIM_ID, interface=Interface.QUERY_EQUIP_AUTH, ret=0).count() == 1
            # The slow platform carries the start out and pushes its result (through gunicorn): the session charges.
            slow.advance(20)
            assert slow.flush(20)
            session.refresh_from_db()
            assert session.state == S.CHARGING
        finally:
            slow.stop()
