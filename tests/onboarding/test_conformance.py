"""The conformance check over real HTTP against the simulator: normal mode passes, each fault fails where it should."""

from datetime import datetime

import pytest

from apps.interconnect.services import operator_provision
from apps.onboarding.conformance import conformance_run
from apps.operators.models import Operator
from apps.protocol import CST
from tests.simulator.support import SIM_ID, keys_file, make_sim, usable

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _platform(live_server, faults: str = "", **overrides):
    operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file(), status="testing")
    sim = make_sim(start=datetime.now(CST), push=True, portal_url=f"{live_server.url}/evcs/v1/", stations=25,
                   seed=3, faults=faults, **overrides)  # fmt: skip
    Operator.objects.filter(pk=SIM_ID).update(endpoint_url=sim.base_url)
    # A status changes and is pushed: the platform fetches its token from the portal (the inbound direction).
    sim.set_connector_status(usable(sim)[0], 4)
    assert sim.flush(20)
    return sim


def _outcomes(report):
    return {c["name"]: c["outcome"] for c in report.checks}


def test_normal_platform_passes_every_check(live_server):
    sim = _platform(live_server)
    try:
        report = conformance_run(operator_id=SIM_ID)
    finally:
        sim.stop()
    failed = [c for c in report.checks if c["outcome"] == "failed"]
    assert report.passed, failed
    outcomes = _outcomes(report)
    for name in ("configured", "token_out", "token_wrong_secret", "token_in", "sig_encryption", "query_stations_info",
                 "paging", "last_query_time", "query_station_status", "query_station_stats",
                 "query_equip_business_policy", "query_equip_auth", "bad_sig", "bad_token", "bad_envelope",
                 "bad_business", "time:query_stations_info", "time:query_equip_auth", "status_push"):  # fmt: skip
        assert outcomes[name] == "passed", name
    assert all(c["ms"] is not None for c in report.checks if c["name"].startswith("time:"))
    assert report.exchanges and {e["interface"] for e in report.exchanges} >= {"query_token", "query_stations_info"}
    assert report.dialects_detected == []


@pytest.mark.parametrize(
    ("faults", "dialect", "failing", "passing", "flag"),
    [
        ("bad_sig:1", "", {"sig_encryption", "query_stations_info"}, {"token_out"}, None),
        ("busy:1", "", {"query_stations_info"}, {"token_out", "token_wrong_secret"}, None),
        ("error500:1", "", {"query_stations_info"}, {"token_out"}, None),
        ("invalid_records:1", "", {"query_stations_info"}, {"token_out", "sig_encryption"}, None),
        ("slow:1.2", "", {"time:query_equip_auth", "time:query_equip_business_policy"},
         {"time:query_stations_info", "query_equip_auth"}, None),
        ("early_token_expiry:0", "", {"query_stations_info"}, {"token_out"}, None),
        ("clock_skew:900", "", {"token_out"}, {"configured"}, None),
        ("refuse_secret_4004", "", {"token_wrong_secret"}, {"token_out", "query_stations_info"}, None),
        ("timeout:1", "", {"query_stations_info"}, {"token_out"}, None),
        ("drop_push:1", "", {"status_push"}, {"query_stations_info", "token_out"}, None),
        ("", "service_spelling", {"query_equip_business_policy"}, {"query_stations_info"}, "dialect_service_spelling"),
        ("", "lowercase_keys", {"token_out"}, {"configured"}, "dialect_lowercase_keys"),
        ("", "lower_camel_fields", {"token_out"}, {"configured"}, "dialect_lower_camel_fields"),
    ],
    ids=["bad_sig", "busy", "error500", "invalid_records", "slow", "early_token_expiry", "clock_skew",
         "refuse_secret_4004", "timeout", "drop_push", "dialect:service_spelling", "dialect:lowercase_keys",
         "dialect:lower_camel_fields"],
)  # fmt: skip
def test_each_fault_fails_at_its_check(live_server, faults, dialect, failing, passing, flag):
    from apps.simulator.config import parse_dialect

    sim = _platform(live_server, faults, dialect=parse_dialect(dialect), timeout_hold=0.2)
    try:
        report = conformance_run(operator_id=SIM_ID)
    finally:
        sim.stop()
    outcomes = _outcomes(report)
    assert not report.passed
    for name in failing:
        assert outcomes.get(name) == "failed", (name, report.checks)
    for name in passing:
        assert outcomes.get(name) == "passed", (name, report.checks)
    if flag:
        assert report.dialects_detected == [flag]
        detail = next(c["detail"] for c in report.checks if c["name"] == min(failing))
        assert flag in detail or flag == "dialect_service_spelling"


def test_a_platform_that_checks_the_sig_first_passes(live_server):
    """Its 4001 for a changed field with a stale Sig is right: the bad-envelope probe re-signs what it changed."""
    sim = _platform(live_server, sig_first=True)
    try:
        report = conformance_run(operator_id=SIM_ID)
    finally:
        sim.stop()
    assert report.passed, [c for c in report.checks if c["outcome"] == "failed"]
    outcomes = _outcomes(report)
    assert outcomes["bad_envelope"] == outcomes["bad_sig"] == "passed"
    assert next(c["detail"] for c in report.checks if c["name"] == "bad_envelope").startswith("Ret 4003")


@pytest.mark.parametrize("dialect", ["lowercase_keys", "lower_camel_fields"])
def test_the_wrong_secret_check_names_the_dialect_flag(live_server, dialect):
    from apps.simulator.config import parse_dialect

    sim = _platform(live_server, dialect=parse_dialect(dialect))
    try:
        report = conformance_run(operator_id=SIM_ID)
    finally:
        sim.stop()
    flag = f"dialect_{dialect}"
    for name in ("token_out", "token_wrong_secret"):
        check = next(c for c in report.checks if c["name"] == name)
        assert (check["outcome"], check["flag"]) == ("failed", flag), check
        assert flag in check["detail"], check
    assert report.dialects_detected == [flag]


@pytest.mark.parametrize("dialect", ["service_spelling", "lowercase_keys", "lower_camel_fields",
                                     "lowercase_keys,lower_camel_fields"])  # fmt: skip
def test_a_dialect_is_accepted_once_the_operator_has_its_flag(live_server, dialect):
    from apps.simulator.config import parse_dialect

    sim = _platform(live_server, dialect=parse_dialect(dialect))
    try:
        first = conformance_run(operator_id=SIM_ID)
        flags = {f"dialect_{name}": True for name in dialect.split(",")}
        assert set(first.dialects_detected) == set(flags) and not first.passed
        Operator.objects.filter(pk=SIM_ID).update(**flags)
        # Its pushes (the other direction) are accepted too now: a lower-case envelope included.
        sim.set_connector_status(usable(sim, 2)[1], 4)
        assert sim.flush(20)
        second = conformance_run(operator_id=SIM_ID)
    finally:
        sim.stop()
    assert second.passed, [c for c in second.checks if c["outcome"] == "failed"]


def test_the_command_prints_the_report(live_server, capsys):
    import json

    from django.core.management import call_command

    sim = _platform(live_server)
    try:
        call_command("hlht_conformance", "--operator-id", SIM_ID)
    finally:
        sim.stop()
    printed = json.loads(capsys.readouterr().out)
    assert printed["passed"] is True and printed["OperatorID"] == SIM_ID
    assert {c["name"] for c in printed["checks"]} >= {"token_out", "bad_sig", "query_stations_info"}
