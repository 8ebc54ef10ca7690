"""Onboarding reads: where an application stands, an operator's latest conformance report, the actions a person may
take on an operator."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

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
