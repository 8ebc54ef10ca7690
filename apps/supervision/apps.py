"""App config for supervision: what regulators read across the domain (health, data quality, later indicators)."""

from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "apps.supervision"
    verbose_name = "监管"

    def ready(self) -> None:
        # Supervision's columns, filters, panels and report in the lower apps' admin, through their extension points.
        from .admin import extend_admin

        extend_admin()
        # The annual assessment's conformance criterion reads onboarding's reports, which indicators may not import.
        from apps.indicators.annual import operator_source
        from apps.onboarding.selectors import conformance_in_year

        operator_source("CONFORMANCE", conformance_in_year)
