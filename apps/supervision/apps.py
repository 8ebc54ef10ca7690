"""App config for supervision: what regulators read across the domain (health, data quality, later indicators)."""

from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "apps.supervision"
    verbose_name = "监管"

    def ready(self) -> None:
        # Supervision's columns, filters, panels and report in the lower apps' admin, through their extension points.
        from .admin import extend_admin

        extend_admin()
