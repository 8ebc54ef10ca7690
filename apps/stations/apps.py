"""App config for stations."""

from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "apps.stations"
    verbose_name = "充电设施"
