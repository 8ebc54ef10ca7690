"""Writes owned by core: the role groups and their permissions."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from .roles import OPERATOR_MANAGER, PLATFORM_ADMIN, REGULATOR

DOMAIN_APPS = (
    "operators", "stations", "pricing", "orders", "settlement", "drivers", "charging", "interconnect", "onboarding",
    "indicators",
)  # fmt: skip
# Settling a dispute is a decision on the record, not an edit of operator data: both sides of it may take it.
RESOLVE_DISPUTES = Q(content_type__app_label="settlement", codename="resolve_dispute")
# Confirming a statement is both sides agreeing the figures; recording the payment is the city platform's alone.
CONFIRM_STATEMENTS = Q(content_type__app_label="settlement", codename="confirm_statement")
PAY_STATEMENTS = Q(content_type__app_label="settlement", codename="pay_statement")
# Onboarding: regulators decide applications; both sides may run the conformance check (the operator's manager on
# their own platform, to get ready); the manager enters the key set their platform issued to the portal.
REVIEW_APPLICATIONS = Q(content_type__app_label="onboarding", codename="review_application")
RUN_CONFORMANCE = Q(content_type__app_label="onboarding", codename="run_conformance")
ENTER_OUTBOUND_KEYS = Q(content_type__app_label="onboarding", codename="enter_outbound_keys")

# Indicators: a regulator grants exemptions and sets the reward schemes (quarterly and annual); an operator's
# manager declares their maintenance windows ahead.
GRANT_EXEMPTIONS = Q(
    content_type__app_label="indicators",
    codename__in=[
        "add_exemption",
        "change_exemption",
        "add_rewardscheme",
        "change_rewardscheme",
        "add_annualscheme",
        "change_annualscheme",
    ],
)
DECLARE_MAINTENANCE = Q(
    content_type__app_label="indicators", codename__in=["add_maintenancewindow", "change_maintenancewindow"]
)


OPERATOR_MANAGER_HIDDEN = [
    f"{action}_{model}"
    for model in ("operatorkeyset", "accesstoken", "peertoken", "seenenvelope", "exchange")
    for action in ("view", "export")
]
# Hidden from operator managers in onboarding: the sealed handovers are the reviewing regulator's.
OPERATOR_MANAGER_HIDDEN_ONBOARDING = ["view_keyhandover", "export_keyhandover"]


def _domain(q: Q) -> Q:
    return Q(content_type__app_label__in=DOMAIN_APPS) & q


ROLE_PERMISSIONS: dict[str, Q] = {
    # Regulators browse and export the whole city and manage operators' lifecycle; they never edit operator data.
    REGULATOR: _domain(Q(codename__startswith="view_") | Q(codename__startswith="export_"))
    | Q(content_type__app_label="operators", codename="change_operator")
    | RESOLVE_DISPUTES
    | CONFIRM_STATEMENTS
    | PAY_STATEMENTS
    | REVIEW_APPLICATIONS
    | RUN_CONFORMANCE
    | GRANT_EXEMPTIONS,
    # An operator's account manager sees and exports their own operator's rows (the scope rule narrows them).
    OPERATOR_MANAGER: (
        _domain(Q(codename__startswith="view_") | Q(codename__startswith="export_"))
        & ~Q(codename__in=["view_operatoraccount"])
        # The portal's own machinery (its key sets, tokens, replay guard and message journal) is the city's; the
        # operator's staff see what came of their data: sync runs, rejected records, the quality report.
        & ~Q(content_type__app_label="interconnect", codename__in=OPERATOR_MANAGER_HIDDEN)
        & ~Q(content_type__app_label="onboarding", codename__in=OPERATOR_MANAGER_HIDDEN_ONBOARDING)
        # Drivers are the city platform's customers, not the operator's.
        & ~Q(content_type__app_label="drivers")
    )
    | RESOLVE_DISPUTES
    | CONFIRM_STATEMENTS
    | RUN_CONFORMANCE
    | ENTER_OUTBOUND_KEYS
    | DECLARE_MAINTENANCE,
    # Platform admins run the portal: everything in the domain apps, imports included, plus user management.
    PLATFORM_ADMIN: _domain(Q()) | Q(content_type__app_label="auth", codename__in=[
        "add_user", "change_user", "view_user", "view_group",
    ]),
}  # fmt: skip


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Create the role groups and set exactly their permissions; safe to run any number of times."""
    counts = {}
    for name, query in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = list(Permission.objects.filter(query))
        group.permissions.set(permissions)
        counts[name] = len(permissions)
    return counts
