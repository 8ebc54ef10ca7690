"""Onboarding reads: where an application stands, an operator's latest conformance report, the actions a person may
take on an operator."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.urls import reverse
from django.utils import timezone

from apps.core.roles import scope_of
from apps.operators.models import Operator

from .choices import ApplicationStatus
from .models import Application, ConformanceReport


def application_overview(application: Application) -> dict[str, Any]:
    """What the applicant may see: the decision, and once approved, the operator's state and last conformance."""
    report = None
    if application.applied_operator_id and application.status == ApplicationStatus.APPROVED:
        report = (
            ConformanceReport.objects.filter(operator_id=application.applied_operator_id).order_by("-started").first()
        )
    operator = application.operator
    return {
        "application": application,
        "operator_status": operator.get_status_display() if operator else None,
        "report": report,
    }


def onboarding_links(user: Any, operator: Operator) -> dict[str, str]:
    """The onboarding actions a person may take on an operator, for its page and the manager's home."""
    links = {}
    if user.has_perm("onboarding.run_conformance"):
        links["run_conformance"] = reverse("admin:onboarding_conformancereport_run", args=[operator.pk])
    if user.has_perm("onboarding.enter_outbound_keys") and scope_of(user).covers(operator.pk):
        links["outbound_keys"] = reverse("admin:onboarding_outbound_keys", args=[operator.pk])
    return links


def conformance_in_year(year: int, operator_ids: list[str]) -> dict[str, float | None]:
    """The annual assessment's CONFORMANCE per operator: 100 if its latest conformance report started before the end
    of `year` passed, 0 if it failed, None if it never ran one."""
    end = timezone.make_aware(datetime.combine(date(year + 1, 1, 1), time.min))
    latest: dict[str, float | None] = dict.fromkeys(operator_ids)
    reports = (
        ConformanceReport.objects.filter(operator_id__in=operator_ids, started__lt=end)
        .order_by("operator_id", "-started")
        .values_list("operator_id", "passed")
    )
    for operator_id, passed in reports:
        if latest[operator_id] is None:
            latest[operator_id] = 100.0 if passed else 0.0
    return latest
