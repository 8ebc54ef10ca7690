"""Onboarding reads: where an application stands, and an operator's latest conformance report."""

from __future__ import annotations

from typing import Any

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
