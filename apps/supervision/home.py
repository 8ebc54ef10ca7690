"""What a person's admin home shows before the list of sections: for an operator's account manager, their own
operator's health, data quality and rejected records first, then their applications and conformance reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from apps.core.conf import conf
from apps.core.replica import replica_lag
from apps.core.roles import scope_of
from apps.indicators.views import operator_panel
from apps.interconnect.models import RejectedRecord
from apps.onboarding.models import Application, ConformanceReport
from apps.onboarding.selectors import onboarding_links
from apps.operators.models import Operator

from .dashboard import dashboard
from .health import with_health
from .selectors import TARGET, correctness

HOME_DAYS = 30  # the correctness figure on the home page covers the last 30 Beijing days
RECENT_REJECTIONS = 10


def home_context(request: HttpRequest) -> dict[str, Any]:
    """Extra context for the admin index: the title, and for an operator manager their operator's overview."""
    user = request.user
    figures: dict[str, Any] = {"dashboard": dashboard(user)} if user.is_authenticated else {}
    # Read afresh on every visit (the figures are cached, their delay is not): the regulator sees how old they are.
    lag = replica_lag()
    if lag is not None and lag.seconds > conf().supervision.replica_lag_warn_seconds:
        figures["replica_lag"] = lag
    operator_id = scope_of(user).operator_id  # None for the city's roles
    if operator_id is None:
        return figures
    operator = with_health(Operator.objects.for_user(user).filter(pk=operator_id)).first()
    if operator is None:
        return figures
    today = timezone.localdate()
    figure = correctness(operator_id, today - timedelta(days=HOME_DAYS - 1), today)
    rejected = RejectedRecord.objects.for_user(user).filter(operator_id=operator_id)
    return {
        **figures,
        "title": f"运营商工作台 · {operator.operator_name}",
        "operator_home": {
            "operator": operator,
            "operator_url": reverse("admin:operators_operator_change", args=[operator_id]),
            "correctness": figure,
            "target": TARGET,
            "days": HOME_DAYS,
            "rejected_total": rejected.count(),
            "rejected_recent": list(rejected.order_by("-created")[:RECENT_REJECTIONS]),
            "rejected_url": reverse("admin:interconnect_rejectedrecord_changelist"),
            "quality_url": reverse("admin:interconnect_rejectedrecord_quality"),
            "links": onboarding_links(user, operator),
            "applications": list(Application.objects.for_user(user).order_by("-created")[:3]),
            "reports": list(ConformanceReport.objects.for_user(user).order_by("-started")[:3]),
            "indicators": operator_panel(request, operator),
        },
    }
