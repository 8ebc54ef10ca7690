"""The protocol fuzz of `manage.py hlht_fuzz_protocol` (apps/demo/fuzz.py), a few thousand cases in the suite: every
served interface, Data drawn from the schema and mutated, signed with valid keys; no Ret 500, no answer over 1 s,
every answer an envelope, and one journal row per answer."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from django.conf import settings

from apps.demo.fuzz import (
    SLOW_SECONDS,
    Fuzzer,
    Plan,
    Reply,
    cases,
    directory_hints,
    platforms_provision,
)
from apps.interconnect.models import Exchange
from apps.interconnect.registry import REGISTRY
from apps.protocol import Ret

pytestmark = pytest.mark.django_db

CASES = 2000


@pytest.fixture
def fuzzer(client) -> Fuzzer:
    platforms = platforms_provision(0)
    plan = Plan.served(platforms, directory_hints([p.operator_id for p in platforms]))
    prefix = "/" + settings.HLHT_PROTOCOL_PREFIX

    def send(interface: str, body: bytes, authorization: str | None) -> Reply:
        extra = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
        began = time.perf_counter()
        response = client.post(
            prefix + quote(interface, safe=""), data=body, content_type="application/json;charset=utf-8", **extra
        )
        return Reply(response.status_code, response.content, time.perf_counter() - began)

    return Fuzzer(plan, send)


def test_the_plan_is_every_interface_the_portal_serves(fuzzer):
    assert set(fuzzer.plan.interfaces) == set(REGISTRY)
    kinds = {p.kind for p in fuzzer.plan.platforms}
    for name in REGISTRY:  # a platform of a kind allowed to call it: the Data reaches the business layer
        assert fuzzer.plan.platform_for(name) is not None, name
    assert kinds == {"operator", "consumer"}


def test_thousands_of_hostile_cases_get_envelopes_never_500_nor_slow_and_each_is_journalled(fuzzer):
    before = Exchange.objects.count()
    failure = fuzzer.run(CASES, seed_value=20261207, batch=500)
    tally = fuzzer.tally
    assert failure is None, failure
    assert tally.violations == []
    assert tally.cases >= CASES
    assert tally.rets.get(str(Ret.SYSTEM), 0) == 0
    assert tally.slow == [], f"answers over {SLOW_SECONDS} s: {tally.slow[:3]}"
    assert Exchange.objects.count() - before == tally.answers  # one journal row per answer, refused ones included
    # The Data reached the business layer: most valid envelopes were validated or handled, some taken outright.
    assert tally.reached > CASES * 0.8
    assert tally.rets[str(Ret.OK)] > CASES * 0.05 and tally.rets[str(Ret.BUSINESS)] > CASES * 0.2
    # And the broken envelopes were met too (bad Sig, token, unknown caller or interface…).
    assert tally.rets[str(Ret.PARAMETERS)] + tally.rets[str(Ret.SIGNATURE)] + tally.rets[str(Ret.TOKEN)] > 50


def test_a_violation_stops_the_run_with_the_minimal_example(fuzzer):
    # The fuzz itself must be able to fail: a server that answers Ret 500 to one interface is caught and shrunk.
    real = fuzzer.send

    def broken_server(interface: str, body: bytes, authorization: str | None) -> Reply:
        reply = real(interface, body, authorization)
        if interface == "notification_stationStatus":
            return Reply(200, b'{"Ret":500,"Msg":"x","Data":"","Sig":""}', reply.seconds)
        return reply

    fuzzer.send = broken_server
    failure = fuzzer.run(300, seed_value=7, batch=300)
    assert failure is not None and "Ret 500" in failure
    assert "notification_stationStatus" in failure and "Case(" in failure


def test_cases_draw_every_interface_and_broken_envelopes(fuzzer):
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings

    seen: set[str] = set()
    broken: set[str] = set()

    @hsettings(
        max_examples=400, database=None, suppress_health_check=list(HealthCheck), deadline=None, derandomize=True
    )
    @given(case=cases(fuzzer.plan))
    def draw(case):
        (broken if case.broken else seen).add(case.broken or case.interface)

    draw()
    assert seen == set(REGISTRY)
    assert len(broken) >= 6
