"""App config for the operator-platform simulator (its own process and state; never the portal's database)."""

from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "apps.simulator"
    verbose_name = "运营商平台模拟器"
