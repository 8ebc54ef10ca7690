"""schemathesis against the portal's own OpenAPI schema (drf-spectacular), as each role with its API token: every
operation, requests drawn from the schema, answers checked against it — no 5xx, the status code, content type and
body the schema documents. A small budget per operation and role: the whole file stays within about a minute."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.drivers.services import driver_register

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 2  # per operation and role, after the schema's own examples: 45 operations × 3 roles
ROLES = ("regulator", "manager", "driver")


@functools.cache
def _schema() -> Any:
    """The schema /api/schema/ serves, generated once (it needs no database), with the WSGI app to call."""
    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = get_wsgi_application()
    return schema


def _operations() -> list[Any]:
    return [result.ok() for result in _schema().get_all_operations()]


OPERATIONS = {f"{op.method.upper()} {op.path}": op for op in _operations()}


@pytest.fixture
def _in_test_transaction():
    """Requests through the WSGI app inside the test's transaction: Django closes the connection when a request
    ends (close_old_connections), which its own test client also switches off for the request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(city, regulator, manager_a, _in_test_transaction) -> dict[str, str]:
    """Each role's API token, over the API tests' small city (two operators, orders, disputes, statuses)."""
    driver = driver_register(phone="13900001111")
    return {
        "regulator": Token.objects.create(user=regulator).key,
        "manager": Token.objects.create(user=manager_a).key,
        "driver": Token.objects.create(user=driver.user).key,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_the_schema_says(tokens, role):
    headers = {"Authorization": f"Token {tokens[role]}"}
    failures = []
    for name, operation in sorted(OPERATIONS.items()):

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,  # the same requests every run: a failure here is the code's, not the draw's
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            call()
        except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup; all are reported together
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{name}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)


def test_each_operation_documents_the_errors_it_answers():
    raw = _schema().raw_schema
    for path, operations in raw["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, path)
            names = {p["name"] for p in operation.get("parameters", [])}
            if "{" in path or "page" in names:
                assert "404" in codes, (method, path)  # an object not visible, a page past the last
            if names:
                assert "400" in codes, (method, path)  # a parameter refused, named
    start = raw["paths"]["/api/driver/sessions/"]["post"]["responses"]
    assert {"402", "409"} <= set(start)  # balance_low, connector_busy
    # Nothing on the start waits on an operator or the broker (the outbox): no 503 is answered, none is documented.
    assert "503" not in start


def test_an_open_disputes_blank_resolution_is_a_documented_value():
    raw = _schema().raw_schema
    enum = raw["components"]["schemas"]["ResolutionOrBlankEnum"]["enum"]
    assert "" in enum and {"operator", "portal", "write_off"} <= set(enum)
