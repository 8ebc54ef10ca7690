"""Fixtures shared by the whole suite: people in each role and a small directory."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.contrib.auth.models import Group

from apps.core.roles import OPERATOR_MANAGER, REGULATOR
from apps.core.services import roles_sync
from apps.interconnect.services import operator_provision
from apps.operators.models import Operator
from apps.protocol import CST
from tests import factories
from tests.caller import OPERATOR_ID, Caller, keyset
from tests.simulator.support import SIM_ID, keys_file, make_sim


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist names each test by its group
def pytest_collection_modifyitems(config, items):
    """`make test` runs pytest-xdist with two workers and `--dist loadgroup`: every test but the `slow` ones is put in
    one group, so they run one after another in one worker exactly as without xdist, while the `slow` ones (real
    processes, mostly waiting on sockets and timers) run beside them in the other worker. Each worker has its own
    test database (`…_gw0`, `…_gw1`); the slow tests' servers, clusters and queues are on free ports or their own."""
    if not getattr(config.option, "loadgroup", False):  # what xdist sets in its workers for `--dist loadgroup`
        return
    serial = pytest.mark.xdist_group("serial")
    for item in items:
        if item.get_closest_marker("slow") is None:
            item.add_marker(serial)


@pytest.fixture(autouse=True)
def _no_caller_cache(settings):
    """Tests change operators mid-test and expect the next message to see it (test_caller_cache tests the cache)."""
    from apps.interconnect.keys import caller_cache_clear

    settings.HLHT_CALLER_CACHE_SECONDS = 0
    # The tests' simulated platforms listen on 127.0.0.1 (tests/onboarding checks the refusal with this off).
    settings.HLHT_ALLOW_PRIVATE_ENDPOINTS = True
    caller_cache_clear()
    yield
    caller_cache_clear()


@pytest.fixture
def roles(db):
    roles_sync()


@pytest.fixture
def directory(db):
    """Two operators, each with one station, one equipment and one connector."""
    a = factories.operator("123456789")
    b = factories.operator("MA59CU773")
    conns = {}
    for op in (a, b):
        st = factories.station(op, f"ST{op.operator_id}")
        eq = factories.equipment(st, f"EQ{op.operator_id}")
        conns[op.operator_id] = factories.connector(eq, f"CN{op.operator_id}")
    return {"a": a, "b": b, "connectors": conns}


def _staff(django_user_model, username: str, group: str | None):
    user = django_user_model.objects.create_user(username=username, password="pw-for-tests-only", is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def regulator(db, roles, django_user_model):
    return _staff(django_user_model, "reg", REGULATOR)


@pytest.fixture
def manager_a(db, roles, directory, django_user_model):
    user = _staff(django_user_model, "mgr_a", OPERATOR_MANAGER)
    factories.OperatorAccountFactory(user=user, operator=directory["a"])
    return user


@pytest.fixture
def provisioned(db) -> dict:
    """Operator 123456789, active, with both key sets (as operator_provision prints them)."""
    return operator_provision(operator_id=OPERATOR_ID, name="测试运营商", tel="400-000-0000")


@pytest.fixture
def caller(client, provisioned) -> Caller:
    return Caller(client=client, operator_id=OPERATOR_ID, keys=keyset(provisioned["inbound"]))


@pytest.fixture
def worker(settings, monkeypatch):
    """A real Celery worker (two threads) consuming a queue of its own on the configured broker (Redis in CI).

    Yields the tasks it finished as (name, kwargs, return value). Pull retries are quick and reads time out
    after 1.5 s, so fault tests finish in seconds. Needs `django_db(transaction=True)`: the worker's threads
    have their own database connections.
    """
    from celery.app import autoretry

    from apps.interconnect.tasks import pull_task
    from hlht_portal.celery import app

    # The pull task's retry options are fixed when it is declared (30 s·2ⁿ); here two retries, 0.3 s·2ⁿ apart.
    monkeypatch.setattr(pull_task, "max_retries", 2)
    monkeypatch.setattr(
        autoretry, "get_exponential_backoff_interval", lambda factor, retries, maximum, full_jitter: 0.3 * 2**retries
    )
    settings.HLHT_CLIENT_READ_TIMEOUT = 1.5
    queue = f"hlht-test-{uuid.uuid4().hex[:12]}"  # never shared with a developer's running worker
    settings.HLHT_PULL_QUEUE = f"{queue}-pulls"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    finished: list[tuple[str, dict, object]] = []

    def collect(task=None, kwargs=None, retval=None, **_):
        finished.append((task.name, kwargs or {}, retval))

    task_postrun.connect(collect, weak=False)
    try:
        with start_worker(
            app,
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            queues=[queue, settings.HLHT_PULL_QUEUE],
            loglevel="WARNING",
        ):
            yield finished
    finally:
        task_postrun.disconnect(collect)
        app.conf.task_default_queue = previous


@pytest.fixture
def platform(db):
    """A 25-station operator platform on its own HTTP server, connected to the portal."""
    sims = []

    def build(**overrides):
        operator_provision(operator_id=SIM_ID, name="模拟运营商", keys=keys_file())
        sim = make_sim(start=datetime.now(CST), stations=overrides.pop("stations", 25), push=False, **overrides)
        sims.append(sim)
        Operator.objects.filter(pk=SIM_ID).update(endpoint_url=sim.base_url)
        return sim

    yield build
    for sim in sims:
        sim.stop()
