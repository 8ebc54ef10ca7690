"""The token check and the replay mark in one step (hlht_token_mark on PostgreSQL, two statements on SQLite): each
verdict, and that a refused token marks nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.interconnect.models import AccessToken, SeenEnvelope
from apps.interconnect.services import operator_provision
from apps.interconnect.tokens import token_check_and_mark, token_issue
from apps.operators.choices import OperatorStatus
from apps.operators.models import Operator

pytestmark = pytest.mark.django_db


def _mark(operator_id: str, seq: str = "0001") -> dict:
    return {"operator_id": operator_id, "timestamp": "20261207120000", "seq": seq, "sig": "A" * 32,
            "received_at": timezone.now()}  # fmt: skip


@pytest.fixture
def operators():
    operator_provision(operator_id="MARKTEST1", name="一")
    operator_provision(operator_id="MARKTEST2", name="二")
    return Operator.objects.get(pk="MARKTEST1"), Operator.objects.get(pk="MARKTEST2")


def test_a_valid_token_marks_once_then_answers_replay(operators):
    one, _ = operators
    token, _ = token_issue(operator=one)
    assert token_check_and_mark(operator=one, token=token, mark=_mark(one.pk)) == (True, True)
    assert token_check_and_mark(operator=one, token=token, mark=_mark(one.pk)) == (True, False)
    assert token_check_and_mark(operator=one, token=token, mark=_mark(one.pk, "0002")) == (True, True)
    assert SeenEnvelope.objects.filter(operator_id=one.pk).count() == 2


def test_a_refused_token_marks_nothing(operators):
    one, two = operators
    token, _ = token_issue(operator=one)
    others, _ = token_issue(operator=two)
    assert token_check_and_mark(operator=one, token="not-a-token", mark=_mark(one.pk)) == (False, False)
    assert token_check_and_mark(operator=one, token=others, mark=_mark(one.pk)) == (False, False)
    AccessToken.objects.filter(operator=two).update(expires_at=timezone.now() - timedelta(seconds=1))
    token_two, _ = token_issue(operator=two)
    AccessToken.objects.filter(operator=two).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert token_check_and_mark(operator=two, token=token_two, mark=_mark(two.pk)) == (False, False)
    Operator.objects.filter(pk=one.pk).update(status=OperatorStatus.SUSPENDED)  # suspension ends every token at once
    assert token_check_and_mark(operator=one, token=token, mark=_mark(one.pk)) == (False, False)
    assert not SeenEnvelope.objects.filter(operator_id__in=[one.pk, two.pk]).exists()
