"""A platform that refuses the OperatorSecret the portal was given: the check says so, from the error's type."""

from __future__ import annotations

import dataclasses

import pytest

from apps.onboarding.conformance import conformance_run
from tests.onboarding.test_conformance import _platform
from tests.simulator.support import OUTBOUND, SIM_ID, keys_file

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_refused_operator_secret_is_named(live_server, monkeypatch):
    # The portal holds an OperatorSecret the platform does not know; its data and Sig keys still match.
    wrong = dataclasses.replace(OUTBOUND, operator_secret="0123456789abcdef")
    monkeypatch.setattr("tests.onboarding.test_conformance.keys_file", lambda: keys_file(outbound=wrong))
    sim = _platform(live_server)
    try:
        report = conformance_run(operator_id=SIM_ID)
    finally:
        sim.stop()
    check = next(c for c in report.checks if c["name"] == "token_out")
    assert check["outcome"] == "failed"
    assert check["detail"].startswith("运营商拒绝本平台签发给它的 OperatorSecret："), check
    assert "FailReason=2 (密钥错误)" in check["detail"]
