"""App config for operators."""

from django.apps import AppConfig


class OperatorsConfig(AppConfig):
    name = "apps.operators"
    verbose_name = "运营商"
