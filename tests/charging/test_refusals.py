"""A driver's request refused: one type per reason, each with the code and status the driver API answers."""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from apps.charging import exceptions as refusals
from apps.charging.choices import CommandKind, CommandState, Outcome
from apps.charging.models import OutboundCommand
from apps.charging.services import Refused, command_send, session_start, session_stop
from apps.drivers.choices import EntryKind
from apps.drivers.exceptions import BalanceTooLow, DriverSuspended
from apps.drivers.models import WalletEntry
from apps.drivers.selectors import balance_of, hold_of
from apps.drivers.services import driver_register, wallet_top_up
from apps.orders.choices import StartChargeSeqStat as S
from apps.protocol.errors import TransientError
from apps.protocol.names import AuthFailReason, Interface

# The codes and statuses the driver API answered before each refusal had its type: programs rely on them.
EXPECTED = {
    refusals.ConnectorUnknown: ("connector_unknown", 404),
    refusals.AccountSuspended: ("driver_suspended", 403),
    refusals.OperatorSuspended: ("operator_suspended", 409),
    refusals.ConnectorOffline: ("connector_offline", 409),
    refusals.ConnectorFault: ("connector_fault", 409),
    refusals.ConnectorBusy: ("connector_busy", 409),
    refusals.BalanceLow: ("balance_low", 402),
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
    """An operator platform answering query_equip_auth with `answer` (or failing with it, an exception)."""

    on_exchange = None  # journals nothing

    def __init__(self, answer: dict | Exception) -> None:
        self.answer, self.calls = answer, []

    def call(self, interface, payload):
        self.calls.append(interface)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def start(directory):
    """session_start against operator a's connector: no call to the operator, only the authentication queued."""
    driver = driver_register(phone="13800000002")
    wallet_top_up(driver_id=driver.pk, amount=Decimal("50"), key="PAY-1")

    def run():
        return session_start(driver_id=driver.pk, operator_id="123456789", connector_id="CN123456789")

    return run


@pytest.fixture
def platform(monkeypatch):
    """The outbox's operator platform, answering each call with what `answering(answer)` set."""
    answering = _Answering({"SuccStat": 0, "FailReason": 0})

    @contextmanager
    def client(operator):
        yield answering

    monkeypatch.setattr("apps.charging.services.outbox.operator_client", client)
    return answering


def _send(session, kind):
    command = OutboundCommand.objects.get(session=session, kind=kind)
    return command_send(command.pk)


def test_a_start_is_answered_before_the_operator_is_asked_and_authenticates_through_the_outbox(start, platform):
    session = start()
    assert session.state == S.STARTING and hold_of(session.driver_id, session.start_charge_seq) == Decimal("50")
    assert list(OutboundCommand.objects.filter(session=session).values_list("kind", flat=True)) == [CommandKind.AUTH]
    assert platform.calls == []  # nothing went to the operator inside the request

    assert _send(session, CommandKind.AUTH) == CommandState.DONE
    assert platform.calls == [Interface.QUERY_EQUIP_AUTH]
    start_command = OutboundCommand.objects.get(session=session, kind=CommandKind.START)  # queued by the answer
    assert start_command.state == CommandState.PENDING


def test_the_operators_auth_refusal_ends_the_session_names_its_reason_and_releases_the_hold_once(start, platform):
    session = start()
    platform.answer = {"SuccStat": 1, "FailReason": AuthFailReason.NOT_PLUGGED_IN}
    _send(session, CommandKind.AUTH)
    session.refresh_from_db()
    assert (session.state, session.outcome, session.fail_reason) == (S.FINISHED, Outcome.AUTH_REFUSED, 1)
    assert session.events.filter(note="设备认证失败：此设备尚未插枪").exists()
    assert not OutboundCommand.objects.filter(session=session, kind=CommandKind.START).exists()
    assert balance_of(session.driver_id) == Decimal("50")
    releases = WalletEntry.objects.filter(driver_id=session.driver_id, kind=EntryKind.RELEASE)
    assert releases.count() == 1
    _send(session, CommandKind.AUTH)  # done: sending it again changes nothing
    assert releases.count() == 1


def test_an_operator_that_cannot_be_reached_for_the_authentication_ends_the_session_and_releases_the_hold(
    start, platform, settings
):
    settings.HLHT_COMMAND_ATTEMPTS = 1
    session = start()
    platform.answer = TransientError("connection refused")
    assert _send(session, CommandKind.AUTH) == CommandState.FAILED
    session.refresh_from_db()
    assert (session.state, session.outcome) == (S.FINISHED, Outcome.AUTH_REFUSED)
    assert balance_of(session.driver_id) == Decimal("50")
    assert not OutboundCommand.objects.filter(session=session, kind=CommandKind.START).exists()


def test_a_stop_while_the_authentication_is_under_way_cancels_and_the_late_answer_starts_nothing(start, platform):
    session = start()
    stopped = session_stop(driver_id=session.driver_id, seq=session.start_charge_seq)
    assert (stopped.state, stopped.outcome) == (S.FINISHED, Outcome.CANCELLED)
    assert balance_of(session.driver_id) == Decimal("50")
    _send(session, CommandKind.AUTH)  # the operator authenticates after all
    assert not OutboundCommand.objects.filter(session=session, kind__in=[CommandKind.START, CommandKind.STOP]).exists()


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
