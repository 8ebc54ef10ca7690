"""App config for supervision: what regulators read across the domain (health, data quality, later indicators)."""

from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "apps.supervision"
    verbose_name = "监管"
