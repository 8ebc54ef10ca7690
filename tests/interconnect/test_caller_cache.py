"""The per-process cache of callers' key sets never delays what must be immediate."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.interconnect.keys import keyset_rotate
from apps.operators.models import Operator
from apps.protocol import Ret

from .conftest import OPERATOR_ID, Caller, keyset

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(settings):
    settings.HLHT_CALLER_CACHE_SECONDS = 30


def _login_data(keys):
    return {"OperatorID": OPERATOR_ID, "OperatorSecret": keys.operator_secret}


def test_cache_saves_the_key_lookup(caller, cached):
    caller.login()
    with CaptureQueriesContext(connection) as first:
        caller.login()
    with CaptureQueriesContext(connection) as second:
        caller.login()
    assert len(second.captured_queries) == len(first.captured_queries)
    assert not any("interconnect_operatorkeyset" in q["sql"] for q in second.captured_queries)


def test_new_keys_work_at_once_despite_the_cache(caller, client, cached):
    caller.login()  # the old set is now cached
    new = keyset(keyset_rotate(operator=Operator.objects.get(pk=OPERATOR_ID), overlap=timedelta(hours=1)))
    assert Caller(client=client, operator_id=OPERATOR_ID, keys=new).login()


def test_expired_keys_stop_on_time_despite_the_cache(caller, client, cached):
    new = keyset(keyset_rotate(operator=Operator.objects.get(pk=OPERATOR_ID), overlap=timedelta(seconds=1)))
    assert caller.login()  # old and new sets are now cached, the old one retiring in a second
    time.sleep(1.2)
    answer = Caller(client=client, operator_id=OPERATOR_ID, keys=new).call(
        "query_token", envelope=caller.envelope(_login_data(caller.keys))
    )
    assert answer.ret == Ret.SIGNATURE  # the cached row's retires_at is checked when it is used
    assert Caller(client=client, operator_id=OPERATOR_ID, keys=new).login()


def test_suspension_is_immediate_despite_the_cache(caller, cached):
    caller.login()
    Operator.objects.filter(pk=OPERATOR_ID).update(status="suspended")
    answer = caller.call("query_token", _login_data(caller.keys))
    assert answer.data["SuccStat"] == 1
    assert answer.data["FailReason"] == 3
