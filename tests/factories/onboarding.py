"""Applications to connect, the key handover on approval, and conformance reports."""

from __future__ import annotations

from datetime import timedelta

import factory

from apps.core.secretbox import seal
from apps.onboarding.choices import ApplicationStatus
from apps.onboarding.models import Application, ConformanceReport, KeyHandover
from apps.operators.choices import OperatorKind
from apps.protocol.creditcode import check_character

from .base import MOMENT
from .operators import OperatorFactory


def credit_code(operator_id: str) -> str:
    """A valid 统一社会信用代码 whose characters 9–17 are `operator_id` (as onboarding derives the OperatorID)."""
    body = f"91110105{operator_id}"
    return body + check_character(body)


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A pending application from the public form (pass `operator=` and an approved status for a decided one)."""

    class Meta:
        model = Application

    reference = factory.Sequence(lambda n: f"SQ{n:010d}")
    applied_operator_id = factory.Sequence(lambda n: f"AP{n:07d}")
    credit_code = factory.LazyAttribute(lambda o: credit_code(o.applied_operator_id))
    legal_name = factory.LazyAttribute(lambda o: f"测试充电科技有限公司{o.applied_operator_id}")
    kind = OperatorKind.OPERATOR
    contact_name = "张三"
    contact_phone = "13900000000"
    service_tel = "400-000-0000"
    base_url = "https://platform.example.com/evcs/v1/"
    station_count = 25
    connector_count = 100
    email = "ops@example.com"
    status = ApplicationStatus.PENDING


class KeyHandoverFactory(factory.django.DjangoModelFactory):
    """The key sets issued on an approved application, not yet shown."""

    class Meta:
        model = KeyHandover

    operator = factory.SubFactory(OperatorFactory)
    application = factory.SubFactory(
        ApplicationFactory,
        operator=factory.SelfAttribute("..operator"),
        applied_operator_id=factory.SelfAttribute("..operator.operator_id"),
        status=ApplicationStatus.APPROVED,
    )
    sealed = factory.LazyFunction(lambda: seal("{}"))


class ConformanceReportFactory(factory.django.DjangoModelFactory):
    """A passed conformance check of one minute with no checks recorded."""

    class Meta:
        model = ConformanceReport

    operator = factory.SubFactory(OperatorFactory)
    started = MOMENT
    finished = factory.LazyAttribute(lambda o: o.started + timedelta(minutes=1))
    passed = True
    checks = factory.LazyFunction(
        lambda: [{"name": "query_token", "title": "获取令牌", "outcome": "passed", "detail": "", "ms": 12, "flag": ""}]
    )
    exchanges = factory.LazyFunction(lambda: [{"id": 1, "interface": "query_token", "ret": 0, "ms": 12}])
