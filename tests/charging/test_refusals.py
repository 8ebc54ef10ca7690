"""A driver's request refused: one type per reason, each with the code and status the driver API answers."""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.charging import exceptions as refusals
from apps.charging.services import Refused, session_start
from apps.drivers.exceptions import BalanceTooLow, DriverSuspended
from apps.drivers.services import driver_register, wallet_top_up
from apps.protocol.names import AuthFailReason

# The codes and statuses the driver API answered before each refusal had its type: programs rely on them.
EXPECTED = {
    refusals.ConnectorUnknown: ("connector_unknown", 404),
    refusals.AccountSuspended: ("driver_suspended", 403),
    refusals.OperatorSuspended: ("operator_suspended", 409),
    refusals.ConnectorOffline: ("connector_offline", 409),
    refusals.ConnectorFault: ("connector_fault", 409),
    refusals.ConnectorBusy: ("connector_busy", 409),
    refusals.BalanceLow: ("balance_low", 402),
    refusals.OperatorUnreachable: ("operator_unreachable", 503),
    refusals.AuthRefused: ("auth_refused", 409),
    refusals.SessionUnknown: ("session_unknown", 404),
    refusals.SessionFinished: ("session_finished", 409),
    refusals.SessionNotInReview: ("session_not_in_review", 409),
    refusals.NoteRequired: ("note_required", 400),
    refusals.AmountOutOfRange: ("amount_out_of_range", 400),
}


def test_every_refusal_keeps_its_code_and_status():
    assert set(EXPECTED) == set(Refused.__subclasses__())
    assert {cls: (cls.code, cls.status) for cls in EXPECTED} == EXPECTED


class _Answering:
    def __init__(self, answer: dict) -> None:
        self.answer = answer

    def call(self, interface, payload):
        return self.answer


@pytest.fixture
def start(directory, monkeypatch):
    """session_start against operator a's connector, its platform answering query_equip_auth with `answer`."""
    driver = driver_register(phone="13800000002")
    wallet_top_up(driver_id=driver.pk, amount=Decimal("50"), key="PAY-1")

    def run(answer: dict | None = None):
        @contextmanager
        def client(operator):
            yield _Answering(answer or {"SuccStat": 0, "FailReason": 0})

        monkeypatch.setattr("apps.charging.services.requests.operator_client", client)
        return session_start(driver_id=driver.pk, operator_id="123456789", connector_id="CN123456789")

    return run


def test_the_operators_auth_refusal_names_its_reason(start):
    with pytest.raises(refusals.AuthRefused) as refused:
        start({"SuccStat": 1, "FailReason": AuthFailReason.NOT_PLUGGED_IN})
    assert refused.value.message == "设备认证失败：此设备尚未插枪" and refused.value.fail_reason == 1
    assert refused.value.body() == {"code": "auth_refused", "detail": "设备认证失败：此设备尚未插枪", "fail_reason": 1}
    with pytest.raises(refusals.AuthRefused, match=r"运营商拒绝（FailReason 7）"):
        start({"SuccStat": 1, "FailReason": 7})


@pytest.mark.parametrize(
    ("raised", "refusal", "message"),
    [
        (DriverSuspended(), refusals.AccountSuspended, "账户已停用"),
        (BalanceTooLow(balance=Decimal("3.00"), minimum=Decimal("10")), refusals.BalanceLow, "余额 3.00 元低于"),
    ],
)
def test_a_hold_refused_after_the_check_is_told_apart_by_its_type(start, monkeypatch, raised, refusal, message):
    # The account or the balance changed between the check and the hold (another request, an administrator).
    def hold(**_):
        raise raised

    monkeypatch.setattr("apps.charging.services.requests.wallet_hold", hold)
    with pytest.raises(refusal, match=f"^{message}"):
        start()


def test_the_driver_api_answers_a_refusal_through_the_exception_handler(directory):
    driver = driver_register(phone="13800000003", password="pw-for-tests-only")
    client = APIClient()
    client.force_authenticate(driver.user)
    response = client.post("/api/driver/sessions/", {"operator_id": "123456789", "connector_id": "NOPE"})
    assert response.status_code == 404
    assert response.json() == {"code": "connector_unknown", "detail": "充电接口 NOPE（运营商 123456789）不存在"}
