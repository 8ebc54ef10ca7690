"""App config for demo: the demo data, the live demo and the exchange benchmark (portal and simulators together)."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "apps.demo"
    verbose_name = "演示"
